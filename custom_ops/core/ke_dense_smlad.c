/* Dense int8 EGRU step with SMLAD dual MACs (see ke_dense_smlad.h). */
#include "ke_dense_smlad.h"

#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define KE_SXTB16(v) ((uint32_t)__sxtb16(v))
/* SXTB16 with its free rotation (GCC's arm_acle.h has no __ror to fold into it). */
static inline uint32_t ke_sxtb16_ror8(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
#define KE_SXTB16_ROR8(v) ke_sxtb16_ror8(v)
#define KE_SMLAD(a, b, acc) __smlad((a), (b), (acc))
#else
/* Portable equivalents: bytes 0 and 2 (or 1 and 3) sign-extended to two int16 lanes, and the
 * dual 16x16 multiply-accumulate. */
static inline uint32_t ke_sxtb16(uint32_t v) {
  return (uint32_t)(uint16_t)(int16_t)(int8_t)(v & 0xFF) |
         ((uint32_t)(uint16_t)(int16_t)(int8_t)((v >> 16) & 0xFF) << 16);
}
#define KE_SXTB16(v) ke_sxtb16(v)
#define KE_SXTB16_ROR8(v) ke_sxtb16(((v) >> 8) | ((v) << 24))
static inline int32_t ke_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)(a & 0xFFFF) * (int16_t)(b & 0xFFFF)) +
                   (uint32_t)((int32_t)(int16_t)(a >> 16) * (int16_t)(b >> 16)));
}
#define KE_SMLAD(a, b, acc) ke_smlad((a), (b), (acc))
#endif

/* v - zp as int16 in the lane order of KE_SXTB16 / KE_SXTB16_ROR8: per group of 4 inputs
 * [v0 v2 v1 v3], padded with zeros to a multiple of 4. */
static void offset_pairs(const int8_t* v, int32_t n, int32_t zp, int16_t* out) {
  const int32_t n4 = KE_DENSE_PAD4(n);
  for (int32_t i = 0; i < n4; i += 4) {
    int16_t q[4];
    for (int32_t k = 0; k < 4; ++k) q[k] = (int16_t)(i + k < n ? v[i + k] - zp : 0);
    out[i] = q[0]; out[i + 1] = q[2]; out[i + 2] = q[1]; out[i + 3] = q[3];
  }
}

/* acc[k] = bias[k] + sum_i m[k][i] xs[i] for k < cols: four columns per pass (each pair of
 * input words loaded once serves 16 MACs), then pairs, then a last single column. */
static void dense_product(const int8_t* m, int32_t n4, int32_t cols, const int16_t* xs,
                          const int32_t* bias, int32_t* acc) {
  int32_t k = 0;
  for (; k + 3 < cols; k += 4) {
    const int8_t* r0 = m + (size_t)k * n4;
    int32_t s0 = bias[k], s1 = bias[k + 1], s2 = bias[k + 2], s3 = bias[k + 3];
    for (int32_t i = 0; i < n4; i += 4) {
      uint32_t w0, w1, w2, w3, xa, xb;
      memcpy(&xa, xs + i, 4);
      memcpy(&xb, xs + i + 2, 4);
      memcpy(&w0, r0 + i, 4);
      memcpy(&w1, r0 + n4 + i, 4);
      memcpy(&w2, r0 + 2 * n4 + i, 4);
      memcpy(&w3, r0 + 3 * n4 + i, 4);
      s0 = KE_SMLAD(KE_SXTB16(w0), xa, s0);
      s0 = KE_SMLAD(KE_SXTB16_ROR8(w0), xb, s0);
      s1 = KE_SMLAD(KE_SXTB16(w1), xa, s1);
      s1 = KE_SMLAD(KE_SXTB16_ROR8(w1), xb, s1);
      s2 = KE_SMLAD(KE_SXTB16(w2), xa, s2);
      s2 = KE_SMLAD(KE_SXTB16_ROR8(w2), xb, s2);
      s3 = KE_SMLAD(KE_SXTB16(w3), xa, s3);
      s3 = KE_SMLAD(KE_SXTB16_ROR8(w3), xb, s3);
    }
    acc[k] = s0; acc[k + 1] = s1; acc[k + 2] = s2; acc[k + 3] = s3;
  }
  for (; k + 1 < cols; k += 2) {
    const int8_t* r0 = m + (size_t)k * n4;
    const int8_t* r1 = r0 + n4;
    int32_t s0 = bias[k], s1 = bias[k + 1];
    for (int32_t i = 0; i < n4; i += 4) {
      uint32_t w0, w1, xa, xb;
      memcpy(&w0, r0 + i, 4);
      memcpy(&w1, r1 + i, 4);
      memcpy(&xa, xs + i, 4);
      memcpy(&xb, xs + i + 2, 4);
      s0 = KE_SMLAD(KE_SXTB16(w0), xa, s0);
      s0 = KE_SMLAD(KE_SXTB16_ROR8(w0), xb, s0);
      s1 = KE_SMLAD(KE_SXTB16(w1), xa, s1);
      s1 = KE_SMLAD(KE_SXTB16_ROR8(w1), xb, s1);
    }
    acc[k] = s0;
    acc[k + 1] = s1;
  }
  for (; k < cols; ++k) {
    const int8_t* r0 = m + (size_t)k * n4;
    int32_t s0 = bias[k];
    for (int32_t i = 0; i < n4; i += 4) {
      uint32_t w0, xa, xb;
      memcpy(&w0, r0 + i, 4);
      memcpy(&xa, xs + i, 4);
      memcpy(&xb, xs + i + 2, 4);
      s0 = KE_SMLAD(KE_SXTB16(w0), xa, s0);
      s0 = KE_SMLAD(KE_SXTB16_ROR8(w0), xb, s0);
    }
    acc[k] = s0;
  }
}

void ke_dense_i8_step(const ke_dense_i8_params* d, const int8_t* x, ke_egru_i8_state* s,
                      int16_t* xbuf, int32_t* scratch) {
  const ke_egru_i8_params* p = d->p;
  const int32_t I = p->input_size, U = p->units, G = 3 * U;
  int32_t* a = scratch;
  int32_t* g = scratch + G;
  offset_pairs(x, I, p->x_zero_point, xbuf);
  dense_product(d->wt, KE_DENSE_PAD4(I), G, xbuf, p->bias, a);
  offset_pairs(s->y, U, p->y_zero_point, xbuf);
  dense_product(d->vt, KE_DENSE_PAD4(U), G, xbuf, p->bias + G, g);
  ke_egru_i8_gates(p, a, g, s); /* the EGRU's own gate loop: same bits */
}
