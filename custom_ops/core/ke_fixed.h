/* Fixed-point arithmetic shared by the integer paths of every op: real multipliers
 * as (int32 multiplier, shift), rounding shifts, saturation and the fused
 * requantization of gate pre-activations (custom_ops/README.md, "Numerics").
 *
 * Everything a step calls is `static inline` here, not in a .c file: a call across
 * translation units cannot be inlined, and the gate loops of the Cortex-M kernels
 * depend on these being a few instructions in place.  Only the Prepare-time
 * conversion ke_quantize_multiplier (floating point) is out of line (ke_fixed.c).
 *
 * Right-shifting a negative value is implementation-defined in C99; every compiler
 * this targets (gcc, clang, armcc/armclang) documents it as arithmetic, and a
 * branch-free shift matters in the gate loops. */
#ifndef KE_FIXED_H_
#define KE_FIXED_H_

#include <stdint.h>

#include "ke_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A real multiplier M > 0 as M = multiplier * 2^(shift - 31), multiplier in
 * [2^30, 2^31).  Float is used here only: call it from Prepare.  Returns KE_OK or
 * KE_ERR_SCALE (M not positive/finite, or 2^shift out of range). */
int ke_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift);

/* round(x / 2^n) for n >= 1: add half, then shift right arithmetically. */
static inline int64_t ke_round_shift(int64_t x, int32_t n) {
  return (x + ((int64_t)1 << (n - 1))) >> n;
}

static inline int32_t ke_sat32(int64_t v) {
  if (v > INT32_MAX) return INT32_MAX;
  if (v < INT32_MIN) return INT32_MIN;
  return (int32_t)v;
}

/* round(x * multiplier * 2^(shift - 31)), half away from -inf (add half, then
 * arithmetic shift), computed exactly in 64 bits, saturated to int32. */
static inline int32_t ke_mul_by_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  return ke_sat32(ke_round_shift((int64_t)x * (int64_t)multiplier, 31 - shift));
}

/* Saturation to int16 and the 32x16 multiply-accumulate acc + floor(a * b / 2^16)
 * (b an int16).  On Arm cores with the DSP extension (Cortex-M4/M7/M33, A-profile)
 * these are single instructions (ACLE intrinsics); elsewhere the portable lines
 * compute the same values. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#define ke_sat16(v) __ssat((v), 16)
#define ke_mlaw16(a, b, acc) __smlawb((a), (b), (acc))
#else
static inline int32_t ke_sat16(int32_t v) {
  return v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v);
}
static inline int32_t ke_mlaw16(int32_t a, int32_t b, int32_t acc) {
  return acc + (int32_t)(((int64_t)a * (int16_t)b) >> 16);
}
#endif

/* The fused requantization of a gate pre-activation: floor((A m_A + G m_G) / 2^32)
 * with A, G already scaled by 2^L.  One `smull` + one `smlal` into a 64-bit register
 * pair, the result is its high word (floor, not round: no rounding constant to set
 * up; the -0.5 LSB bias is 1.2e-4 in a Q3.12 pre-activation).  Exact when the caller
 * has bounded |A|, |G| < 2^31 and |m| < 2^31 (e.g. ke_egru_i8_check_constants): the
 * sum stays inside int64 and its high word inside +-2^31. */
static inline int32_t ke_requant2(int32_t a, int32_t ma, int32_t g, int32_t mg) {
  return (int32_t)(((int64_t)a * ma + (int64_t)g * mg) >> 32);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_FIXED_H_ */
