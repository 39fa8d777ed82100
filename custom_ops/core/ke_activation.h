/* Float gate nonlinearities shared by the float32 reference paths of every op:
 * exp, sigmoid and tanh written so that compilers vectorize a gate loop (glibc's
 * expf is a call per element).  `static inline` (see ke_fixed.h). */
#ifndef KE_ACTIVATION_H_
#define KE_ACTIVATION_H_

#include <stdint.h>
#include <string.h>

/* exp(x) for the float gates, written so that compilers vectorize a gate loop
 * (glibc's expf is a call per element; the host build adds -fno-trapping-math so
 * gcc if-converts the clamps): x = n ln2 + r with n = round(x / ln2)
 * (round-to-nearest through the 1.5 * 2^23 trick, no libm), ln2 split in a
 * high part exact in float and a low part (Cody-Waite), e^r by its degree-6
 * Taylor polynomial on |r| <= ln2/2 (truncation < 1.3e-7 relative), 2^n built
 * in the exponent bits.  |x| is clamped to 87 so 2^n stays a normal float; the
 * gates saturate long before (sigmoid(-87) ~ 1.6e-38).  Relative error ~2e-7,
 * like expf's. */
static inline float ke_exp(float x) {
  const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  float k, n, r, p, scale;
  int32_t k_bits, bits;
  x = x < 87.0f ? x : 87.0f; /* this operand order maps to minss/maxss */
  x = x > -87.0f ? x : -87.0f;
  k = x * 1.44269504f + shifter; /* round(x / ln2) sits in k's low mantissa bits */
  n = k - shifter;
  memcpy(&k_bits, &k, sizeof k_bits);
  r = x - n * 0.693145752f;   /* ln2 high part (0x3f317200): n * hi is exact */
  r = r - n * 1.42860677e-6f; /* ln2 - high part */
  p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  bits = (k_bits - 0x4B400000 + 127) * (1 << 23); /* 2^n, n in [-126, 126] */
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
static inline float ke_sigmoid(float x) { return 1.0f / (1.0f + ke_exp(-x)); }
/* tanh x = 1 - 2 / (exp(2x) + 1): saturates correctly at both ends. */
static inline float ke_tanh(float x) { return 1.0f - 2.0f / (ke_exp(2.0f * x) + 1.0f); }

#endif /* KE_ACTIVATION_H_ */
