// Host TFLite glue of KE_EGRU: Init parses the flexbuffer options, Prepare runs the
// checks shared with the TFLM glue (custom_ops/glue/ke_egru_glue.h) and precomputes the
// int8 multipliers, Eval calls the portable core (custom_ops/core/ke_egru.c), the same
// step code as on the MCU; the host build's flags let the compiler vectorize it.
// Compiled against the full TFLite struct layout (no TF_LITE_STATIC_MEMORY).
#include "ke_egru_op.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "../core/ke_egru.h"
#include "../glue/ke_egru_glue.h"
#include "ke_op_state.h"

namespace {

using namespace ke_glue;  // the op's inputs, options and checks (custom_ops/glue/)

struct OpData : ke_tflite::StatefulOp {
  const char* options_error = nullptr;  // set by Init, reported by Prepare
  EgruOptions options;
  // Streaming (option `streaming`, like the TFLM glue): the state is kept between
  // invokes; KE_Ops_ResetStates() or a new Prepare zeroes it.
  EgruShape shape;
  int32_t n_active = 0;
  // Working buffers (sized in Prepare).
  std::vector<float> c_hat_f, y_f, scratch_f;
  std::vector<int16_t> c_hat_q, active;
  std::vector<int8_t> y_q;
  std::vector<int32_t> scratch_q, unit_consts;
  EgruInt8Consts q;
  void ResetState() override;
};

void OpData::ResetState() {
  std::fill(c_hat_q.begin(), c_hat_q.end(), 0);
  std::fill(y_q.begin(), y_q.end(), static_cast<int8_t>(q.y_zero_point));
  std::fill(c_hat_f.begin(), c_hat_f.end(), 0.0f);
  std::fill(y_f.begin(), y_f.end(), 0.0f);
  n_active = 0;
}

void* Init(TfLiteContext*, const char* buffer, size_t length) {
  OpData* data = new (std::nothrow) OpData();
  if (data == nullptr) return nullptr;
  data->options_error = ParseEgruOptions(buffer, length, KE_EGRU_MAX_UNITS, &data->options);
  ke_tflite::RegisterStatefulOp(data);
  return data;
}

void Free(TfLiteContext*, void* buffer) {
  OpData* data = static_cast<OpData*>(buffer);
  ke_tflite::UnregisterStatefulOp(data);
  delete data;
}

void Log(void* context, const char* op, const char* format, va_list args) {
  char message[256];
  std::vsnprintf(message, sizeof(message), format, args);
  TF_LITE_KERNEL_LOG(static_cast<TfLiteContext*>(context), "%s: %s", op, message);
}

// Per-tensor affine quantization of `t` (one scale), as the shared checks read it.
TensorView View(const TfLiteTensor& t) {
  TensorView v;
  v.type = t.type;
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
    v.per_tensor_quant = true;
    v.scale = t.params.scale;
    v.zero_point = t.params.zero_point;
  }
  return v;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData* data = static_cast<OpData*>(node->user_data);
  const Reporter r{Log, context, "KE_EGRU"};
  if (data == nullptr) return r.Fail("out of memory in Init."), kTfLiteError;
  if (!CheckNodeIo(r, node->inputs, node->outputs, static_cast<int64_t>(context->tensors_size)))
    return kTfLiteError;
  TensorView in[kInt8Inputs];
  const int n = std::min(node->inputs->size, static_cast<int>(kInt8Inputs));
  for (int i = 0; i < n; ++i) in[i] = View(context->tensors[node->inputs->data[i]]);
  TfLiteTensor* y = &context->tensors[node->outputs->data[0]];
  const EgruOptions& o = data->options;
  if (!ValidateEgru(r, data->options_error, o, in, node->inputs->size, View(*y),
                    /*output_shape_fixed=*/false, &data->shape))
    return kTfLiteError;
  const int units = o.units, time = data->shape.time, features = data->shape.input_size;
  data->active.assign(units, 0);
  if (data->shape.is_int8) {
    data->unit_consts.assign(KE_EGRU_UNIT_WORDS * units, 0);
    data->q.unit_consts = data->unit_consts.data();
    if (!PrepareEgruInt8(r, o, data->shape, in, View(*y), &data->q)) return kTfLiteError;
    data->c_hat_q.assign(units, 0);
    data->y_q.assign(units, 0);
    data->scratch_q.assign((KE_EGRU_I8_SEQ_SCRATCH_BYTES(units, features, time) + 3) / 4, 0);
  } else {
    data->c_hat_f.assign(units, 0.0f);
    data->y_f.assign(units, 0.0f);
    data->scratch_f.assign(KE_EGRU_F32_SCRATCH(units), 0.0f);
  }
  data->ResetState();

  const int out_rank = o.return_sequences ? 3 : 2;
  TfLiteIntArray* shape = static_cast<TfLiteIntArray*>(
      std::malloc(sizeof(TfLiteIntArray) + out_rank * sizeof(int)));  // freed by TFLite
  if (shape == nullptr) return r.Fail("out of memory."), kTfLiteError;
  shape->size = out_rank;
  shape->data[0] = data->shape.batch;
  if (o.return_sequences) {
    shape->data[1] = time;
    shape->data[2] = units;
  } else {
    shape->data[1] = units;
  }
  return context->ResizeTensor(context, y, shape);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  OpData* data = static_cast<OpData*>(node->user_data);
  const TfLiteTensor* x = &context->tensors[node->inputs->data[kX]];
  TfLiteTensor* y = &context->tensors[node->outputs->data[0]];
  if (x->data.raw == nullptr || y->data.raw == nullptr) {
    TF_LITE_KERNEL_LOG(context, "KE_EGRU: input or output buffer not allocated.");
    return kTfLiteError;
  }
  const auto in = [context, node](int i) -> const void* {
    return context->tensors[node->inputs->data[i]].data.raw;
  };
  const EgruShape& shape = data->shape;
  const bool rs = data->options.return_sequences;
  uint64_t macs = 0;
  if (shape.is_int8) {
    const ke_egru_i8_params p = EgruInt8Params(in, shape, data->options, data->q);
    ke_egru_i8_state s = {data->c_hat_q.data(), data->y_q.data(), data->active.data(),
                          data->n_active};
    // The host variants (input products of the whole sequence first, vectorized over
    // time): same outputs and MAC count as the MCU's per-step *_run / *_continue.
    if (!shape.streaming) {
      ke_egru_i8_run_seq(&p, x->data.int8, shape.batch, shape.time, rs, y->data.int8, &s,
                         data->scratch_q.data(), &macs);
    } else {
      ke_egru_i8_continue_seq(&p, x->data.int8, shape.time, rs, y->data.int8, &s,
                              data->scratch_q.data(), &macs);
      data->n_active = s.n_active;  // the active list is part of the carried state
    }
  } else {
    const ke_egru_f32_params p = EgruFloatParams(in, shape, data->options);
    ke_egru_f32_state s = {data->c_hat_f.data(), data->y_f.data(), data->active.data(),
                           data->n_active};
    if (!shape.streaming) {
      ke_egru_f32_run(&p, x->data.f, shape.batch, shape.time, rs, y->data.f, &s,
                      data->scratch_f.data(), &macs);
    } else {
      ke_egru_f32_continue(&p, x->data.f, shape.time, rs, y->data.f, &s,
                           data->scratch_f.data(), &macs);
      data->n_active = s.n_active;
    }
  }
  ke_tflite::AddMacs(macs);
  return kTfLiteOk;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) const TfLiteRegistration* KE_EGRU_Registration(void) {
  static TfLiteRegistration registration = [] {
    TfLiteRegistration r;
    std::memset(&r, 0, sizeof(r));
    r.init = Init;
    r.free = Free;
    r.prepare = Prepare;
    r.invoke = Eval;
    r.builtin_code = 32;  // BuiltinOperator_CUSTOM
    r.custom_name = "KE_EGRU";
    r.version = 1;
    return r;
  }();
  return &registration;
}

}  // extern "C"
