// The TFLite Micro registration of every op of the native manifest (custom_ops/ops.def):
// one generic Init/Prepare/Eval/Reset driven by the op's table (custom_ops/core/ke_op.h).
//
// Init parses the flexbuffer options into persistent OpData; Prepare runs the op's checks
// on TFLM's temporary tensors, then allocates the op's persistent memory (state, constants)
// and requests its scratch in the arena (TFLM allows no heap); Eval calls the core.
// Everything that can be wrong with a model is caught in Init/Prepare, which print a
// reason and fail AllocateTensors; Eval never reads unchecked data.
// MicroInterpreter::Reset() zeroes the recurrent state (the `reset` callback).
#include <cstdarg>
#include <cstdint>
#include <new>

#include "../core/ke_op.h"
#include "../glue/ke_op_glue.h"
#include "ke_project_ops.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

// Weak: a firmware compiles only the cores of its model's ops (keras_events._native.board);
// the registration of an op whose core is absent returns null.
extern "C" {
#define KE_OP(name, version, ...) extern const ke_op_def ke_op_##name __attribute__((weak));
#include "../ops.def"
}

namespace ke_micro {
namespace {

struct OpData {
  const ke_op_def* def;
  const char* name;
  ke_glue::NodeOptions options;
  ke_plan plan;
  void* persistent;  // null until a Prepare succeeded
  int scratch_index;
  int num_inputs;
  // Constant inputs' data lives in the model's buffers for the interpreter's lifetime:
  // Prepare records it once; Eval fetches only the others (bit i set: input i varies).
  uint32_t varying;
  const void* data[KE_OP_MAX_INPUTS];
};

void Log(void*, const char* op, const char* format, va_list args) {
  char message[200];
  MicroVsnprintf(message, sizeof(message), format, args);
  MicroPrintf("%s: %s", op, message);
}

ke_tensor View(const TfLiteTensor& t) {
  ke_tensor v = {};
  v.type = ke_glue::DType(t.type);
  v.rank = t.dims->size;
  v.dims = t.dims->data;
  v.data = t.data.raw;
  v.constant = t.allocation_type == kTfLiteMmapRo;
  v.per_tensor_quant = 1;  // TFLM keeps the per-tensor parameters in params
  v.scale = t.params.scale;
  v.zero_point = t.params.zero_point;
  return v;
}

// Holds the temporary TfLiteTensors of Prepare and frees them on every exit path.
class TempTensors {
 public:
  TempTensors(TfLiteContext* context, TfLiteNode* node)
      : mc_(tflite::GetMicroContext(context)), node_(node) {}
  ~TempTensors() {
    for (TfLiteTensor* t : t_) {
      if (t != nullptr) mc_->DeallocateTempTfLiteTensor(t);
    }
  }
  TfLiteTensor* input(int i) { return t_[i] = mc_->AllocateTempInputTensor(node_, i); }
  TfLiteTensor* output() { return t_[KE_OP_MAX_INPUTS] = mc_->AllocateTempOutputTensor(node_, 0); }

 private:
  tflite::MicroContext* mc_;
  TfLiteNode* node_;
  TfLiteTensor* t_[KE_OP_MAX_INPUTS + 1] = {};
};

// Runs the op's checks on TFLM's temporary tensors (freed on return). The views keep what
// setup() may read afterwards: data pointers into the model's constant buffers (stable)
// and the quantization parameters. No persistent allocation may happen while temporary
// tensors are held: TFLM places persistent buffers from the arena tail and does not protect
// temporary allocations, so a nearly full arena would overwrite them.
bool Check(const ke_reporter& r, TfLiteContext* context, TfLiteNode* node, OpData* d,
           ke_tensor* in, ke_tensor* out) {
  const ke_op_def& def = *d->def;
  if (!ke_glue::CheckOptions(r, def, d->options) ||
      !ke_glue::CheckNodeIo(r, node->inputs, node->outputs, INT32_MAX))
    return false;
  TempTensors temp(context, node);
  const int n = node->inputs->size < def.max_inputs ? node->inputs->size : def.max_inputs;
  for (int i = 0; i < n; ++i) {
    const TfLiteTensor* t = temp.input(i);
    if (t == nullptr) return ke_fail(&r, "cannot access input %d.", i) != 0;
    in[i] = View(*t);
  }
  const TfLiteTensor* y = temp.output();
  if (y == nullptr) return ke_fail(&r, "cannot access the output tensor.") != 0;
  *out = View(*y);
  d->plan = {};
  d->plan.target = KE_TARGET_MICRO;
  if (!def.check(&r, d->options.values, in, node->inputs->size, out, &d->plan) ||
      !ke_check_output_shape(&r, out, &d->plan, nullptr))
    return false;
  out->rank = 0;  // the dims belong to the temporary tensor
  out->dims = nullptr;
  for (int i = 0; i < n; ++i) in[i].dims = nullptr, in[i].rank = 0;
  return true;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  auto* d = static_cast<OpData*>(node->user_data);
  if (d == nullptr) {
    MicroPrintf("KE op: arena too small for the op data.");
    return kTfLiteError;
  }
  const ke_reporter r = {Log, nullptr, d->name};
  d->persistent = nullptr;  // a failed or repeated Prepare leaves no stale state behind
  ke_tensor in[KE_OP_MAX_INPUTS] = {};
  ke_tensor out = {};
  if (!Check(r, context, node, d, in, &out)) return kTfLiteError;
  void* persistent = context->AllocatePersistentBuffer(context, d->plan.persistent_bytes);
  if (persistent == nullptr) {
    ke_fail(&r, "arena too small for the op's state (%d bytes).",
            static_cast<int>(d->plan.persistent_bytes));
    return kTfLiteError;
  }
  for (size_t i = 0; i < d->plan.persistent_bytes; ++i) static_cast<char*>(persistent)[i] = 0;
  const TfLiteStatus status =
      context->RequestScratchBufferInArena(context, d->plan.scratch_bytes, &d->scratch_index);
  if (status != kTfLiteOk) return status;
  if (!d->def->setup(&r, d->options.values, in, &out, &d->plan, persistent)) return kTfLiteError;
  d->num_inputs = node->inputs->size < d->def->max_inputs ? node->inputs->size : d->def->max_inputs;
  d->varying = 0;
  for (int i = 0; i < d->num_inputs; ++i) {
    d->data[i] = in[i].constant ? in[i].data : nullptr;
    if (!in[i].constant) d->varying |= 1u << i;
  }
  d->persistent = persistent;
  return kTfLiteOk;
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  auto* d = static_cast<OpData*>(node->user_data);
  if (d->persistent == nullptr) {
    MicroPrintf("%s: Eval before a successful Prepare.", d->name);
    return kTfLiteError;
  }
  for (uint32_t v = d->varying, i = 0; v != 0; v >>= 1, ++i) {
    if (v & 1u) {
      const TfLiteEvalTensor* t = tflite::micro::GetEvalInput(context, node, static_cast<int>(i));
      d->data[i] = t == nullptr ? nullptr : t->data.data;
      if (d->data[i] == nullptr) {
        MicroPrintf("%s: input %d buffer missing.", d->name, static_cast<int>(i));
        return kTfLiteError;
      }
    }
  }
  TfLiteEvalTensor* y = tflite::micro::GetEvalOutput(context, node, 0);
  void* scratch = context->GetScratchBuffer(context, d->scratch_index);
  if (y == nullptr || scratch == nullptr) {
    MicroPrintf("%s: output or scratch buffer missing.", d->name);
    return kTfLiteError;
  }
  uint64_t macs = 0;
  d->def->eval(d->options.values, &d->plan, d->persistent, d->data,
               tflite::micro::GetTensorData<void>(y), scratch, &macs);
  AddMacs(macs);
  return kTfLiteOk;
}

void Reset(TfLiteContext*, void* buffer) {
  // Init may have failed (null op data) and Prepare may not have run or have failed.
  auto* d = static_cast<OpData*>(buffer);
  if (d != nullptr && d->persistent != nullptr)
    d->def->reset(d->options.values, &d->plan, d->persistent);
}

// Init needs to know its op: TFLM passes no registration to it, so one instantiation per
// manifest line.
template <const ke_op_def* Def, const char* const* Name, int Version>
void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* d = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (d == nullptr) return nullptr;
  new (d) OpData();  // value-initialized: every field zero or its default
  d->def = Def;
  d->name = *Name;
  ke_glue::ParseOptions(*Def, Version, buffer, length, &d->options);
  return d;
}

#define KE_OP(name, version, ...) const char* const kName_##name = #name;
#include "../ops.def"

}  // namespace

#define KE_OP(name, version, ...)                                                   \
  const TFLMRegistration* Register_##name() {                                       \
    if (&ke_op_##name == nullptr) return nullptr;                                   \
    static const TFLMRegistration registration = tflite::micro::RegisterOp(         \
        Init<&ke_op_##name, &kName_##name, version>, Prepare, Eval, /*free=*/nullptr, Reset); \
    return &registration;                                                           \
  }
#include "../ops.def"

}  // namespace ke_micro
