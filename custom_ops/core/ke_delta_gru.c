/* KE_DELTA_GRU step (ke_delta_gru.h).  The delta encoding and memory products are shared
 * (ke_delta.c); this file holds the GRU's gates and state update. */
#include "ke_delta_gru.h"

#include <string.h>

#include "ke_activation.h"
#include "ke_fixed.h"
#include "ke_lut.h"
#include "ke_simd.h"

/* ---- float32 ---- */

void ke_delta_gru_f32_reset(const ke_delta_gru_f32_params* p, ke_delta_gru_f32_state* s) {
  const int32_t U = p->units, G = 3 * p->units;
  memset(s->h, 0, sizeof(float) * (size_t)U);
  memset(s->h_hat, 0, sizeof(float) * (size_t)U);
  memset(s->x_hat, 0, sizeof(float) * (size_t)p->input_size);
  memcpy(s->m_x, p->bias, sizeof(float) * (size_t)G);
  memcpy(s->m_h, p->bias + G, sizeof(float) * (size_t)G);
}

void ke_delta_gru_f32_step(const ke_delta_gru_f32_params* p, const float* x,
                           ke_delta_gru_f32_state* s, uint64_t* macs) {
  const int32_t U = p->units;
  const float* mx = s->m_x;
  const float* mh = s->m_h;
  uint32_t count = ke_delta_update_f32(x, s->x_hat, p->input_threshold, &p->w, s->m_x, NULL);
  int32_t j;
  count += ke_delta_update_f32(s->h, s->h_hat, p->hidden_threshold, &p->v, s->m_h, NULL);
  for (j = 0; j < U; ++j) {
    const float z = ke_sigmoid(mx[j] + mh[j]);
    const float r = ke_sigmoid(mx[U + j] + mh[U + j]);
    const float n = ke_tanh(mx[2 * U + j] + r * mh[2 * U + j]);
    s->h[j] = z * s->h[j] + (1.0f - z) * n;
  }
  if (macs) *macs += count;
}

/* ---- int8 ---- */

int ke_delta_gru_i8_prepare(int32_t units, float x_scale, const float* w_scale, float y_scale,
                            const float* v_scale, int32_t* unit_consts, int32_t* acc_shift,
                            int32_t* y_multiplier, int32_t* y_shift) {
  return ke_delta_i8_prepare(units, 3, KE_DELTA_GRU_MAX_UNITS, KE_DELTA_GRU_UNIT_WORDS, x_scale,
                             w_scale, y_scale, v_scale, unit_consts, acc_shift, y_multiplier,
                             y_shift);
}

int ke_delta_gru_i8_check_constants(const ke_delta_gru_i8_params* p) {
  return ke_delta_i8_check_constants(p, p->bias + 3 * p->units);
}

void ke_delta_gru_i8_reset(const ke_delta_gru_i8_params* p, ke_delta_gru_i8_state* s) {
  const int32_t U = p->units, G = 3 * p->units;
  memset(s->h, 0, sizeof(int16_t) * (size_t)U);
  memset(s->y, p->y_zero_point, (size_t)U);      /* the real 0 */
  memset(s->h_hat, p->y_zero_point, (size_t)U);
  memset(s->x_hat, p->x_zero_point, (size_t)p->input_size);
  memcpy(s->m_x, p->bias, sizeof(int32_t) * (size_t)G);
  memcpy(s->m_h, p->bias + G, sizeof(int32_t) * (size_t)G);
}

/* The gate loop; scale = 2^L.  Pre-activations Q3.12, gates and h Q0.15. */
static KE_ALWAYS_INLINE void i8_gates(const ke_delta_gru_i8_params* p, ke_delta_gru_i8_state* s,
                                      const int32_t scale) {
  const int32_t U = p->units, y_zp = p->y_zero_point;
  const int32_t y_mult = p->y_multiplier, y_shift = p->y_shift;
  const int32_t* m = p->unit_consts;
  const int32_t* mx = s->m_x;
  const int32_t* mh = s->m_h;
  const uint32_t* sigmoid = ke_lut_gate_pairs + 128; /* tanh at KE_LUT_PAIRS_TANH_OFFSET */
  int16_t* h = s->h;
  int8_t* y = s->y;
  int32_t j;
  for (j = 0; j < U; ++j, m += KE_DELTA_GRU_UNIT_WORDS) {
    const int32_t z = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(mx[j] * scale, m[0], mh[j] * scale, m[1])));
    const int32_t r = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(mx[U + j] * scale, m[2], mh[U + j] * scale, m[3])));
    const int32_t an = ke_requant2(mx[2 * U + j] * scale, m[4], 0, 0);
    const int32_t hn = ke_requant2(mh[2 * U + j] * scale, m[5], 0, 0);
    /* an + floor(r hn / 2^15); |an|, |hn| < 2^30, r < 2^15: no overflow */
    const int32_t n = ke_lut_pair(sigmoid, KE_LUT_PAIRS_TANH_OFFSET, ke_sat16(ke_mlaw16(2 * hn, r, an)));
    /* z h + (1 - z) n = n + z (h - n): |z (h - n)| < 2^15 2^16; a convex mix, no saturation */
    const int32_t hv = n + ((z * (h[j] - n) + (1 << 14)) >> 15);
    const int32_t yq = ke_delta_output(hv, y_mult, y_shift, y_zp);
    h[j] = (int16_t)hv;
    y[j] = (int8_t)yq;
  }
}

void ke_delta_gru_i8_step(const ke_delta_gru_i8_params* p, const int8_t* x,
                          ke_delta_gru_i8_state* s, uint64_t* macs) {
  uint32_t count = ke_delta_update_i8(x, s->x_hat, p->x_threshold, &p->w, s->m_x, NULL);
  count += ke_delta_update_i8(s->y, s->h_hat, p->h_threshold, &p->v, s->m_h, NULL);
  /* L = 0 is the common case: a separate copy of the gate loop without the shifts */
  if (p->acc_shift == 0) i8_gates(p, s, 1);
  else i8_gates(p, s, (int32_t)1 << p->acc_shift);
  if (macs) *macs += count;
}
