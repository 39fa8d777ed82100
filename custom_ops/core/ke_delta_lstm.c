/* KE_DELTA_LSTM step (ke_delta_lstm.h).  The delta encoding and memory products are shared
 * (ke_delta.c); this file holds the LSTM's gates and state update. */
#include "ke_delta_lstm.h"

#include <string.h>

#include "ke_activation.h"
#include "ke_fixed.h"
#include "ke_lut.h"
#include "ke_simd.h"

/* ---- float32 ---- */

void ke_delta_lstm_f32_reset(const ke_delta_lstm_f32_params* p, ke_delta_lstm_f32_state* s) {
  const int32_t U = p->units;
  memset(s->h, 0, sizeof(float) * (size_t)U);
  memset(s->c, 0, sizeof(float) * (size_t)U);
  memset(s->h_hat, 0, sizeof(float) * (size_t)U);
  memset(s->x_hat, 0, sizeof(float) * (size_t)p->input_size);
  memcpy(s->m_x, p->bias, sizeof(float) * 4 * (size_t)U);
}

void ke_delta_lstm_f32_step(const ke_delta_lstm_f32_params* p, const float* x,
                            ke_delta_lstm_f32_state* s, uint64_t* macs) {
  const int32_t U = p->units;
  const float* m = s->m_x;
  uint32_t count = ke_delta_update_f32(x, s->x_hat, p->input_threshold, &p->w, s->m_x, NULL);
  int32_t j;
  count += ke_delta_update_f32(s->h, s->h_hat, p->hidden_threshold, &p->v, s->m_x, NULL);
  for (j = 0; j < U; ++j) {
    const float i = ke_sigmoid(m[j]);
    const float f = ke_sigmoid(m[U + j]);
    const float g = ke_tanh(m[2 * U + j]);
    const float o = ke_sigmoid(m[3 * U + j]);
    const float c = f * s->c[j] + i * g;
    s->c[j] = c;
    s->h[j] = o * ke_tanh(c);
  }
  if (macs) *macs += count;
}

/* ---- int8 ---- */

int ke_delta_lstm_i8_prepare(int32_t units, float x_scale, const float* w_scale, float y_scale,
                             const float* v_scale, int32_t* unit_consts, int32_t* acc_shift,
                             int32_t* y_multiplier, int32_t* y_shift) {
  return ke_delta_i8_prepare(units, 4, KE_DELTA_LSTM_MAX_UNITS, KE_DELTA_LSTM_UNIT_WORDS, x_scale,
                             w_scale, y_scale, v_scale, unit_consts, acc_shift, y_multiplier,
                             y_shift);
}

int ke_delta_lstm_i8_check_constants(const ke_delta_lstm_i8_params* p) {
  return ke_delta_i8_check_constants(p, NULL);
}

void ke_delta_lstm_i8_reset(const ke_delta_lstm_i8_params* p, ke_delta_lstm_i8_state* s) {
  const int32_t U = p->units;
  memset(s->c, 0, sizeof(int16_t) * (size_t)U);
  memset(s->y, p->y_zero_point, (size_t)U); /* the real 0 */
  memset(s->h_hat, p->y_zero_point, (size_t)U);
  memset(s->x_hat, p->x_zero_point, (size_t)p->input_size);
  memcpy(s->m_x, p->bias, sizeof(int32_t) * 4 * (size_t)U);
  memset(s->m_h, 0, sizeof(int32_t) * 4 * (size_t)U);
}

/* The gate loop; scale = 2^L.  Pre-activations and c in Q3.12, gates and h in Q0.15. */
static KE_ALWAYS_INLINE void i8_gates(const ke_delta_lstm_i8_params* p, ke_delta_lstm_i8_state* s,
                                      const int32_t scale) {
  const int32_t U = p->units, y_zp = p->y_zero_point;
  const int32_t y_mult = p->y_multiplier, y_shift = p->y_shift;
  const int32_t* m = p->unit_consts;
  const int32_t* mx = s->m_x;
  const int32_t* mh = s->m_h;
  const uint32_t* sigmoid = ke_lut_gate_pairs + 128; /* tanh at KE_LUT_PAIRS_TANH_OFFSET */
  int16_t* c = s->c;
  int8_t* y = s->y;
  int32_t j;
  for (j = 0; j < U; ++j, m += KE_DELTA_LSTM_UNIT_WORDS) {
    const int32_t i = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(mx[j] * scale, m[0], mh[j] * scale, m[1])));
    const int32_t f = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(mx[U + j] * scale, m[2], mh[U + j] * scale, m[3])));
    const int32_t g = ke_lut_pair(sigmoid, KE_LUT_PAIRS_TANH_OFFSET,
                                  ke_sat16(ke_requant2(mx[2 * U + j] * scale, m[4], mh[2 * U + j] * scale, m[5])));
    const int32_t o = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(mx[3 * U + j] * scale, m[6], mh[3 * U + j] * scale, m[7])));
    /* Q0.15 x Q3.12 and Q0.15 x Q0.15 / 8, both Q3.27: |f c| < 2^30, |i g| / 8 < 2^27 */
    const int32_t cv = ke_sat16((f * c[j] + ((i * g) >> 3) + (1 << 14)) >> 15);
    const int32_t tc = ke_lut_pair(sigmoid, KE_LUT_PAIRS_TANH_OFFSET, cv);
    const int32_t hv = (o * tc + (1 << 14)) >> 15;
    const int32_t yq = ke_delta_output(hv, y_mult, y_shift, y_zp);
    c[j] = (int16_t)cv;
    y[j] = (int8_t)yq;
  }
}

void ke_delta_lstm_i8_step(const ke_delta_lstm_i8_params* p, const int8_t* x,
                           ke_delta_lstm_i8_state* s, uint64_t* macs) {
  uint32_t count = ke_delta_update_i8(x, s->x_hat, p->x_threshold, &p->w, s->m_x, NULL);
  count += ke_delta_update_i8(s->y, s->h_hat, p->h_threshold, &p->v, s->m_h, NULL);
  if (p->acc_shift == 0) i8_gates(p, s, 1);
  else i8_gates(p, s, (int32_t)1 << p->acc_shift);
  if (macs) *macs += count;
}
