// The host TFLite registration of every op of the native manifest (custom_ops/ops.def):
// one generic Init/Prepare/Eval driven by the op's table (custom_ops/core/ke_op.h), the
// same core code as on the MCU; the host build's flags let the compiler vectorize it.
// Compiled against the full TFLite struct layout (no TF_LITE_STATIC_MEMORY).
//
// Each manifest line NAME yields `extern "C" const TfLiteRegistration* NAME_Registration()`
// (ke_ops.h), which register.cc adds to the interpreter's resolver.
#include "ke_ops.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "../core/ke_op.h"
#include "../glue/ke_op_glue.h"
#include "ke_op_state.h"

namespace {

using ke_glue::DType;

struct OpData : ke_tflite::StatefulOp {
  const ke_op_def* def = nullptr;
  const char* name = nullptr;
  ke_glue::NodeOptions options;
  ke_plan plan = {};
  bool ready = false;  // Prepare succeeded: persistent memory holds a valid state
  std::vector<uint64_t> persistent, scratch;  // 8-aligned
  void ResetState() override {
    if (ready) def->reset(options.values, &plan, persistent.data());
  }
};

void Log(void* context, const char* op, const char* format, va_list args) {
  char message[256];
  std::vsnprintf(message, sizeof(message), format, args);
  TF_LITE_KERNEL_LOG(static_cast<TfLiteContext*>(context), "%s: %s", op, message);
}

// Per-tensor affine quantization of `t` (one scale), as the checks read it.
ke_tensor View(const TfLiteTensor& t) {
  ke_tensor v = {};
  v.type = DType(t.type);
  v.rank = t.dims->size;
  v.dims = t.dims->data;
  v.data = t.data.raw;
  v.constant = t.allocation_type == kTfLiteMmapRo || t.allocation_type == kTfLitePersistentRo;
  if (t.quantization.type == kTfLiteAffineQuantization && t.quantization.params) {
    const auto* q = static_cast<const TfLiteAffineQuantization*>(t.quantization.params);
    v.per_tensor_quant = q->scale != nullptr && q->scale->size == 1;
    v.scale = v.per_tensor_quant ? q->scale->data[0] : 0.0f;
    v.zero_point = (q->zero_point && q->zero_point->size >= 1) ? q->zero_point->data[0] : 0;
  } else {
    v.per_tensor_quant = 1;
    v.scale = t.params.scale;
    v.zero_point = t.params.zero_point;
  }
  return v;
}

size_t Words(size_t bytes) { return (bytes + 7) / 8; }

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData* d = static_cast<OpData*>(node->user_data);
  if (d == nullptr) {
    TF_LITE_KERNEL_LOG(context, "KE op: out of memory in Init.");
    return kTfLiteError;
  }
  const ke_reporter r = {Log, context, d->name};
  const ke_op_def& def = *d->def;
  d->ready = false;
  if (!ke_glue::CheckOptions(r, def, d->options) ||
      !ke_glue::CheckNodeIo(r, node->inputs, node->outputs,
                            static_cast<int64_t>(context->tensors_size)))
    return kTfLiteError;
  ke_tensor in[KE_OP_MAX_INPUTS] = {};
  const int n = std::min(node->inputs->size, static_cast<int>(def.max_inputs));
  for (int i = 0; i < n; ++i) in[i] = View(context->tensors[node->inputs->data[i]]);
  TfLiteTensor* y = &context->tensors[node->outputs->data[0]];
  const ke_tensor out = View(*y);
  d->plan = {};
  d->plan.target = KE_TARGET_TFLITE;
  if (!def.check(&r, d->options.values, in, node->inputs->size, &out, &d->plan))
    return kTfLiteError;
  d->persistent.assign(Words(d->plan.persistent_bytes), 0);
  d->scratch.assign(Words(d->plan.scratch_bytes), 0);
  if (!def.setup(&r, d->options.values, in, &out, &d->plan, d->persistent.data()))
    return kTfLiteError;
  d->ready = true;

  const int rank = d->plan.output_rank;
  TfLiteIntArray* shape = static_cast<TfLiteIntArray*>(
      std::malloc(sizeof(TfLiteIntArray) + rank * sizeof(int)));  // freed by TFLite
  if (shape == nullptr) return ke_fail(&r, "out of memory."), kTfLiteError;
  shape->size = rank;
  for (int i = 0; i < rank; ++i) shape->data[i] = d->plan.output_dims[i];
  return context->ResizeTensor(context, y, shape);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  OpData* d = static_cast<OpData*>(node->user_data);
  const void* in[KE_OP_MAX_INPUTS];
  const int n = std::min(node->inputs->size, static_cast<int>(d->def->max_inputs));
  bool allocated = d->ready;
  for (int i = 0; i < n; ++i) {
    in[i] = context->tensors[node->inputs->data[i]].data.raw;
    allocated = allocated && in[i] != nullptr;
  }
  void* out = context->tensors[node->outputs->data[0]].data.raw;
  if (!allocated || out == nullptr) {
    TF_LITE_KERNEL_LOG(context, "%s: input or output buffer not allocated.", d->name);
    return kTfLiteError;
  }
  uint64_t macs = 0;
  d->def->eval(d->options.values, &d->plan, d->persistent.data(), in, out, d->scratch.data(),
               &macs);
  ke_tflite::AddMacs(macs);
  return kTfLiteOk;
}

void Free(TfLiteContext*, void* buffer) {
  OpData* d = static_cast<OpData*>(buffer);
  ke_tflite::UnregisterStatefulOp(d);
  delete d;
}

// Init needs to know its op: TFLite passes no registration to it, so one instantiation
// per manifest line.
template <const ke_op_def* Def, const char* const* Name, int Version>
void* Init(TfLiteContext*, const char* buffer, size_t length) {
  OpData* d = new (std::nothrow) OpData();
  if (d == nullptr) return nullptr;
  d->def = Def;
  d->name = *Name;
  ke_glue::ParseOptions(*Def, Version, buffer, length, &d->options);
  ke_tflite::RegisterStatefulOp(d);
  return d;
}

template <const ke_op_def* Def, const char* const* Name, int Version>
const TfLiteRegistration* Registration() {
  static TfLiteRegistration registration = [] {
    TfLiteRegistration r;
    std::memset(&r, 0, sizeof(r));
    r.init = Init<Def, Name, Version>;
    r.free = Free;
    r.prepare = Prepare;
    r.invoke = Eval;
    r.builtin_code = 32;  // BuiltinOperator_CUSTOM
    r.custom_name = *Name;
    r.version = 1;  // the op-code version converters write for custom ops (register.cc)
    return r;
  }();
  return &registration;
}

#define KE_OP(name, version, ...) const char* const kName_##name = #name;
#include "../ops.def"

}  // namespace

extern "C" {

#define KE_OP(name, version, ...)                                                        \
  __attribute__((visibility("default"))) const TfLiteRegistration* name##_Registration( \
      void) {                                                                            \
    return Registration<&ke_op_##name, &kName_##name, version>();                        \
  }
#include "../ops.def"

}  // extern "C"
