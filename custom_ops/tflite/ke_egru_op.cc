// Host TFLite glue of KE_EGRU: Init parses the flexbuffer options, Prepare
// validates every input and precomputes the int8 multipliers, Eval calls the
// portable core (custom_ops/core/ke_egru.c), the same step code as on the MCU; the host
// build's flags (custom_ops.mk) let the compiler vectorize it.  Compiled against the full
// TFLite struct layout (no TF_LITE_STATIC_MEMORY).
#include "ke_egru_op.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <mutex>
#include <new>
#include <set>
#include <vector>

#include "../core/ke_egru.h"
#include "../glue/ke_egru_options.h"

namespace {

using namespace ke_glue;  // the op's input list (custom_ops/glue/ke_egru_options.h)

std::atomic<uint64_t> g_macs{0};

struct OpData {
  const char* options_error = nullptr;  // set by Init, reported by Prepare
  int units = 0;
  bool return_sequences = false;
  int streaming_option = -1;  // -1: absent, 0/1: given
  // Streaming (option `streaming`, like the TFLM glue): the state is kept between
  // invokes; KE_Ops_ResetStates() or a new Prepare zeroes it.
  bool streaming = false;
  int32_t n_active = 0;
  // Working buffers (sized in Prepare).
  std::vector<float> c_hat_f, y_f, scratch_f;
  std::vector<int16_t> c_hat_q, active;
  std::vector<int8_t> y_q;
  std::vector<int32_t> scratch_q, unit_consts;
  int32_t acc_shift = 0, y_mult = 0, y_shift = 0, x_zero_point = 0, y_zero_point = 0;
};

// Every live op, so KE_Ops_ResetStates() can zero the streaming states.
std::mutex g_ops_mutex;
std::set<OpData*>& LiveOps() {
  static std::set<OpData*> ops;
  return ops;
}
void Register(OpData* d) {
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  LiveOps().insert(d);
}
void Unregister(OpData* d) {
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  LiveOps().erase(d);
}

void ResetState(OpData* d) {
  std::fill(d->c_hat_q.begin(), d->c_hat_q.end(), 0);
  std::fill(d->y_q.begin(), d->y_q.end(), static_cast<int8_t>(d->y_zero_point));
  std::fill(d->c_hat_f.begin(), d->c_hat_f.end(), 0.0f);
  std::fill(d->y_f.begin(), d->y_f.end(), 0.0f);
  d->n_active = 0;
}

void* Init(TfLiteContext*, const char* buffer, size_t length) {
  OpData* data = new (std::nothrow) OpData();
  if (data == nullptr) return nullptr;
  ke_glue::EgruOptions options;
  data->options_error = ke_glue::ParseEgruOptions(buffer, length, KE_EGRU_MAX_UNITS, &options);
  data->units = options.units;
  data->return_sequences = options.return_sequences;
  data->streaming_option = options.streaming;
  Register(data);
  return data;
}

void Free(TfLiteContext*, void* buffer) {
  OpData* data = static_cast<OpData*>(buffer);
  Unregister(data);
  delete data;
}

const char* TypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return "float32";
    case kTfLiteInt32: return "int32";
    case kTfLiteInt16: return "int16";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    case kTfLiteInt64: return "int64";
    default: return "another type";
  }
}

bool IsConstant(const TfLiteTensor* t) {
  return t->allocation_type == kTfLiteMmapRo || t->allocation_type == kTfLitePersistentRo;
}

int64_t NumElements(const TfLiteTensor* t) {
  int64_t n = 1;
  for (int i = 0; i < t->dims->size; ++i) n *= t->dims->data[i];
  return n;
}

// Per-tensor affine quantization of `t` (scale > 0), or false.
bool PerTensorQuant(const TfLiteTensor* t, float* scale, int32_t* zero_point) {
  if (t->quantization.type == kTfLiteAffineQuantization && t->quantization.params) {
    const auto* q = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
    if (q->scale == nullptr || q->scale->size != 1) return false;
    *scale = q->scale->data[0];
    *zero_point = (q->zero_point && q->zero_point->size >= 1) ? q->zero_point->data[0] : 0;
  } else {
    *scale = t->params.scale;
    *zero_point = t->params.zero_point;
  }
  return *scale > 0.0f && *zero_point >= -128 && *zero_point <= 127;
}

#define KE_ENSURE(context, cond, ...)           \
  do {                                          \
    if (!(cond)) {                              \
      TF_LITE_KERNEL_LOG((context), __VA_ARGS__); \
      return kTfLiteError;                      \
    }                                           \
  } while (0)

// Checks type and rank/shape of a 1-D or 2-D constant input.
TfLiteStatus CheckConst(TfLiteContext* context, const TfLiteTensor* t, int input,
                        TfLiteType type, int d0, int d1 = -1) {
  const char* name = kInputNames[input];
  KE_ENSURE(context, t->type == type, "KE_EGRU: input %d `%s` has type %s, expected %s.", input,
            name, TypeName(t->type), TypeName(type));
  KE_ENSURE(context, IsConstant(t) && t->data.raw != nullptr,
            "KE_EGRU: input %d `%s` must be a constant tensor.", input, name);
  const int rank = d1 < 0 ? 1 : 2;
  KE_ENSURE(context, t->dims->size == rank, "KE_EGRU: input %d `%s` must have rank %d, got %d.",
            input, name, rank, t->dims->size);
  KE_ENSURE(context, d0 < 0 || t->dims->data[0] == d0,
            "KE_EGRU: input %d `%s` has dim 0 = %d, expected %d.", input, name,
            t->dims->data[0], d0);
  KE_ENSURE(context, rank == 1 || t->dims->data[1] == d1,
            "KE_EGRU: input %d `%s` has dim 1 = %d, expected %d.", input, name,
            t->dims->data[1], d1);
  return kTfLiteOk;
}

// Validates one compressed matrix (values/index/offsets) with `rows` rows.
TfLiteStatus CheckSparse(TfLiteContext* context, TfLiteNode* node, int first, int rows,
                         TfLiteType value_type, int units) {
  const TfLiteTensor* values = &context->tensors[node->inputs->data[first]];
  const TfLiteTensor* index = &context->tensors[node->inputs->data[first + 1]];
  const TfLiteTensor* offsets = &context->tensors[node->inputs->data[first + 2]];
  TF_LITE_ENSURE_STATUS(CheckConst(context, values, first, value_type, -1));
  TF_LITE_ENSURE_STATUS(CheckConst(context, index, first + 1, kTfLiteInt16, -1));
  TF_LITE_ENSURE_STATUS(CheckConst(context, offsets, first + 2, kTfLiteInt32, rows + 1));
  const int32_t nnz = offsets->data.i32[rows];
  KE_ENSURE(context, nnz >= 0 && nnz <= NumElements(values) && nnz <= NumElements(index),
            "KE_EGRU: `%s` ends at %d but `%s`/`%s` hold %d/%d entries.",
            kInputNames[first + 2], static_cast<int>(nnz), kInputNames[first],
            kInputNames[first + 1], static_cast<int>(NumElements(values)),
            static_cast<int>(NumElements(index)));
  const int status = ke_egru_check_sparse(rows, 3 * units, nnz, index->data.i16, offsets->data.i32);
  KE_ENSURE(context, status == KE_EGRU_OK, "KE_EGRU: inputs %s/%s: %s.", kInputNames[first + 1],
            kInputNames[first + 2], ke_egru_status_string(status));
  return kTfLiteOk;
}

template <typename T>
const T* Data(TfLiteContext* context, TfLiteNode* node, int input) {
  return reinterpret_cast<const T*>(context->tensors[node->inputs->data[input]].data.raw);
}

// The core's int8 parameters: the model's constant tensors plus what Prepare computed.
void FillInt8Params(TfLiteContext* context, TfLiteNode* node, const OpData* data,
                    int32_t input_size, ke_egru_i8_params* p) {
  p->input_size = input_size;
  p->units = data->units;
  p->w_values = Data<int8_t>(context, node, kWValues);
  p->w_index = Data<int16_t>(context, node, kWIndex);
  p->w_offsets = Data<int32_t>(context, node, kWOffsets);
  p->v_values = Data<int8_t>(context, node, kVValues);
  p->v_index = Data<int16_t>(context, node, kVIndex);
  p->v_offsets = Data<int32_t>(context, node, kVOffsets);
  p->bias = Data<int32_t>(context, node, kBias);
  p->threshold = Data<int16_t>(context, node, kThreshold);
  p->x_zero_point = data->x_zero_point;
  p->y_zero_point = data->y_zero_point;
  p->unit_consts = data->unit_consts.data();
  p->acc_shift = data->acc_shift;
  p->y_multiplier = data->y_mult;
  p->y_shift = data->y_shift;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  OpData* data = static_cast<OpData*>(node->user_data);
  KE_ENSURE(context, data != nullptr, "KE_EGRU: out of memory in Init.");
  KE_ENSURE(context, data->options_error == nullptr, "KE_EGRU: %s.", data->options_error);
  KE_ENSURE(context, node->outputs->size == 1, "KE_EGRU: expected 1 output, got %d.",
            node->outputs->size);
  KE_ENSURE(context, node->inputs->size >= 1, "KE_EGRU: no inputs.");
  for (int i = 0; i < node->inputs->size; ++i) {
    const int idx = node->inputs->data[i];
    KE_ENSURE(context, idx >= 0 && static_cast<size_t>(idx) < context->tensors_size,
              "KE_EGRU: input %d is missing (optional inputs are not supported).", i);
  }
  const TfLiteTensor* x = &context->tensors[node->inputs->data[kX]];
  TfLiteTensor* y = &context->tensors[node->outputs->data[0]];
  const bool is_int8 = x->type == kTfLiteInt8;
  KE_ENSURE(context, x->type == kTfLiteFloat32 || is_int8,
            "KE_EGRU: input 0 `x` has type %s; float32 and int8 are supported.",
            TypeName(x->type));
  const int expected_inputs = is_int8 ? kInt8Inputs : kFloatInputs;
  KE_ENSURE(context, node->inputs->size == expected_inputs,
            "KE_EGRU: %s model needs %d inputs, got %d (see custom_ops/README.md).",
            is_int8 ? "an int8" : "a float32", expected_inputs, node->inputs->size);
  KE_ENSURE(context, y->type == x->type, "KE_EGRU: output type %s differs from input type %s.",
            TypeName(y->type), TypeName(x->type));
  KE_ENSURE(context, x->dims->size == 3, "KE_EGRU: input `x` must be [batch, time, features], "
            "got rank %d.", x->dims->size);
  const int batch = x->dims->data[0], time = x->dims->data[1], features = x->dims->data[2];
  const int units = data->units;
  KE_ENSURE(context, features >= 1 && features <= KE_EGRU_MAX_INPUT && batch >= 0 && time >= 1,
            "KE_EGRU: input shape [%d, %d, %d] unsupported (features 1..32767, time >= 1).",
            batch, time, features);

  const TfLiteType wtype = is_int8 ? kTfLiteInt8 : kTfLiteFloat32;
  TF_LITE_ENSURE_STATUS(CheckSparse(context, node, kWValues, features, wtype, units));
  TF_LITE_ENSURE_STATUS(CheckSparse(context, node, kVValues, units, wtype, units));
  const TfLiteTensor* bias = &context->tensors[node->inputs->data[kBias]];
  const TfLiteTensor* threshold = &context->tensors[node->inputs->data[kThreshold]];
  TF_LITE_ENSURE_STATUS(CheckConst(context, bias, kBias, is_int8 ? kTfLiteInt32 : kTfLiteFloat32,
                                   2, 3 * units));
  TF_LITE_ENSURE_STATUS(CheckConst(context, threshold, kThreshold,
                                   is_int8 ? kTfLiteInt16 : kTfLiteFloat32, units));

  data->active.assign(units, 0);
  if (is_int8) {
    const TfLiteTensor* w_scale = &context->tensors[node->inputs->data[kWScale]];
    const TfLiteTensor* v_scale = &context->tensors[node->inputs->data[kVScale]];
    TF_LITE_ENSURE_STATUS(CheckConst(context, w_scale, kWScale, kTfLiteFloat32, 3 * units));
    TF_LITE_ENSURE_STATUS(CheckConst(context, v_scale, kVScale, kTfLiteFloat32, 3 * units));
    float x_scale = 0.0f, y_scale = 0.0f;
    KE_ENSURE(context, PerTensorQuant(x, &x_scale, &data->x_zero_point),
              "KE_EGRU: int8 input `x` needs per-tensor quantization with scale > 0.");
    KE_ENSURE(context, PerTensorQuant(y, &y_scale, &data->y_zero_point),
              "KE_EGRU: int8 output needs per-tensor quantization with scale > 0.");
    data->unit_consts.assign(KE_EGRU_UNIT_WORDS * units, 0);
    int status = ke_egru_i8_prepare(units, x_scale, w_scale->data.f, y_scale, v_scale->data.f,
                                    threshold->data.i16,
                                    data->unit_consts.data(), &data->acc_shift,
                                    &data->y_mult, &data->y_shift);
    KE_ENSURE(context, status == KE_EGRU_OK, "KE_EGRU: scales: %s.", ke_egru_status_string(status));
    ke_egru_i8_params p;
    FillInt8Params(context, node, data, features, &p);
    status = ke_egru_i8_check_constants(&p);
    KE_ENSURE(context, status == KE_EGRU_OK, "KE_EGRU: %s.", ke_egru_status_string(status));
    data->c_hat_q.assign(units, 0);
    data->y_q.assign(units, 0);
    data->scratch_q.assign((KE_EGRU_I8_SEQ_SCRATCH_BYTES(units, features, time) + 3) / 4, 0);
  } else {
    data->c_hat_f.assign(units, 0.0f);
    data->y_f.assign(units, 0.0f);
    data->scratch_f.assign(KE_EGRU_F32_SCRATCH(units), 0.0f);
  }

  data->streaming = ke_glue::IsStreaming(data->streaming_option, time);
  KE_ENSURE(context, !data->streaming || batch == 1,
            "KE_EGRU: streaming keeps one state, so batch must be 1 (got %d).", batch);
  ResetState(data);

  const int out_rank = data->return_sequences ? 3 : 2;
  TfLiteIntArray* shape = static_cast<TfLiteIntArray*>(
      std::malloc(sizeof(TfLiteIntArray) + out_rank * sizeof(int)));  // freed by TFLite
  KE_ENSURE(context, shape != nullptr, "KE_EGRU: out of memory.");
  shape->size = out_rank;
  shape->data[0] = batch;
  if (data->return_sequences) {
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
  KE_ENSURE(context, x->data.raw != nullptr && y->data.raw != nullptr,
            "KE_EGRU: input or output buffer not allocated.");
  const int batch = x->dims->data[0], time = x->dims->data[1];
  uint64_t macs = 0;
  const int32_t I = x->dims->data[2];
  if (x->type == kTfLiteInt8) {
    ke_egru_i8_params p;
    FillInt8Params(context, node, data, I, &p);
    ke_egru_i8_state s = {data->c_hat_q.data(), data->y_q.data(), data->active.data(),
                          data->n_active};
    // The host variants (input products of the whole sequence first, vectorized over
    // time): same outputs and MAC count as the MCU's per-step *_run / *_continue.
    if (!data->streaming) {
      ke_egru_i8_run_seq(&p, x->data.int8, batch, time, data->return_sequences, y->data.int8, &s,
                         data->scratch_q.data(), &macs);
    } else {
      ke_egru_i8_continue_seq(&p, x->data.int8, time, data->return_sequences, y->data.int8, &s,
                              data->scratch_q.data(), &macs);
      data->n_active = s.n_active;  // the active list is part of the carried state
    }
  } else {
    ke_egru_f32_params p;
    p.input_size = I;
    p.units = data->units;
    p.w_values = Data<float>(context, node, kWValues);
    p.w_index = Data<int16_t>(context, node, kWIndex);
    p.w_offsets = Data<int32_t>(context, node, kWOffsets);
    p.v_values = Data<float>(context, node, kVValues);
    p.v_index = Data<int16_t>(context, node, kVIndex);
    p.v_offsets = Data<int32_t>(context, node, kVOffsets);
    p.bias = Data<float>(context, node, kBias);
    p.threshold = Data<float>(context, node, kThreshold);
    ke_egru_f32_state s = {data->c_hat_f.data(), data->y_f.data(), data->active.data(),
                           data->n_active};
    if (!data->streaming) {
      ke_egru_f32_run(&p, x->data.f, batch, time, data->return_sequences, y->data.f, &s,
                      data->scratch_f.data(), &macs);
    } else {
      ke_egru_f32_continue(&p, x->data.f, time, data->return_sequences, y->data.f, &s,
                           data->scratch_f.data(), &macs);
      data->n_active = s.n_active;
    }
  }
  g_macs.fetch_add(macs, std::memory_order_relaxed);
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

__attribute__((visibility("default"))) uint64_t KE_Ops_MacCount(void) { return g_macs.load(); }

__attribute__((visibility("default"))) void KE_Ops_ResetStates(void) {
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  for (OpData* d : LiveOps()) ResetState(d);
}
__attribute__((visibility("default"))) void KE_Ops_ResetMacCount(void) { g_macs.store(0); }

}  // extern "C"
