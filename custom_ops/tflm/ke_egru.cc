// TFLite Micro registration glue of the custom op KE_EGRU (event-based GRU; contract in
// custom_ops/README.md, math in custom_ops/core/ke_egru.c, checks shared with the host
// TFLite op in custom_ops/glue/ke_egru_glue.h).
//
// Init parses the flexbuffer options into persistent OpData; Prepare runs the shared checks
// of every input's type, shape and quantization and allocates the persistent recurrent
// state, the int8 multipliers and a scratch buffer in the arena (TFLM allows no heap); Eval
// calls the core. Everything that can be wrong with a model is caught in Init/Prepare,
// which print a reason and fail AllocateTensors; Eval never reads unchecked data.
//
// Streaming: with option `streaming` = true (or, when the option is absent, a model whose
// input has time = 1, i.e. one frame per invoke) the state is kept between invokes, so
// feeding a sequence frame by frame equals running it whole. MicroInterpreter::Reset()
// zeroes it (the `reset` callback). Otherwise every invoke starts each sequence from zero,
// like the host op.
#include <cstdarg>
#include <cstdint>
#include <new>

#include "../core/ke_egru.h"
#include "../glue/ke_egru_glue.h"
#include "ke_project_ops.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

namespace ke_micro {
namespace {

using namespace ke_glue;  // the op's inputs, options and checks (custom_ops/glue/)

// Returns the status of `expr` if it failed (the callee has printed why).
#define KE_TRY(expr)                              \
  do {                                            \
    const TfLiteStatus ke_status_ = (expr);       \
    if (ke_status_ != kTfLiteOk) return ke_status_; \
  } while (0)

struct OpData {
  const char* options_error = nullptr;  // set by Init, reported by Prepare
  EgruOptions options;
  // Set by Prepare.
  EgruShape shape;
  int scratch_index;
  EgruInt8Consts q;  // q.unit_consts: [U][KE_EGRU_UNIT_WORDS], see ke_egru_i8_params
  void* c_hat;    // int16 Q0.15 or float [U]
  void* y;        // int8 or float [U]
  int16_t* active;
  int32_t n_active;
};

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (data == nullptr) return nullptr;
  new (data) OpData();  // value-initialized: every field zero or its default
  data->options_error = ParseEgruOptions(buffer, length, KE_EGRU_MAX_UNITS, &data->options);
  return data;
}

void Log(void*, const char* op, const char* format, va_list args) {
  char message[200];
  MicroVsnprintf(message, sizeof(message), format, args);
  MicroPrintf("%s: %s", op, message);
}

const Reporter kReporter = {Log, nullptr, "KE_EGRU"};

// Holds the temporary TfLiteTensors of Prepare and frees them on every exit path.
class TempInputs {
 public:
  TempInputs(TfLiteContext* context, TfLiteNode* node)
      : mc_(tflite::GetMicroContext(context)), node_(node) {}
  ~TempInputs() {
    for (int i = 0; i < kInt8Inputs + 1; ++i) {
      if (t_[i] != nullptr) mc_->DeallocateTempTfLiteTensor(t_[i]);
    }
  }
  TfLiteTensor* input(int i) {
    if (t_[i] == nullptr) t_[i] = mc_->AllocateTempInputTensor(node_, i);
    return t_[i];
  }
  TfLiteTensor* output() {
    if (t_[kInt8Inputs] == nullptr) t_[kInt8Inputs] = mc_->AllocateTempOutputTensor(node_, 0);
    return t_[kInt8Inputs];
  }

 private:
  tflite::MicroContext* mc_;
  TfLiteNode* node_;
  TfLiteTensor* t_[kInt8Inputs + 1] = {};
};

TensorView View(const TfLiteTensor& t) {
  TensorView v;
  v.type = t.type;
  v.rank = t.dims->size;
  v.dims = t.dims->data;
  v.data = t.data.raw;
  v.constant = t.allocation_type == kTfLiteMmapRo;
  v.per_tensor_quant = true;  // TFLM keeps the per-tensor parameters in params
  v.scale = t.params.scale;
  v.zero_point = t.params.zero_point;
  return v;
}

void ResetState(OpData* d) {
  // Init may have failed (null op data) and Prepare may not have run or have failed:
  // the state is complete only when all three buffers are set.
  if (d == nullptr || d->c_hat == nullptr || d->y == nullptr || d->active == nullptr) return;
  if (d->shape.is_int8) {
    ke_egru_i8_state s = {static_cast<int16_t*>(d->c_hat), static_cast<int8_t*>(d->y),
                          d->active, 0};
    ke_egru_i8_reset(&s, d->options.units, d->q.y_zero_point);
  } else {
    ke_egru_f32_state s = {static_cast<float*>(d->c_hat), static_cast<float*>(d->y), d->active, 0};
    ke_egru_f32_reset(&s, d->options.units);
  }
  d->n_active = 0;
}

// Runs the shared checks on TFLM's temporary tensors (freed on return). The views keep
// what Prepare needs afterwards: data pointers into the model's constant buffers (stable)
// and the quantization parameters. No persistent allocation may happen while the temporary
// tensors are held: TFLM places persistent buffers from the arena tail and does not protect
// temporary allocations, so a nearly full arena would overwrite them.
TfLiteStatus Validate(TfLiteContext* context, TfLiteNode* node, OpData* d, TensorView* in,
                      TensorView* out) {
  if (!CheckNodeIo(kReporter, node->inputs, node->outputs, INT32_MAX))
    return kTfLiteError;
  TempInputs temp(context, node);
  const int n = node->inputs->size < kInt8Inputs ? node->inputs->size : kInt8Inputs;
  for (int i = 0; i < n; ++i) {
    const TfLiteTensor* t = temp.input(i);
    if (t == nullptr) return kReporter.Fail("cannot access input %d.", i), kTfLiteError;
    in[i] = View(*t);
  }
  const TfLiteTensor* y = temp.output();
  if (y == nullptr) return kReporter.Fail("cannot access the output tensor."), kTfLiteError;
  *out = View(*y);
  return ValidateEgru(kReporter, d->options_error, d->options, in, node->inputs->size, *out,
                      /*output_shape_fixed=*/true, &d->shape)
             ? kTfLiteOk
             : kTfLiteError;
}

// Validates, then allocates the persistent state, multipliers and scratch in the arena.
TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  auto* d = static_cast<OpData*>(node->user_data);
  if (d == nullptr) {
    MicroPrintf("KE_EGRU: arena too small for the op data.");
    return kTfLiteError;
  }
  TensorView in[kInt8Inputs];
  TensorView out;
  KE_TRY(Validate(context, node, d, in, &out));
  const int32_t units = d->options.units;
  const bool is_int8 = d->shape.is_int8;
  const size_t state_bytes = is_int8 ? sizeof(int16_t) : sizeof(float);
  const size_t y_bytes = is_int8 ? sizeof(int8_t) : sizeof(float);
  // A failed or repeated Prepare must not leave a state sized for other options behind.
  d->c_hat = d->y = nullptr;
  d->active = nullptr;
  void* c_hat = context->AllocatePersistentBuffer(context, state_bytes * units);
  void* y = context->AllocatePersistentBuffer(context, y_bytes * units);
  auto* active = static_cast<int16_t*>(context->AllocatePersistentBuffer(context, sizeof(int16_t) * units));
  if (c_hat == nullptr || y == nullptr || active == nullptr) {
    MicroPrintf("KE_EGRU: arena too small for the recurrent state (%d units).",
                static_cast<int>(units));
    return kTfLiteError;
  }
  const size_t scratch = is_int8 ? KE_EGRU_I8_SCRATCH(units) * sizeof(int32_t)
                                 : KE_EGRU_F32_SCRATCH(units) * sizeof(float);
  KE_TRY(context->RequestScratchBufferInArena(context, scratch, &d->scratch_index));
  if (is_int8) {
    d->q.unit_consts = static_cast<int32_t*>(
        context->AllocatePersistentBuffer(context, sizeof(int32_t) * KE_EGRU_UNIT_WORDS * units));
    if (d->q.unit_consts == nullptr) {
      MicroPrintf("KE_EGRU: arena too small for the requantization multipliers.");
      return kTfLiteError;
    }
    if (!PrepareEgruInt8(kReporter, d->options, d->shape, in, out, &d->q)) return kTfLiteError;
  }
  d->c_hat = c_hat;
  d->y = y;
  d->active = active;
  ResetState(d);
  return kTfLiteOk;
}

// Input i's data (Eval reads the eval tensors, as TFLM kernels do).
struct EvalData {
  TfLiteContext* context;
  TfLiteNode* node;
  const void* operator()(int i) const {
    return tflite::micro::GetTensorData<void>(tflite::micro::GetEvalInput(context, node, i));
  }
};

TfLiteStatus EvalInt8(TfLiteContext* context, TfLiteNode* node, OpData* d, int8_t* out,
                      int32_t* scratch, uint64_t* macs) {
  const ke_egru_i8_params p = EgruInt8Params(EvalData{context, node}, d->shape, d->options, d->q);
  const int8_t* x = static_cast<const int8_t*>(EvalData{context, node}(kX));
  ke_egru_i8_state s = {static_cast<int16_t*>(d->c_hat), static_cast<int8_t*>(d->y), d->active,
                        d->n_active};
  const bool rs = d->options.return_sequences;
  if (!d->shape.streaming) {
    ke_egru_i8_run(&p, x, d->shape.batch, d->shape.time, rs, out, &s, scratch, macs);
    return kTfLiteOk;
  }
  ke_egru_i8_continue(&p, x, d->shape.time, rs, out, &s, scratch, macs);
  d->n_active = s.n_active;  // the active list is part of the carried state
  return kTfLiteOk;
}

TfLiteStatus EvalFloat(TfLiteContext* context, TfLiteNode* node, OpData* d, float* out,
                       float* scratch, uint64_t* macs) {
  const ke_egru_f32_params p = EgruFloatParams(EvalData{context, node}, d->shape, d->options);
  const float* x = static_cast<const float*>(EvalData{context, node}(kX));
  ke_egru_f32_state s = {static_cast<float*>(d->c_hat), static_cast<float*>(d->y), d->active,
                         d->n_active};
  if (!d->shape.streaming) {
    ke_egru_f32_run(&p, x, d->shape.batch, d->shape.time, d->options.return_sequences, out, &s,
                    scratch, macs);
    return kTfLiteOk;
  }
  ke_egru_f32_continue(&p, x, d->shape.time, d->options.return_sequences, out, &s, scratch, macs);
  d->n_active = s.n_active;
  return kTfLiteOk;
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  auto* d = static_cast<OpData*>(node->user_data);
  TfLiteEvalTensor* y = tflite::micro::GetEvalOutput(context, node, 0);
  void* scratch = context->GetScratchBuffer(context, d->scratch_index);
  if (y == nullptr || scratch == nullptr) {
    MicroPrintf("KE_EGRU: output or scratch buffer missing.");
    return kTfLiteError;
  }
  uint64_t macs = 0;
  const TfLiteStatus status =
      d->shape.is_int8 ? EvalInt8(context, node, d, tflite::micro::GetTensorData<int8_t>(y),
                            static_cast<int32_t*>(scratch), &macs)
                 : EvalFloat(context, node, d, tflite::micro::GetTensorData<float>(y),
                             static_cast<float*>(scratch), &macs);
  AddMacs(macs);
  return status;
}

void Reset(TfLiteContext*, void* buffer) { ResetState(static_cast<OpData*>(buffer)); }

}  // namespace

const TFLMRegistration* Register_KE_EGRU() {
  static const TFLMRegistration registration =
      tflite::micro::RegisterOp(Init, Prepare, Eval, /*free=*/nullptr, Reset);
  return &registration;
}

}  // namespace ke_micro
