/* The op-table half shared by the delta ops (ke_delta_op.h). */
#include "ke_delta_op.h"

#include <string.h>

enum { OPT_UNITS = 0, OPT_RETURN_SEQUENCES, OPT_STREAMING };

enum {
  IN_X = 0, IN_W_VALUES, IN_W_INDEX, IN_W_OFFSETS, IN_V_VALUES, IN_V_INDEX, IN_V_OFFSETS,
  IN_BIAS, IN_THRESHOLD, IN_W_SCALE, IN_V_SCALE
};
static const char* const kInputNames[] = {"x", "w_values", "w_index", "w_offsets",
                                          "v_values", "v_index", "v_offsets", "bias",
                                          "threshold", "w_scale", "v_scale"};

enum { INFO_INT8 = 0, INFO_STREAMING, INFO_BATCH, INFO_TIME, INFO_FEATURES };

typedef struct {
  int32_t x_zero_point, y_zero_point, acc_shift, y_multiplier, y_shift;
} header;

/* The persistent memory: the int8 constants, a copy of the bias (the memories' reset value)
 * and the state; a block the op does not keep is NULL. */
typedef struct {
  header* h;
  int32_t* unit_consts; /* int8: [U][unit_words] */
  void* bias;           /* [bias_rows][G U] */
  void* hs;             /* h: float [U]; int8 (int8_h): int16 Q0.15 [U] */
  void* c;              /* cell: int16 Q3.12 or float [U] */
  int8_t* y;            /* int8: [U] */
  void* x_hat;          /* [I] */
  void* h_hat;          /* [U] */
  void* m_x;            /* [G U] */
  void* m_h;            /* [G U] int8, float_m_h */
} memory;

static void* carve(void* base, size_t* offset, size_t bytes) {
  void* p = ke_carve(base, offset, bytes);
  return bytes ? p : NULL;
}

static size_t layout(const ke_delta_op_kind* k, int32_t units, int32_t features, int is_int8,
                     void* base, memory* m) {
  size_t offset = 0;
  const size_t u = (size_t)units, i = (size_t)features, word = 4, g = (size_t)k->gates;
  m->h = (header*)carve(base, &offset, sizeof(header));
  m->unit_consts = (int32_t*)carve(base, &offset, is_int8 ? word * (size_t)k->unit_words * u : 0);
  m->bias = carve(base, &offset, word * (size_t)k->bias_rows * g * u);
  m->hs = carve(base, &offset, is_int8 ? (k->int8_h ? sizeof(int16_t) * u : 0) : word * u);
  m->c = carve(base, &offset, k->cell ? u * (is_int8 ? sizeof(int16_t) : sizeof(float)) : 0);
  m->y = (int8_t*)carve(base, &offset, is_int8 ? u : 0);
  m->x_hat = carve(base, &offset, i * (is_int8 ? 1 : sizeof(float)));
  m->h_hat = carve(base, &offset, u * (is_int8 ? 1 : sizeof(float)));
  m->m_x = carve(base, &offset, word * g * u);
  m->m_h = carve(base, &offset, is_int8 || k->float_m_h ? word * g * u : 0);
  return offset;
}

int ke_delta_op_check(const ke_delta_op_kind* k, const ke_reporter* r, const int32_t* opt,
                      const ke_tensor* in, int32_t num_inputs, const ke_tensor* out,
                      ke_plan* plan) {
  const int32_t units = opt[OPT_UNITS], cols = k->gates * units;
  const ke_tensor* x = &in[IN_X];
  ke_sequence_io io;
  if (!ke_check_sequence_io(r, x, out, units, opt[OPT_RETURN_SEQUENCES], opt[OPT_STREAMING],
                            KE_DELTA_MAX_INPUT, plan, &io))
    return 0;
  const int is_int8 = x->type == KE_DTYPE_INT8;
  const int32_t expected = is_int8 ? KE_DELTA_OP_INT8_INPUTS : KE_DELTA_OP_FLOAT_INPUTS;
  if (num_inputs != expected)
    return ke_fail(r, "%s model needs %d inputs, got %d (see custom_ops/README.md).",
                   is_int8 ? "an int8" : "a float32", (int)expected, (int)num_inputs);
  const int32_t batch = io.batch, time = io.time, features = io.features;
  const int streaming = io.streaming;

  const ke_dtype wtype = is_int8 ? KE_DTYPE_INT8 : KE_DTYPE_FLOAT32;
  /* the bias: GRU [2, 3U], LSTM [4U] */
  const int32_t bias_d0 = k->bias_rows == 1 ? cols : k->bias_rows;
  const int32_t bias_d1 = k->bias_rows == 1 ? -1 : cols;
  if (!ke_check_sparse(r, in, IN_W_VALUES, kInputNames, features, cols, wtype) ||
      !ke_check_sparse(r, in, IN_V_VALUES, kInputNames, units, cols, wtype) ||
      !ke_check_const(r, &in[IN_BIAS], IN_BIAS, kInputNames[IN_BIAS],
                      is_int8 ? KE_DTYPE_INT32 : KE_DTYPE_FLOAT32, bias_d0, bias_d1) ||
      !ke_check_const(r, &in[IN_THRESHOLD], IN_THRESHOLD, kInputNames[IN_THRESHOLD],
                      is_int8 ? KE_DTYPE_INT32 : KE_DTYPE_FLOAT32, 2, -1))
    return 0;
  if (is_int8) {
    const int32_t* th = (const int32_t*)in[IN_THRESHOLD].data;
    if (th[0] < 0 || th[0] > KE_DELTA_MAX_THRESHOLD_Q || th[1] < 0 || th[1] > KE_DELTA_MAX_THRESHOLD_Q)
      return ke_fail(r, "input 8 `threshold` holds [%d, %d]; int8 thresholds (input, hidden) "
                     "must be in 0..255 (floor(threshold / scale)).", (int)th[0], (int)th[1]);
    if (!(ke_check_const(r, &in[IN_W_SCALE], IN_W_SCALE, kInputNames[IN_W_SCALE],
                         KE_DTYPE_FLOAT32, cols, -1) &&
          ke_check_const(r, &in[IN_V_SCALE], IN_V_SCALE, kInputNames[IN_V_SCALE],
                         KE_DTYPE_FLOAT32, cols, -1) &&
          ke_check_int8_activation(r, x, "input `x`") &&
          ke_check_int8_activation(r, out, "output")))
      return 0;
  } else {
    const float* th = (const float*)in[IN_THRESHOLD].data;
    /* written so that NaN fails too */
    if (!(th[0] >= 0.0f && th[0] < 1e30f && th[1] >= 0.0f && th[1] < 1e30f))
      return ke_fail(r, "input 8 `threshold` holds [%g, %g]; the thresholds (input, hidden) "
                     "must be finite and >= 0.", (double)th[0], (double)th[1]);
  }
  plan->info[INFO_INT8] = is_int8;
  plan->info[INFO_STREAMING] = streaming;
  plan->info[INFO_BATCH] = batch;
  plan->info[INFO_TIME] = time;
  plan->info[INFO_FEATURES] = features;
  memory m;
  plan->persistent_bytes = layout(k, units, features, is_int8, NULL, &m);
  plan->scratch_bytes = 0;
  return 1;
}

static ke_delta_matrix matrix(const void* const* in, int first, int32_t rows, int32_t cols) {
  ke_delta_matrix w;
  w.values = in[first];
  w.index = (const int16_t*)in[first + 1];
  w.offsets = (const int32_t*)in[first + 2];
  w.rows = rows;
  w.cols = cols;
  return w;
}

static ke_delta_i8_params int8_params(const ke_delta_op_kind* k, const int32_t* opt,
                                      const ke_plan* plan, const memory* m,
                                      const void* const* in) {
  ke_delta_i8_params p;
  const int32_t U = opt[OPT_UNITS];
  const int32_t* th = (const int32_t*)in[IN_THRESHOLD];
  p.input_size = plan->info[INFO_FEATURES];
  p.units = U;
  p.w = matrix(in, IN_W_VALUES, p.input_size, k->gates * U);
  p.v = matrix(in, IN_V_VALUES, U, k->gates * U);
  p.bias = (const int32_t*)m->bias;
  p.x_threshold = th ? th[0] : 0;
  p.h_threshold = th ? th[1] : 0;
  p.x_zero_point = m->h->x_zero_point;
  p.y_zero_point = m->h->y_zero_point;
  p.unit_consts = m->unit_consts;
  p.acc_shift = m->h->acc_shift;
  p.y_multiplier = m->h->y_multiplier;
  p.y_shift = m->h->y_shift;
  return p;
}

static ke_delta_f32_params float_params(const ke_delta_op_kind* k, const int32_t* opt,
                                        const ke_plan* plan, const memory* m,
                                        const void* const* in) {
  ke_delta_f32_params p;
  const int32_t U = opt[OPT_UNITS];
  const float* th = (const float*)in[IN_THRESHOLD];
  p.input_size = plan->info[INFO_FEATURES];
  p.units = U;
  p.w = matrix(in, IN_W_VALUES, p.input_size, k->gates * U);
  p.v = matrix(in, IN_V_VALUES, U, k->gates * U);
  p.bias = (const float*)m->bias;
  p.input_threshold = th ? th[0] : 0.0f;
  p.hidden_threshold = th ? th[1] : 0.0f;
  return p;
}

static ke_delta_i8_state int8_state(const memory* m) {
  ke_delta_i8_state s = {(int16_t*)m->hs, (int16_t*)m->c, m->y, (int8_t*)m->x_hat,
                         (int8_t*)m->h_hat, (int32_t*)m->m_x, (int32_t*)m->m_h};
  return s;
}

static ke_delta_f32_state float_state(const memory* m) {
  ke_delta_f32_state s = {(float*)m->hs, (float*)m->c, (float*)m->x_hat, (float*)m->h_hat,
                          (float*)m->m_x, (float*)m->m_h};
  return s;
}

void ke_delta_op_reset(const ke_delta_op_kind* k, const int32_t* opt, const ke_plan* plan,
                       void* persistent) {
  memory m;
  const void* none[KE_DELTA_OP_INT8_INPUTS] = {0}; /* reset reads no input: sizes and the bias copy */
  layout(k, opt[OPT_UNITS], plan->info[INFO_FEATURES], plan->info[INFO_INT8], persistent, &m);
  if (plan->info[INFO_INT8]) {
    const ke_delta_i8_params p = int8_params(k, opt, plan, &m, none);
    ke_delta_i8_state s = int8_state(&m);
    k->i8_reset(&p, &s);
  } else {
    const ke_delta_f32_params p = float_params(k, opt, plan, &m, none);
    ke_delta_f32_state s = float_state(&m);
    k->f32_reset(&p, &s);
  }
}

int ke_delta_op_setup(const ke_delta_op_kind* k, const ke_reporter* r, const int32_t* opt,
                      const ke_tensor* in, const ke_tensor* out, const ke_plan* plan,
                      void* persistent) {
  memory m;
  const int32_t U = opt[OPT_UNITS];
  layout(k, U, plan->info[INFO_FEATURES], plan->info[INFO_INT8], persistent, &m);
  memcpy(m.bias, in[IN_BIAS].data, 4 * (size_t)k->bias_rows * (size_t)k->gates * (size_t)U);
  if (plan->info[INFO_INT8]) {
    header* h = m.h;
    h->x_zero_point = in[IN_X].zero_point;
    h->y_zero_point = out->zero_point;
    int status = k->i8_prepare(U, in[IN_X].scale, (const float*)in[IN_W_SCALE].data, out->scale,
                               (const float*)in[IN_V_SCALE].data, m.unit_consts, &h->acc_shift,
                               &h->y_multiplier, &h->y_shift);
    if (status != KE_OK) return ke_fail(r, "scales: %s.", ke_delta_status_string(status));
    const void* data[KE_DELTA_OP_INT8_INPUTS];
    for (int i = 0; i < KE_DELTA_OP_INT8_INPUTS; ++i) data[i] = in[i].data;
    const ke_delta_i8_params p = int8_params(k, opt, plan, &m, data);
    status = k->i8_check_constants(&p);
    if (status != KE_OK) return ke_fail(r, "%s.", ke_delta_status_string(status));
  }
  ke_delta_op_reset(k, opt, plan, persistent);
  return 1;
}

void ke_delta_op_eval(const ke_delta_op_kind* k, const int32_t* opt, const ke_plan* plan,
                      void* persistent, const void* const* in, void* out, uint64_t* macs) {
  memory m;
  const int32_t U = opt[OPT_UNITS], I = plan->info[INFO_FEATURES];
  const int rs = opt[OPT_RETURN_SEQUENCES];
  const int32_t batch = plan->info[INFO_BATCH], time = plan->info[INFO_TIME];
  const int streaming = plan->info[INFO_STREAMING];
  int32_t b, t;
  layout(k, U, I, plan->info[INFO_INT8], persistent, &m);
  if (plan->info[INFO_INT8]) {
    const ke_delta_i8_params p = int8_params(k, opt, plan, &m, in);
    ke_delta_i8_state s = int8_state(&m);
    const int8_t* x = (const int8_t*)in[IN_X];
    int8_t* y = (int8_t*)out;
    for (b = 0; b < batch; ++b) {
      if (!streaming) k->i8_reset(&p, &s);
      for (t = 0; t < time; ++t) {
        k->i8_step(&p, x + ((size_t)b * time + t) * I, &s, macs);
        if (rs || t == time - 1)
          memcpy(y + ((size_t)b * (rs ? time : 1) + (rs ? t : 0)) * U, s.y, (size_t)U);
      }
    }
  } else {
    const ke_delta_f32_params p = float_params(k, opt, plan, &m, in);
    ke_delta_f32_state s = float_state(&m);
    const float* x = (const float*)in[IN_X];
    float* y = (float*)out;
    for (b = 0; b < batch; ++b) {
      if (!streaming) k->f32_reset(&p, &s);
      for (t = 0; t < time; ++t) {
        k->f32_step(&p, x + ((size_t)b * time + t) * I, &s, macs);
        if (rs || t == time - 1)
          memcpy(y + ((size_t)b * (rs ? time : 1) + (rs ? t : 0)) * U, s.h, sizeof(float) * (size_t)U);
      }
    }
  }
}
