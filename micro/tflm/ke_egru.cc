// TFLite Micro registration glue of the custom op KE_EGRU (event-based GRU; contract in
// custom_ops/README.md, math in custom_ops/core/ke_egru.c, shared with the host TFLite op).
//
// Init parses the flexbuffer options into persistent OpData; Prepare validates every
// input's type, shape and quantization and allocates the persistent recurrent state, the
// int8 multipliers and a scratch buffer in the arena (TFLM allows no heap); Eval calls the
// core. Everything that can be wrong with a model is caught in Init/Prepare, which print a
// reason and fail AllocateTensors; Eval never reads unchecked data.
//
// Streaming: with option `streaming` = true (or, when the option is absent, a model whose
// input has time = 1, i.e. one frame per invoke) the state is kept between invokes, so
// feeding a sequence frame by frame equals running it whole. MicroInterpreter::Reset()
// zeroes it (the `reset` callback). Otherwise every invoke starts each sequence from zero,
// like the host op.
#include <cstdint>
#include <cstring>

#include "ke_egru.h"  // custom_ops/core
#include "custom_ops/glue/ke_egru_options.h"
#include "micro/tflm/ke_project_ops.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

namespace ke_micro {
namespace {

using namespace ke_glue;  // the op's input list (custom_ops/glue/ke_egru_options.h)

// Returns the status of `expr` if it failed (the callee has printed why).
#define KE_TRY(expr)                              \
  do {                                            \
    const TfLiteStatus ke_status_ = (expr);       \
    if (ke_status_ != kTfLiteOk) return ke_status_; \
  } while (0)

uint64_t g_mac_count = 0;  // MACs executed by all KE_EGRU invokes (benchmarks read it)

struct OpData {
  const char* options_error;  // set by Init, reported by Prepare
  int32_t units;
  bool return_sequences;
  int streaming_option;       // -1: absent, 0/1: given
  // Set by Prepare.
  bool is_int8;
  bool streaming;
  int32_t input_size, batch, time;
  int scratch_index;
  int32_t x_zero_point, y_zero_point, acc_shift, y_multiplier, y_shift;
  int32_t* unit_consts;  // [U][KE_EGRU_UNIT_WORDS], see ke_egru_i8_params
  void* c_hat;    // int16 Q0.15 or float [U]
  void* y;        // int8 or float [U]
  int16_t* active;
  int32_t n_active;
};

const char* TypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return "float32";
    case kTfLiteInt32: return "int32";
    case kTfLiteInt16: return "int16";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    default: return "another type";
  }
}

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (data == nullptr) return nullptr;
  memset(data, 0, sizeof(OpData));
  ke_glue::EgruOptions options;
  data->options_error = ke_glue::ParseEgruOptions(buffer, length, KE_EGRU_MAX_UNITS, &options);
  data->units = options.units;
  data->return_sequences = options.return_sequences;
  data->streaming_option = options.streaming;
  return data;
}

// Checks one constant input: type, constness, rank and (d >= 0) dims.
TfLiteStatus CheckConst(const TfLiteTensor* t, int input, TfLiteType type, int d0, int d1 = -1) {
  const char* name = kInputNames[input];
  if (t->type != type) {
    MicroPrintf("KE_EGRU: input %d `%s` has type %s, expected %s.", input, name,
                TypeName(t->type), TypeName(type));
    return kTfLiteError;
  }
  if (t->allocation_type != kTfLiteMmapRo || t->data.raw == nullptr) {
    MicroPrintf("KE_EGRU: input %d `%s` must be a constant tensor.", input, name);
    return kTfLiteError;
  }
  const int rank = d1 < 0 ? 1 : 2;
  if (t->dims->size != rank || (d0 >= 0 && t->dims->data[0] != d0) ||
      (rank == 2 && t->dims->data[1] != d1)) {
    MicroPrintf("KE_EGRU: input %d `%s` has rank %d / dim0 %d; expected rank %d, dims [%d, %d].",
                input, name, t->dims->size, t->dims->size > 0 ? t->dims->data[0] : -1, rank,
                d0, d1);
    return kTfLiteError;
  }
  return kTfLiteOk;
}

int NumElements(const TfLiteTensor* t) {
  int n = 1;
  for (int i = 0; i < t->dims->size; ++i) n *= t->dims->data[i];
  return n;
}

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

TfLiteStatus CheckSparse(TempInputs& in, int first, int rows, TfLiteType value_type,
                         int32_t units) {
  const TfLiteTensor* values = in.input(first);
  const TfLiteTensor* index = in.input(first + 1);
  const TfLiteTensor* offsets = in.input(first + 2);
  KE_TRY(CheckConst(values, first, value_type, -1));
  KE_TRY(CheckConst(index, first + 1, kTfLiteInt16, -1));
  KE_TRY(CheckConst(offsets, first + 2, kTfLiteInt32, rows + 1));
  const int32_t nnz = offsets->data.i32[rows];
  if (nnz < 0 || nnz > NumElements(values) || nnz > NumElements(index)) {
    MicroPrintf("KE_EGRU: `%s` ends at %d but `%s`/`%s` hold %d/%d entries.",
                kInputNames[first + 2], static_cast<int>(nnz), kInputNames[first],
                kInputNames[first + 1], NumElements(values), NumElements(index));
    return kTfLiteError;
  }
  const int status = ke_egru_check_sparse(rows, 3 * units, nnz, index->data.i16, offsets->data.i32);
  if (status != KE_EGRU_OK) {
    MicroPrintf("KE_EGRU: inputs %s/%s: %s.", kInputNames[first + 1], kInputNames[first + 2],
                ke_egru_status_string(status));
    return kTfLiteError;
  }
  return kTfLiteOk;
}

void ResetState(OpData* d) {
  if (d->c_hat == nullptr) return;  // Prepare has not run (or failed)
  if (d->is_int8) {
    ke_egru_i8_state s = {static_cast<int16_t*>(d->c_hat), static_cast<int8_t*>(d->y),
                          d->active, 0};
    ke_egru_i8_reset(&s, d->units, d->y_zero_point);
  } else {
    ke_egru_f32_state s = {static_cast<float*>(d->c_hat), static_cast<float*>(d->y), d->active, 0};
    ke_egru_f32_reset(&s, d->units);
  }
  d->n_active = 0;
}

// What Prepare needs after the temporary tensors are gone: pointers into the model's
// constant buffers (stable) and the quantization parameters.
struct Constants {
  const void* w_values;
  const int16_t* w_index;
  const int32_t* w_offsets;
  const void* v_values;
  const int16_t* v_index;
  const int32_t* v_offsets;
  const int32_t* bias_i32;
  const int16_t* threshold_q15;
  const float* w_scale;
  const float* v_scale;
  float x_scale, y_scale;
};

// Checks every input/output with TFLM's temporary tensors (freed on return). No persistent
// allocation may happen while they are held: TFLM places persistent buffers from the arena
// tail and does not protect temporary allocations, so a nearly full arena would overwrite them.
TfLiteStatus Validate(TfLiteContext* context, TfLiteNode* node, OpData* d, Constants* c) {
  if (d->options_error != nullptr) {
    MicroPrintf("KE_EGRU: %s.", d->options_error);
    return kTfLiteError;
  }
  if (node->outputs->size != 1 || node->inputs->size < 1) {
    MicroPrintf("KE_EGRU: expected 1 output and at least 1 input, got %d/%d.",
                node->outputs->size, node->inputs->size);
    return kTfLiteError;
  }
  for (int i = 0; i < node->inputs->size; ++i) {
    if (node->inputs->data[i] < 0) {
      MicroPrintf("KE_EGRU: input %d is missing (optional inputs are not supported).", i);
      return kTfLiteError;
    }
  }
  TempInputs in(context, node);
  const TfLiteTensor* x = in.input(kX);
  const TfLiteTensor* y = in.output();
  if (x == nullptr || y == nullptr) {
    MicroPrintf("KE_EGRU: cannot access input/output tensors.");
    return kTfLiteError;
  }
  d->is_int8 = x->type == kTfLiteInt8;
  if (!d->is_int8 && x->type != kTfLiteFloat32) {
    MicroPrintf("KE_EGRU: input 0 `x` has type %s; float32 and int8 are supported.",
                TypeName(x->type));
    return kTfLiteError;
  }
  const int expected_inputs = d->is_int8 ? kInt8Inputs : kFloatInputs;
  if (node->inputs->size != expected_inputs) {
    MicroPrintf("KE_EGRU: %s model needs %d inputs, got %d (see custom_ops/README.md).",
                d->is_int8 ? "an int8" : "a float32", expected_inputs, node->inputs->size);
    return kTfLiteError;
  }
  if (y->type != x->type) {
    MicroPrintf("KE_EGRU: output type %s differs from input type %s.", TypeName(y->type),
                TypeName(x->type));
    return kTfLiteError;
  }
  if (x->dims->size != 3) {
    MicroPrintf("KE_EGRU: input `x` must be [batch, time, features], got rank %d.", x->dims->size);
    return kTfLiteError;
  }
  d->batch = x->dims->data[0];
  d->time = x->dims->data[1];
  d->input_size = x->dims->data[2];
  const int32_t units = d->units;
  if (d->input_size < 1 || d->input_size > KE_EGRU_MAX_INPUT || d->batch < 1 || d->time < 1) {
    MicroPrintf("KE_EGRU: input shape [%d, %d, %d] unsupported (batch >= 1, time >= 1, "
                "features 1..32767).", static_cast<int>(d->batch), static_cast<int>(d->time),
                static_cast<int>(d->input_size));
    return kTfLiteError;
  }
  // TFLM cannot resize tensors: the model must already carry the output shape.
  const bool rs = d->return_sequences;
  if (y->dims->size != (rs ? 3 : 2) || y->dims->data[0] != d->batch ||
      (rs && (y->dims->data[1] != d->time || y->dims->data[2] != units)) ||
      (!rs && y->dims->data[1] != units)) {
    MicroPrintf("KE_EGRU: output must have shape %s with batch %d, units %d.",
                rs ? "[batch, time, units]" : "[batch, units]", static_cast<int>(d->batch),
                static_cast<int>(units));
    return kTfLiteError;
  }
  d->streaming = ke_glue::IsStreaming(d->streaming_option, d->time);
  if (d->streaming && d->batch != 1) {
    MicroPrintf("KE_EGRU: streaming keeps one state, so batch must be 1 (got %d).",
                static_cast<int>(d->batch));
    return kTfLiteError;
  }

  const TfLiteType wtype = d->is_int8 ? kTfLiteInt8 : kTfLiteFloat32;
  KE_TRY(CheckSparse(in, kWValues, d->input_size, wtype, units));
  KE_TRY(CheckSparse(in, kVValues, units, wtype, units));
  const TfLiteTensor* bias = in.input(kBias);
  const TfLiteTensor* threshold = in.input(kThreshold);
  KE_TRY(CheckConst(bias, kBias, d->is_int8 ? kTfLiteInt32 : kTfLiteFloat32, 2, 3 * units));
  KE_TRY(CheckConst(threshold, kThreshold, d->is_int8 ? kTfLiteInt16 : kTfLiteFloat32, units));

  c->w_values = in.input(kWValues)->data.raw;
  c->w_index = in.input(kWIndex)->data.i16;
  c->w_offsets = in.input(kWOffsets)->data.i32;
  c->v_values = in.input(kVValues)->data.raw;
  c->v_index = in.input(kVIndex)->data.i16;
  c->v_offsets = in.input(kVOffsets)->data.i32;
  c->bias_i32 = bias->data.i32;
  c->threshold_q15 = threshold->data.i16;
  if (d->is_int8) {
    const TfLiteTensor* w_scale = in.input(kWScale);
    const TfLiteTensor* v_scale = in.input(kVScale);
    KE_TRY(CheckConst(w_scale, kWScale, kTfLiteFloat32, 3 * units));
    KE_TRY(CheckConst(v_scale, kVScale, kTfLiteFloat32, 3 * units));
    c->w_scale = w_scale->data.f;
    c->v_scale = v_scale->data.f;
    c->x_scale = x->params.scale;
    c->y_scale = y->params.scale;
    d->x_zero_point = x->params.zero_point;
    d->y_zero_point = y->params.zero_point;
    if (!(c->x_scale > 0.0f) || !(c->y_scale > 0.0f) || d->x_zero_point < -128 ||
        d->x_zero_point > 127 || d->y_zero_point < -128 || d->y_zero_point > 127) {
      MicroPrintf("KE_EGRU: int8 input and output need per-tensor quantization "
                  "(scale > 0, zero point in int8).");
      return kTfLiteError;
    }
  }
  return kTfLiteOk;
}

// The core's int8 parameters: the model's constant data plus what Prepare computed.
void FillInt8Params(const OpData* d, const int8_t* w_values, const int16_t* w_index,
                    const int32_t* w_offsets, const int8_t* v_values, const int16_t* v_index,
                    const int32_t* v_offsets, const int32_t* bias, const int16_t* threshold,
                    ke_egru_i8_params* p) {
  p->input_size = d->input_size;
  p->units = d->units;
  p->w_values = w_values;
  p->w_index = w_index;
  p->w_offsets = w_offsets;
  p->v_values = v_values;
  p->v_index = v_index;
  p->v_offsets = v_offsets;
  p->bias = bias;
  p->threshold = threshold;
  p->x_zero_point = d->x_zero_point;
  p->y_zero_point = d->y_zero_point;
  p->unit_consts = d->unit_consts;
  p->acc_shift = d->acc_shift;
  p->y_multiplier = d->y_multiplier;
  p->y_shift = d->y_shift;
}

// Validates, then allocates the persistent state, multipliers and scratch in the arena.
TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  auto* d = static_cast<OpData*>(node->user_data);
  if (d == nullptr) {
    MicroPrintf("KE_EGRU: arena too small for the op data.");
    return kTfLiteError;
  }
  Constants c = {};
  KE_TRY(Validate(context, node, d, &c));
  const int32_t units = d->units;
  const size_t state_bytes = d->is_int8 ? sizeof(int16_t) : sizeof(float);
  const size_t y_bytes = d->is_int8 ? sizeof(int8_t) : sizeof(float);
  d->c_hat = context->AllocatePersistentBuffer(context, state_bytes * units);
  d->y = context->AllocatePersistentBuffer(context, y_bytes * units);
  d->active = static_cast<int16_t*>(context->AllocatePersistentBuffer(context, sizeof(int16_t) * units));
  if (d->c_hat == nullptr || d->y == nullptr || d->active == nullptr) {
    MicroPrintf("KE_EGRU: arena too small for the recurrent state (%d units).",
                static_cast<int>(units));
    return kTfLiteError;
  }
  const size_t scratch = d->is_int8 ? KE_EGRU_I8_SCRATCH(units) * sizeof(int32_t)
                                    : KE_EGRU_F32_SCRATCH(units) * sizeof(float);
  KE_TRY(context->RequestScratchBufferInArena(context, scratch, &d->scratch_index));
  if (d->is_int8) {
    d->unit_consts = static_cast<int32_t*>(
        context->AllocatePersistentBuffer(context, sizeof(int32_t) * KE_EGRU_UNIT_WORDS * units));
    if (d->unit_consts == nullptr) {
      MicroPrintf("KE_EGRU: arena too small for the requantization multipliers.");
      return kTfLiteError;
    }
    int status = ke_egru_i8_prepare(units, c.x_scale, c.w_scale, c.y_scale, c.v_scale,
                                    c.threshold_q15, d->unit_consts, &d->acc_shift,
                                    &d->y_multiplier, &d->y_shift);
    if (status == KE_EGRU_OK) {
      ke_egru_i8_params p;
      FillInt8Params(d, static_cast<const int8_t*>(c.w_values), c.w_index, c.w_offsets,
                     static_cast<const int8_t*>(c.v_values), c.v_index, c.v_offsets, c.bias_i32,
                     c.threshold_q15, &p);
      status = ke_egru_i8_check_constants(&p);
    }
    if (status != KE_EGRU_OK) {
      MicroPrintf("KE_EGRU: %s.", ke_egru_status_string(status));
      return kTfLiteError;
    }
  }
  ResetState(d);
  return kTfLiteOk;
}

template <typename T>
const T* In(TfLiteContext* context, TfLiteNode* node, int input) {
  return tflite::micro::GetTensorData<T>(tflite::micro::GetEvalInput(context, node, input));
}

TfLiteStatus EvalInt8(TfLiteContext* context, TfLiteNode* node, OpData* d, int8_t* out,
                      int32_t* scratch, uint64_t* macs) {
  ke_egru_i8_params p;
  FillInt8Params(d, In<int8_t>(context, node, kWValues), In<int16_t>(context, node, kWIndex),
                 In<int32_t>(context, node, kWOffsets), In<int8_t>(context, node, kVValues),
                 In<int16_t>(context, node, kVIndex), In<int32_t>(context, node, kVOffsets),
                 In<int32_t>(context, node, kBias), In<int16_t>(context, node, kThreshold), &p);
  const int8_t* x = In<int8_t>(context, node, kX);
  ke_egru_i8_state s = {static_cast<int16_t*>(d->c_hat), static_cast<int8_t*>(d->y), d->active,
                        d->n_active};
  if (!d->streaming) {
    ke_egru_i8_run(&p, x, d->batch, d->time, d->return_sequences, out, &s, scratch, macs);
    return kTfLiteOk;
  }
  ke_egru_i8_continue(&p, x, d->time, d->return_sequences, out, &s, scratch, macs);
  d->n_active = s.n_active;  // the active list is part of the carried state
  return kTfLiteOk;
}

TfLiteStatus EvalFloat(TfLiteContext* context, TfLiteNode* node, OpData* d, float* out,
                       float* scratch, uint64_t* macs) {
  ke_egru_f32_params p;
  p.input_size = d->input_size;
  p.units = d->units;
  p.w_values = In<float>(context, node, kWValues);
  p.w_index = In<int16_t>(context, node, kWIndex);
  p.w_offsets = In<int32_t>(context, node, kWOffsets);
  p.v_values = In<float>(context, node, kVValues);
  p.v_index = In<int16_t>(context, node, kVIndex);
  p.v_offsets = In<int32_t>(context, node, kVOffsets);
  p.bias = In<float>(context, node, kBias);
  p.threshold = In<float>(context, node, kThreshold);
  const float* x = In<float>(context, node, kX);
  ke_egru_f32_state s = {static_cast<float*>(d->c_hat), static_cast<float*>(d->y), d->active,
                         d->n_active};
  if (!d->streaming) {
    ke_egru_f32_run(&p, x, d->batch, d->time, d->return_sequences, out, &s, scratch, macs);
    return kTfLiteOk;
  }
  ke_egru_f32_continue(&p, x, d->time, d->return_sequences, out, &s, scratch, macs);
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
      d->is_int8 ? EvalInt8(context, node, d, tflite::micro::GetTensorData<int8_t>(y),
                            static_cast<int32_t*>(scratch), &macs)
                 : EvalFloat(context, node, d, tflite::micro::GetTensorData<float>(y),
                             static_cast<float*>(scratch), &macs);
  g_mac_count += macs;
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

extern "C" uint64_t ke_micro_egru_mac_count(void) { return ke_micro::g_mac_count; }
extern "C" void ke_micro_egru_reset_mac_count(void) { ke_micro::g_mac_count = 0; }
