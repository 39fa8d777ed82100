// Tensor checks shared by the registration glues of every op: the host TFLite glue
// (custom_ops/tflite/) and the TFLite Micro glue (custom_ops/tflm/) describe each input
// as a TensorView and report through a Reporter, so the checks and their messages are
// written once (what each glue does differently: how it reaches a tensor, and whether
// it can resize the output).  Compiled into each glue's build with that build's
// include path; it uses only TfLiteType from the TFLite C headers.
#ifndef KE_TENSOR_CHECK_H_
#define KE_TENSOR_CHECK_H_

#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/core/c/c_api_types.h"

namespace ke_glue {

// What a check needs to know about one tensor.
struct TensorView {
  TfLiteType type = kTfLiteNoType;
  int rank = 0;
  const int* dims = nullptr;   // rank entries
  const void* data = nullptr;
  bool constant = false;       // read-only model data
  bool per_tensor_quant = false;  // affine quantization with one scale
  float scale = 0.0f;
  int32_t zero_point = 0;
};

// Where messages go: TF_LITE_KERNEL_LOG on the host, MicroPrintf on TFLM.  `vlog` formats
// with its host's own formatter (TFLM's MicroVsnprintf on the board: no libc printf in
// the firmware) and prints "<op>: <message>" as one line.
struct Reporter {
  void (*vlog)(void* ctx, const char* op, const char* format, va_list args);
  void* ctx;
  const char* op;
  // Prints "<op>: <message>" and returns false (so checks read `return r.Fail(...)`).
  bool Fail(const char* format, ...) const;
};

const char* TypeName(TfLiteType type);
int64_t NumElements(const TensorView& t);

// A constant input of `type`, rank 1 ([d0]) or 2 ([d0, d1]); d0 < 0: any length.
bool CheckConst(const Reporter& r, const TensorView& t, int input, const char* name,
                TfLiteType type, int d0, int d1 = -1);

// One compressed-rows matrix (ke_sparse.h) at inputs first..first+2 (values, index,
// offsets) with `rows` rows and `cols` columns; names[] are the op's input names.
bool CheckSparse(const Reporter& r, const TensorView* inputs, int first,
                 const char* const* names, int rows, int cols, TfLiteType value_type);

// A node with exactly one output and at least one input, every input and the output
// present (index in 0..num_tensors-1; optional inputs, index -1, are not supported).
bool CheckNodeIo(const Reporter& r, int num_inputs, const int* input_indices, int num_outputs,
                 const int* output_indices, int64_t num_tensors);

// The same on a node's TfLiteIntArray lists, which a corrupt model can leave null.
template <typename IntArray>
bool CheckNodeIo(const Reporter& r, const IntArray* inputs, const IntArray* outputs,
                 int64_t num_tensors) {
  return CheckNodeIo(r, inputs ? inputs->size : 0, inputs ? inputs->data : nullptr,
                     outputs ? outputs->size : 0, outputs ? outputs->data : nullptr,
                     num_tensors);
}

// An int8 activation (input or output) with per-tensor quantization: scale > 0 and
// the zero point in int8.
bool CheckInt8Activation(const Reporter& r, const TensorView& t, const char* what);

}  // namespace ke_glue

#endif  // KE_TENSOR_CHECK_H_
