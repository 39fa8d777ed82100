// What both generic registration glues share (the host TFLite op, custom_ops/tflite/ke_op.cc,
// and the TFLite Micro op, custom_ops/tflm/ke_op.cc): a node's options parsed against its
// op's table (custom_ops/core/ke_op.h), the node's input/output index checks, and the
// parts of Prepare that do not depend on how a host reaches its tensors.  Each glue only
// translates its tensors into ke_tensor, allocates memory and keeps its state.
//
// Compiled into each glue's build with that build's include path (flexbuffers and the
// TFLite C types of the TensorFlow wheel on the host, of the TFLM tree on the MCU).
#ifndef KE_OP_GLUE_H_
#define KE_OP_GLUE_H_

#include <cstddef>
#include <cstdint>

#include "../core/ke_op.h"
#include "tensorflow/lite/core/c/c_api_types.h"

namespace ke_glue {

// A node's options, as Init parses them (Init cannot fail with a reason: Prepare reports
// `error`, formatted with the option's key and range).
struct NodeOptions {
  int32_t values[KE_OP_MAX_OPTIONS] = {};
  const char* error = nullptr;  // printf format: key, min, max
  int error_option = -1;
  // The op version the exporter wrote (option `version`) when it is not the one this build
  // runs (the manifest's, custom_ops/ops.def): the model's inputs or options have another
  // layout, so Prepare refuses it and asks for a re-export. 0: no mismatch.
  int32_t model_version = 0, build_version = 0;
};

// Parses the flexbuffer map `buffer` against `def`'s option table; `version` is the op's
// version in the manifest (a model without a `version` option is taken as this version).
void ParseOptions(const ke_op_def& def, int32_t version, const char* buffer, size_t length,
                  NodeOptions* out);

// Reports a parse error (with its option's key and range); false if there is one.
bool CheckOptions(const ke_reporter& r, const ke_op_def& def, const NodeOptions& options);

ke_dtype DType(TfLiteType type);

// A node with exactly one output and at least one input, every input and the output
// present (index in 0..num_tensors-1; optional inputs, index -1, are not supported).
bool CheckNodeIo(const ke_reporter& r, int num_inputs, const int* input_indices,
                 int num_outputs, const int* output_indices, int64_t num_tensors);

// The same on a node's TfLiteIntArray lists, which a corrupt model can leave null.
template <typename IntArray>
bool CheckNodeIo(const ke_reporter& r, const IntArray* inputs, const IntArray* outputs,
                 int64_t num_tensors) {
  return CheckNodeIo(r, inputs ? inputs->size : 0, inputs ? inputs->data : nullptr,
                     outputs ? outputs->size : 0, outputs ? outputs->data : nullptr,
                     num_tensors);
}

}  // namespace ke_glue

#endif  // KE_OP_GLUE_H_
