#include "micro/harness/ke_model_check.h"

#include <cstdint>

#include "flatbuffers/flatbuffers.h"
#include "tensorflow/lite/core/api/flatbuffer_conversions.h"
#include "tensorflow/lite/micro/memory_helpers.h"
#include "tensorflow/lite/micro/micro_interpreter.h"  // TFLITE_SCHEMA_VERSION
#include "tensorflow/lite/micro/micro_log.h"

namespace ke_micro {
namespace {

// Tensors larger than this are rejected: no board (nor the host arena) holds them, and
// TFLM computes element counts in `int`, which such shapes would overflow.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 30;

// Every index in `v` lies in [lowest, n) (lowest -1: an optional input may be absent).
bool IndicesInRange(const flatbuffers::Vector<int32_t>* v, int64_t lowest, int64_t n,
                    const char* what, unsigned subgraph, int op) {
  if (v == nullptr) return true;
  for (unsigned i = 0; i < v->size(); ++i) {
    const int32_t t = v->Get(i);
    if (t < lowest || t >= n) {
      MicroPrintf("model: subgraph %u %s %d: tensor index %d out of range (%d tensors)",
                  subgraph, what, op, static_cast<int>(t), static_cast<int>(n));
      return false;
    }
  }
  return true;
}

// One tensor: its buffer index, shape, type, constant data size and quantization
// parameters (per-channel arrays sized by the quantized dimension), which TFLM's allocator
// and the builtin kernels read without checking.
bool TensorIsSane(const tflite::Tensor* t, unsigned subgraph, unsigned index,
                  const flatbuffers::Vector<flatbuffers::Offset<tflite::Buffer>>* buffers) {
  if (t == nullptr) {
    MicroPrintf("model: subgraph %u tensor %u is missing", subgraph, index);
    return false;
  }
  const unsigned num_buffers = buffers == nullptr ? 0 : buffers->size();
  if (t->buffer() >= num_buffers) {
    MicroPrintf("model: subgraph %u tensor %u uses buffer %u of %u", subgraph, index,
                static_cast<unsigned>(t->buffer()), num_buffers);
    return false;
  }
  int64_t elements = 1;
  const int rank = t->shape() == nullptr ? 0 : static_cast<int>(t->shape()->size());
  for (int d = 0; d < rank; ++d) {
    const int32_t dim = t->shape()->Get(d);
    if (dim < 0 || (dim > 0 && elements > kMaxTensorBytes / dim)) {
      MicroPrintf("model: subgraph %u tensor %u has an invalid or too large shape", subgraph,
                  index);
      return false;
    }
    elements *= dim;
  }
  TfLiteType type;
  size_t type_size = 0;
  if (tflite::ConvertTensorType(t->type(), &type) != kTfLiteOk ||
      tflite::TfLiteTypeSizeOf(type, &type_size) != kTfLiteOk) {
    MicroPrintf("model: subgraph %u tensor %u has an unsupported type (%d)", subgraph, index,
                static_cast<int>(t->type()));
    return false;
  }
  const int64_t bytes = elements * static_cast<int64_t>(type_size);
  if (bytes > kMaxTensorBytes) {
    MicroPrintf("model: subgraph %u tensor %u needs %ld bytes", subgraph, index,
                static_cast<long>(bytes));
    return false;
  }
  const tflite::Buffer* buffer = buffers->Get(t->buffer());
  const size_t data_size =
      (buffer != nullptr && buffer->data() != nullptr) ? buffer->data()->size() : 0;
  // int4 data is packed two values a byte; every other type is stored whole.
  const int64_t needed = type == kTfLiteInt4 ? (elements + 1) / 2 : bytes;
  if (data_size > 0 && static_cast<int64_t>(data_size) < needed) {
    MicroPrintf("model: subgraph %u tensor %u holds %u bytes of data but its shape needs %ld",
                subgraph, index, static_cast<unsigned>(data_size), static_cast<long>(needed));
    return false;
  }
  const tflite::QuantizationParameters* q = t->quantization();
  if (q != nullptr && q->scale() != nullptr && q->scale()->size() > 1) {
    const int qd = q->quantized_dimension();
    const unsigned channels = q->scale()->size();
    if (qd < 0 || qd >= rank || static_cast<unsigned>(t->shape()->Get(qd)) != channels ||
        (q->zero_point() != nullptr && q->zero_point()->size() != channels &&
         q->zero_point()->size() > 1)) {
      MicroPrintf("model: subgraph %u tensor %u: %u per-channel scales do not match its "
                  "quantized dimension %d", subgraph, index, channels, qd);
      return false;
    }
  }
  return true;
}

// Whether tensor `t` of `g` has constant data in the model.
bool IsConstant(const tflite::SubGraph* g, int32_t t,
                const flatbuffers::Vector<flatbuffers::Offset<tflite::Buffer>>* buffers) {
  const tflite::Buffer* b = buffers->Get(g->tensors()->Get(t)->buffer());
  return b != nullptr && b->data() != nullptr && b->data()->size() > 0;
}

// No tensor written at run time (an operator output, a subgraph input) may be constant:
// TFLM would write into the model's data, which other tensors may share and which Prepare
// has validated (e.g. a compressed matrix's row offsets).
bool WrittenTensorsAreNotConstant(const tflite::SubGraph* g, unsigned s,
                                  const flatbuffers::Vector<int32_t>* v,
                                  const flatbuffers::Vector<flatbuffers::Offset<tflite::Buffer>>* buffers) {
  for (unsigned i = 0; v != nullptr && i < v->size(); ++i) {
    if (IsConstant(g, v->Get(i), buffers)) {
      MicroPrintf("model: subgraph %u tensor %d is written at run time but holds constant data",
                  s, static_cast<int>(v->Get(i)));
      return false;
    }
  }
  return true;
}

// Every index the interpreter follows: op codes, operator and subgraph tensor lists,
// tensors' buffers; and each tensor (TensorIsSane).
bool ModelIsSane(const tflite::Model* model) {
  const unsigned num_codes = model->operator_codes() ? model->operator_codes()->size() : 0;
  for (unsigned s = 0; s < model->subgraphs()->size(); ++s) {
    const tflite::SubGraph* g = model->subgraphs()->Get(s);
    if (g == nullptr || g->tensors() == nullptr) {  // TFLM reads tensors() unchecked
      MicroPrintf("model: subgraph %u or its tensor list is missing", s);
      return false;
    }
    const int64_t n = g->tensors() ? g->tensors()->size() : 0;
    for (unsigned i = 0; i < n; ++i) {
      if (!TensorIsSane(g->tensors()->Get(i), s, i, model->buffers())) return false;
    }
    if (!IndicesInRange(g->inputs(), 0, n, "input", s, 0) ||
        !IndicesInRange(g->outputs(), 0, n, "output", s, 0) ||
        !WrittenTensorsAreNotConstant(g, s, g->inputs(), model->buffers()))
      return false;
    const unsigned num_ops = g->operators() ? g->operators()->size() : 0;
    for (unsigned i = 0; i < num_ops; ++i) {
      const tflite::Operator* op = g->operators()->Get(i);
      if (op == nullptr || op->opcode_index() >= num_codes ||
          model->operator_codes()->Get(op->opcode_index()) == nullptr) {
        MicroPrintf("model: subgraph %u operator %u has no valid op code (%u codes)", s, i,
                    num_codes);
        return false;
      }
      // Kernels read node->inputs/outputs without a null check.
      if (op->inputs() == nullptr || op->outputs() == nullptr) {
        MicroPrintf("model: subgraph %u operator %u has no input or output list", s, i);
        return false;
      }
      if (!IndicesInRange(op->inputs(), -1, n, "operator", s, static_cast<int>(i)) ||
          !IndicesInRange(op->outputs(), 0, n, "operator", s, static_cast<int>(i)) ||
          !IndicesInRange(op->intermediates(), -1, n, "operator", s, static_cast<int>(i)) ||
          !WrittenTensorsAreNotConstant(g, s, op->outputs(), model->buffers()))
        return false;
    }
  }
  return true;
}

}  // namespace

const tflite::Model* LoadVerifiedModel(const void* buffer, size_t length) {
  if (buffer == nullptr || length < 8) {
    MicroPrintf("model: %u bytes is too short to be a .tflite flatbuffer",
                static_cast<unsigned>(length));
    return nullptr;
  }
  if (reinterpret_cast<uintptr_t>(buffer) % 4 != 0) {
    MicroPrintf("model: buffer must be 4-byte aligned (TFLM reads it in place)");
    return nullptr;
  }
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  if (!tflite::ModelBufferHasIdentifier(bytes)) {
    MicroPrintf("model: missing the 'TFL3' file identifier; not a .tflite model");
    return nullptr;
  }
  flatbuffers::Verifier verifier(bytes, length);
  if (!tflite::VerifyModelBuffer(verifier)) {
    MicroPrintf("model: flatbuffer verification failed (truncated or corrupt .tflite)");
    return nullptr;
  }
  const tflite::Model* model = tflite::GetModel(bytes);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("model: schema version %u, this TFLM supports %d",
                static_cast<unsigned>(model->version()), TFLITE_SCHEMA_VERSION);
    return nullptr;
  }
  if (model->subgraphs() == nullptr || model->subgraphs()->size() == 0) {
    MicroPrintf("model: has no subgraphs");
    return nullptr;
  }
  if (model->buffers() == nullptr || !ModelIsSane(model)) return nullptr;
  return model;
}

}  // namespace ke_micro
