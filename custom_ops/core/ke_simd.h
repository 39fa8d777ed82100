/* Compiler attributes and host SIMD dispatch shared by the ops of custom_ops/core/.
 *
 * - KE_ALWAYS_INLINE / KE_NOINLINE: keep hot helpers in place, rare paths out of
 *   the register pressure of a loop.
 * - KE_HOST_SIMD_CLONES: on x86-64 Linux an AVX2 copy of a function next to the
 *   baseline one, picked at load time (gcc/clang function multi-versioning).
 * - KE_X86_SIMD (x86-64, gcc/clang, unless -DKE_NO_X86_SIMD): hand-written AVX2
 *   loops are compiled and chosen at run time with ke_have_avx2(); the lane
 *   helpers below compute exactly what the scalar helpers of ke_fixed.h / ke_lut.h
 *   compute, so host and MCU results stay bit-identical.
 * Cortex-M builds see only the first two. */
#ifndef KE_SIMD_H_
#define KE_SIMD_H_

#include <stdint.h>

#if defined(__GNUC__)
#define KE_ALWAYS_INLINE inline __attribute__((always_inline))
#define KE_NOINLINE __attribute__((noinline))
#else
#define KE_ALWAYS_INLINE inline
#define KE_NOINLINE
#endif

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define KE_HOST_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KE_HOST_SIMD_CLONES
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(KE_NO_X86_SIMD)
#define KE_X86_SIMD 1
#include <immintrin.h>

#include "ke_lut.h"

#define KE_AVX2 __attribute__((target("avx2")))

/* Whether the CPU runs AVX2 (checked once per translation unit). */
static inline int ke_have_avx2(void) {
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return have;
}

/* ke_requant2 per lane: floor((a ma + g mg) / 2^32), the high word of the exact
 * 64-bit sum from two 32x32->64 multiplies per lane pair. */
static inline KE_AVX2 __m256i ke_v_requant2(__m256i a, __m256i ma, __m256i g, __m256i mg) {
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, ma), _mm256_mul_epi32(g, mg));
  const __m256i odd = _mm256_add_epi64(
      _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(ma, 32)),
      _mm256_mul_epi32(_mm256_srli_epi64(g, 32), _mm256_srli_epi64(mg, 32)));
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* floor(a m / 2^32) per lane. */
static inline KE_AVX2 __m256i ke_v_requant1(__m256i a, __m256i m) {
  const __m256i even = _mm256_mul_epi32(a, m);
  const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(m, 32));
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* ke_mlaw16 per lane (b >= 0): acc + floor(a b / 2^16), bits 16..47 of a b. */
static inline KE_AVX2 __m256i ke_v_mlaw16(__m256i a, __m256i b, __m256i acc) {
  const __m256i even = _mm256_srli_epi64(_mm256_mul_epi32(a, b), 16);
  const __m256i odd = _mm256_slli_epi64(
      _mm256_srli_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), 16), 32);
  return _mm256_add_epi32(acc, _mm256_blend_epi32(even, odd, 0xAA));
}

static inline KE_AVX2 __m256i ke_v_sat16(__m256i v) {
  return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(INT16_MIN)),
                          _mm256_set1_epi32(INT16_MAX));
}

/* ke_lut per lane; `first` = index of the table's entry 0 in ke_lut_gate_tables
 * (0: sigmoid, KE_LUT_TANH_OFFSET: tanh).  Entries come in pairs from one 32-bit
 * gather: entry idx in the low half, idx + 1 in the high half. */
static inline KE_AVX2 __m256i ke_v_lut(int32_t first, __m256i x) {
  const __m256i idx = _mm256_add_epi32(_mm256_srai_epi32(x, 8), _mm256_set1_epi32(first + 128));
  const __m256i f = _mm256_and_si256(x, _mm256_set1_epi32(255));
  const __m256i pair = _mm256_i32gather_epi32((const int*)(const void*)ke_lut_gate_tables, idx, 2);
  const __m256i lo = _mm256_srai_epi32(_mm256_slli_epi32(pair, 16), 16);
  const __m256i hi = _mm256_srai_epi32(pair, 16);
  const __m256i d = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_sub_epi32(hi, lo), f),
                                     _mm256_set1_epi32(128));
  return _mm256_add_epi32(lo, _mm256_srai_epi32(d, 8));
}
#else
#define KE_X86_SIMD 0
#endif

#endif /* KE_SIMD_H_ */
