/* Packed int16x2 arithmetic of the Armv7E-M DSP extension, with a portable C twin.
 *
 * A uint32_t holds two int16 lanes: bits 0..15 ("lo", the real part of a complex
 * value) and bits 16..31 ("hi", the imaginary part).  On a core with the DSP
 * extension (__ARM_FEATURE_SIMD32: Cortex-M4/M7/M33) every helper is one ACLE
 * intrinsic, i.e. one instruction; elsewhere (the host) the C twin computes the
 * same bits, so a front end built on these is bit-exact between host and board.
 * Semantics follow the Armv7-M Architecture Reference Manual (SHADD16, SHSUB16,
 * SHASX, SHSAX, QADD16, QSUB16, SMUAD, SMUSD, SMUADX, SMULBB, SMULTT, PKHBT,
 * PKHTB, SSUB16 + SEL, SMLAWB, SMLAWT, SMLALD, LDRD, STRD, LDM, STM). */
#ifndef KE_DSP16_H_
#define KE_DSP16_H_

#include <stdint.h>

#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
#include <arm_acle.h>
#define KE_DSP16_NATIVE 1
#endif

static inline int32_t ke_lo16(uint32_t v) { return (int16_t)(v & 0xFFFFu); }
static inline int32_t ke_hi16(uint32_t v) { return (int16_t)(v >> 16); }
static inline uint32_t ke_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}
/* Arithmetic shift right of a signed value (floor division by 2^s), spelled so
 * that it does not depend on the compiler's choice for negative >>. */
static inline int32_t ke_asr32(int32_t v, int s) { return v >= 0 ? v >> s : ~(~v >> s); }
static inline int32_t ke_sat16(int32_t v) {
  return v > 32767 ? 32767 : (v < -32768 ? -32768 : v);
}

/* Inlined even where the compiler's size heuristics would not (GCC, Clang). */
#if defined(__GNUC__)
#define KE_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define KE_ALWAYS_INLINE inline
#endif

/* Two adjacent words p[k], p[k + 1] in one instruction (LDRD / STRD on Arm; k a
 * compile-time constant, 4 k <= 1020): the compiler pairs two plain accesses only when
 * its schedule happens to put them side by side, and an always-on device pays per
 * instruction.  The memory operands tell the compiler which words are read or written.
 * Elsewhere two plain accesses. */
#ifdef KE_DSP16_NATIVE
#define KE_LOAD2(p, k, a, b)                                                   \
  __asm__("ldrd %0, %1, [%2, %3]" : "=r"(a), "=r"(b)                           \
          : "r"(p), "i"(4 * (k)), "m"(*(const uint32_t(*)[2])((p) + (k))))
#define KE_STORE2(p, k, a, b)                                                  \
  __asm__("strd %1, %2, [%3, %4]" : "=m"(*(uint32_t(*)[2])((p) + (k)))         \
          : "r"(a), "r"(b), "r"(p), "i"(4 * (k)))
/* The same with the pointer stepped by d words after the access (post-indexed LDRD /
 * STRD, d = +-2: the next or the previous pair), so a loop over pairs needs no pointer
 * arithmetic of its own. */
#define KE_LOAD2_STEP(p, d, a, b)                                              \
  __asm__("ldrd %0, %1, [%2], %4" : "=r"(a), "=r"(b), "+r"(p)                  \
          : "m"(*(const uint32_t(*)[2])(p)), "i"(4 * (d)))
#define KE_STORE2_STEP(p, d, a, b)                                             \
  __asm__("strd %2, %3, [%1], %4" : "=m"(*(uint32_t(*)[2])(p)), "+r"(p)        \
          : "r"(a), "r"(b), "i"(4 * (d)))
#else
#define KE_LOAD2(p, k, a, b) ((a) = (p)[k], (b) = (p)[(k) + 1])
#define KE_STORE2(p, k, a, b) ((p)[k] = (a), (p)[(k) + 1] = (b))
#define KE_LOAD2_STEP(p, d, a, b) ((a) = (p)[0], (b) = (p)[1], (p) += (d))
#define KE_STORE2_STEP(p, d, a, b) ((p)[0] = (a), (p)[1] = (b), (p) += (d))
#endif

#ifdef KE_DSP16_NATIVE
/* lo half of a, hi half of b (PKHBT). */
static inline uint32_t ke_pkhbt(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* lo half of a, b << 16 as the hi half (PKHBT with LSL #16). */
static inline uint32_t ke_pkhbt16(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* The Q30 pair (re, im) to packed Q15 by truncation: hi half of im << 1, lo half of
 * re >> 15 (PKHTB); the caller keeps |im| < 2^30. */
static inline uint32_t ke_pack_q30(int32_t re, int32_t im) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #15" : "=r"(r) : "r"((uint32_t)im << 1), "r"(re));
  return r;
}
/* The Q31 pair (re, im) to packed Q15 by truncation: hi halves (PKHTB, ASR #16). */
static inline uint32_t ke_pack_hi(int32_t re, int32_t im) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(im), "r"(re));
  return r;
}
/* Saturate to int16 (SSAT #16). */
static inline int32_t ke_ssat16(int32_t v) { return __ssat(v, 16); }
/* lo = a.lo * b.lo, hi = a.hi * b.hi (SMULBB / SMULTT). */
static inline int32_t ke_smulbb(uint32_t a, uint32_t b) {
  int32_t r;
  __asm__("smulbb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline int32_t ke_smultt(uint32_t a, uint32_t b) {
  int32_t r;
  __asm__("smultt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* |lo|, |hi| as uint16 lanes (|-32768| = 0x8000): SSUB16 sets GE where -v >= 0. */
static inline uint32_t ke_abs16x2(uint32_t v) {
  const int32_t neg = __ssub16(0, (int32_t)v);
  return (uint32_t)__sel(neg, (int32_t)v);
}
static inline uint32_t ke_shadd16(uint32_t a, uint32_t b) { return (uint32_t)__shadd16((int32_t)a, (int32_t)b); }
static inline uint32_t ke_shsub16(uint32_t a, uint32_t b) { return (uint32_t)__shsub16((int32_t)a, (int32_t)b); }
static inline uint32_t ke_shasx(uint32_t a, uint32_t b) { return (uint32_t)__shasx((int32_t)a, (int32_t)b); }
static inline uint32_t ke_shsax(uint32_t a, uint32_t b) { return (uint32_t)__shsax((int32_t)a, (int32_t)b); }
static inline uint32_t ke_qadd16(uint32_t a, uint32_t b) { return (uint32_t)__qadd16((int32_t)a, (int32_t)b); }
static inline uint32_t ke_qsub16(uint32_t a, uint32_t b) { return (uint32_t)__qsub16((int32_t)a, (int32_t)b); }
static inline int32_t ke_smuad(uint32_t a, uint32_t b) { return __smuad((int32_t)a, (int32_t)b); }
static inline int32_t ke_smusd(uint32_t a, uint32_t b) { return __smusd((int32_t)a, (int32_t)b); }
static inline int32_t ke_smuadx(uint32_t a, uint32_t b) { return __smuadx((int32_t)a, (int32_t)b); }
/* acc + ((a * b.lo) >> 16) and acc + ((a * b.hi) >> 16): a 32 x 16 multiply keeping
 * the top 32 of its 48 bits (SMLAWB / SMLAWT). */
static inline int32_t ke_smlawb(int32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlawb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
static inline int32_t ke_smlawt(int32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlawt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* acc + a.lo b.lo + a.hi b.hi in 64 bits (SMLALD). */
static inline int64_t ke_smlald(uint32_t a, uint32_t b, int64_t acc) {
  return __smlald((int32_t)a, (int32_t)b, acc);
}
#else
static inline uint32_t ke_pkhbt(uint32_t a, uint32_t b) {
  return (a & 0xFFFFu) | (b & 0xFFFF0000u);
}
static inline uint32_t ke_pkhbt16(uint32_t a, uint32_t b) {
  return (a & 0xFFFFu) | (b << 16);
}
static inline uint32_t ke_pack_q30(int32_t re, int32_t im) {
  return (((uint32_t)im << 1) & 0xFFFF0000u) | ((uint32_t)ke_asr32(re, 15) & 0xFFFFu);
}
static inline uint32_t ke_pack_hi(int32_t re, int32_t im) {
  return ((uint32_t)im & 0xFFFF0000u) | (((uint32_t)re >> 16) & 0xFFFFu);
}
static inline int32_t ke_ssat16(int32_t v) { return ke_sat16(v); }
static inline int32_t ke_smulbb(uint32_t a, uint32_t b) { return ke_lo16(a) * ke_lo16(b); }
static inline int32_t ke_smultt(uint32_t a, uint32_t b) { return ke_hi16(a) * ke_hi16(b); }
static inline uint32_t ke_abs16x2(uint32_t v) {
  const int32_t lo = ke_lo16(v), hi = ke_hi16(v);
  return ke_pack16(lo < 0 ? -lo : lo, hi < 0 ? -hi : hi);
}
/* (a + b) >> 1 per lane from the 17-bit sum: never overflows. */
static inline uint32_t ke_shadd16(uint32_t a, uint32_t b) {
  return ke_pack16(ke_asr32(ke_lo16(a) + ke_lo16(b), 1), ke_asr32(ke_hi16(a) + ke_hi16(b), 1));
}
static inline uint32_t ke_shsub16(uint32_t a, uint32_t b) {
  return ke_pack16(ke_asr32(ke_lo16(a) - ke_lo16(b), 1), ke_asr32(ke_hi16(a) - ke_hi16(b), 1));
}
/* hi = (a.hi + b.lo) / 2, lo = (a.lo - b.hi) / 2: (a + j b) / 2 for complex lanes. */
static inline uint32_t ke_shasx(uint32_t a, uint32_t b) {
  return ke_pack16(ke_asr32(ke_lo16(a) - ke_hi16(b), 1), ke_asr32(ke_hi16(a) + ke_lo16(b), 1));
}
/* hi = (a.hi - b.lo) / 2, lo = (a.lo + b.hi) / 2: (a - j b) / 2 for complex lanes. */
static inline uint32_t ke_shsax(uint32_t a, uint32_t b) {
  return ke_pack16(ke_asr32(ke_lo16(a) + ke_hi16(b), 1), ke_asr32(ke_hi16(a) - ke_lo16(b), 1));
}
static inline uint32_t ke_qadd16(uint32_t a, uint32_t b) {
  return ke_pack16(ke_sat16(ke_lo16(a) + ke_lo16(b)), ke_sat16(ke_hi16(a) + ke_hi16(b)));
}
static inline uint32_t ke_qsub16(uint32_t a, uint32_t b) {
  return ke_pack16(ke_sat16(ke_lo16(a) - ke_lo16(b)), ke_sat16(ke_hi16(a) - ke_hi16(b)));
}
/* The dual multiplies wrap modulo 2^32 like the instructions (they only set the Q
 * flag); the 64-bit sum keeps the C free of signed overflow. */
static inline int32_t ke_wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }
static inline int32_t ke_smuad(uint32_t a, uint32_t b) {
  return ke_wrap32((int64_t)ke_lo16(a) * ke_lo16(b) + (int64_t)ke_hi16(a) * ke_hi16(b));
}
static inline int32_t ke_smusd(uint32_t a, uint32_t b) {
  return ke_lo16(a) * ke_lo16(b) - ke_hi16(a) * ke_hi16(b);
}
static inline int32_t ke_smuadx(uint32_t a, uint32_t b) {
  return ke_wrap32((int64_t)ke_lo16(a) * ke_hi16(b) + (int64_t)ke_hi16(a) * ke_lo16(b));
}
/* Bits 47..16 of the 48-bit product (floor division by 2^16), added modulo 2^32. */
static inline int32_t ke_mulw16(int32_t a, int32_t b16) {
  const int64_t v = (int64_t)a * b16;
  return (int32_t)(v >= 0 ? v >> 16 : ~(~v >> 16));
}
static inline int32_t ke_smlawb(int32_t a, uint32_t b, int32_t acc) {
  return ke_wrap32((int64_t)acc + ke_mulw16(a, ke_lo16(b)));
}
static inline int32_t ke_smlawt(int32_t a, uint32_t b, int32_t acc) {
  return ke_wrap32((int64_t)acc + ke_mulw16(a, ke_hi16(b)));
}
/* The callers keep |acc| far below 2^63 (no wrap to model). */
static inline int64_t ke_smlald(uint32_t a, uint32_t b, int64_t acc) {
  return acc + (int64_t)ke_lo16(a) * ke_lo16(b) + (int64_t)ke_hi16(a) * ke_hi16(b);
}
#endif

#endif /* KE_DSP16_H_ */
