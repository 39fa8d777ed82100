/* The eGRU step (ke_egru_emb.h): Q15 with shift codes, and float32. */
#include "ke_egru_emb.h"

#include "ke_status.h"

/* Thumb-1 only cores (ARMv6-M: Cortex-M0/M0+/M1) get two inner loops in inline assembly
 * (the portable C next to each computes the same values; the M0 tests check bit-exactness
 * against the host build, which uses the C). */
#if defined(__GNUC__) && defined(__thumb__) && defined(__ARM_ARCH_6M__)
#define KE_EGRU_EMB_THUMB1_ASM 1
/* gcc before 13 wraps Thumb-1 inline asm in `.syntax divided`: each block switches to
 * unified syntax and back. */
#if !defined(__clang__) && __GNUC__ < 13
#define KE_ASM_END ".syntax divided\n"
#else
#define KE_ASM_END ""
#endif
#else
#define KE_EGRU_EMB_THUMB1_ASM 0
#endif

int ke_egru_emb_check_sizes(int32_t input_size, int32_t units) {
  if (input_size < 1 || units < 1 || units > KE_EGRU_EMB_MAX_UNITS ||
      input_size > KE_EGRU_EMB_MAX_ROWS - units)
    return KE_ERR_SIZE;
  return KE_OK;
}

int ke_egru_emb_check_bias(const int32_t* bias, int32_t count) {
  for (int32_t k = 0; k < count; ++k)
    if (bias[k] > KE_EGRU_EMB_MAX_BIAS || bias[k] < -KE_EGRU_EMB_MAX_BIAS) return KE_ERR_BIAS;
  return KE_OK;
}

int32_t ke_egru_emb_softsign_q15(int32_t a) {
  /* floor(2^15 m / d), d = 2^15 + m > m: restoring division, one quotient bit per
   * iteration (Cortex-M0 has no divide instruction; a library call costs more).
   * rem < d <= 2^15 + 2^24, so 2 rem stays well inside int32. */
  uint32_t m = a < 0 ? 0u - (uint32_t)a : (uint32_t)a; /* |INT32_MIN| too */
  if (m > KE_EGRU_EMB_SOFTSIGN_CLAMP) m = KE_EGRU_EMB_SOFTSIGN_CLAMP;
  const uint32_t d = KE_EGRU_EMB_ONE + m;
  uint32_t rem = m, q = 0;
#if KE_EGRU_EMB_THUMB1_ASM
  /* The same 15 steps: the compare leaves C = (rem >= d), which the subtraction keeps,
   * and `adcs` shifts it into q (4-5 instructions a bit instead of ~7). */
  __asm__(".syntax unified\n"
          "movs %[n], #15\n"
          "1:\n"
          "lsls %[rem], %[rem], #1\n"
          "cmp %[rem], %[d]\n"
          "bcc 2f\n"
          "subs %[rem], %[rem], %[d]\n"
          "2:\n"
          "adcs %[q], %[q], %[q]\n"
          "subs %[n], %[n], #1\n"
          "bne 1b\n"
          KE_ASM_END
          : [rem] "+l"(rem), [q] "+l"(q), [n] "=&l"(m)
          : [d] "l"(d)
          : "cc");
#else
  for (int bit = 0; bit < 15; ++bit) {
    rem <<= 1;
    q <<= 1;
    if (rem >= d) {
      rem -= d;
      q |= 1u;
    }
  }
#endif
  return a < 0 ? -(int32_t)q : (int32_t)q;
}

/* The 16 code values of each of `n` Q15 inputs (n rounded up to even: the pad row is 0). */
static void fill_tables(const int16_t* v, int32_t n, int16_t* t) {
  const int32_t padded = 2 * KE_EGRU_EMB_COL_BYTES(n);
  for (int32_t i = 0; i < padded; ++i, t += 16) {
    int32_t x = i < n ? v[i] : 0;
    if (x < -32767) x = -32767; /* -(-32768) would not fit an int16 */
    /* Unrolled: arithmetic shifts floor(x / 2^(e-1)) and their negations. */
    const int32_t s1 = x, s2 = x >> 1, s3 = x >> 2, s4 = x >> 3, s5 = x >> 4, s6 = x >> 5,
                  s7 = x >> 6;
    t[0] = 0; t[1] = (int16_t)s1; t[2] = (int16_t)s2; t[3] = (int16_t)s3;
    t[4] = (int16_t)s4; t[5] = (int16_t)s5; t[6] = (int16_t)s6; t[7] = (int16_t)s7;
    t[8] = 0; t[9] = (int16_t)-s1; t[10] = (int16_t)-s2; t[11] = (int16_t)-s3;
    t[12] = (int16_t)-s4; t[13] = (int16_t)-s5; t[14] = (int16_t)-s6; t[15] = (int16_t)-s7;
  }
}

/* Adds the tabulated values over two columns' codes (two per byte) to acc[0], acc[1]:
 * the z and h~ columns of one unit, `gap` bytes apart.  Both columns share the table
 * pointers and the loop (Cortex-M0: the nibble offsets are two shifts each, no mask
 * register; eight low registers hold the loop's values). */
static void column_pair_sums(const uint8_t* codes, int32_t bytes, int32_t gap, const int16_t* t,
                             int32_t* acc) {
  int32_t a0 = acc[0], a1 = acc[1];
  const uint8_t* end = codes + bytes;
  const char* lo = (const char*)t;        /* table of the even row */
  const char* hi = (const char*)(t + 16); /* table of the odd row  */
#if KE_EGRU_EMB_THUMB1_ASM
  /* The loop below in Thumb-1, 23 instructions per byte pair (4 weights); gcc's own
   * allocation spills to high registers (26+).  Same operations, same sums. */
  uint32_t c, x;
  if (bytes > 0)
    __asm__(".syntax unified\n"
            "1:\n"
            "ldrb %[c], [%[p]]\n"
            "lsls %[x], %[c], #28\n"
            "lsrs %[x], %[x], #27\n"
            "ldrsh %[x], [%[lo], %[x]]\n"
            "adds %[a0], %[a0], %[x]\n"
            "lsrs %[c], %[c], #4\n"
            "lsls %[c], %[c], #1\n"
            "ldrsh %[c], [%[hi], %[c]]\n"
            "adds %[a0], %[a0], %[c]\n"
            "ldrb %[c], [%[p], %[gap]]\n"
            "lsls %[x], %[c], #28\n"
            "lsrs %[x], %[x], #27\n"
            "ldrsh %[x], [%[lo], %[x]]\n"
            "adds %[a1], %[a1], %[x]\n"
            "lsrs %[c], %[c], #4\n"
            "lsls %[c], %[c], #1\n"
            "ldrsh %[c], [%[hi], %[c]]\n"
            "adds %[a1], %[a1], %[c]\n"
            "adds %[p], %[p], #1\n"
            "adds %[lo], %[lo], #64\n"
            "adds %[hi], %[hi], #64\n"
            "cmp %[p], %[end]\n"
            "bne 1b\n"
            KE_ASM_END
            : [p] "+l"(codes), [lo] "+l"(lo), [hi] "+l"(hi), [a0] "+l"(a0), [a1] "+l"(a1),
              [c] "=&l"(c), [x] "=&l"(x)
            : [gap] "l"(gap), [end] "r"(end)
            : "cc", "memory");
#else
  for (; codes < end; ++codes, lo += 64, hi += 64) {
    uint32_t c = codes[0];
    a0 += *(const int16_t*)(lo + ((c << 28) >> 27));
    a0 += *(const int16_t*)(hi + ((c >> 4) << 1));
    c = codes[gap];
    a1 += *(const int16_t*)(lo + ((c << 28) >> 27));
    a1 += *(const int16_t*)(hi + ((c >> 4) << 1));
  }
#endif
  acc[0] = a0;
  acc[1] = a1;
}

void ke_egru_emb_q15_step(const ke_egru_emb_q15_params* p, const int16_t* x, int16_t* h,
                          int16_t* tables) {
  const int32_t units = p->units;
  const int32_t xb = KE_EGRU_EMB_COL_BYTES(p->input_size), hb = KE_EGRU_EMB_COL_BYTES(units);
  int16_t* tx = tables;
  int16_t* th = tables + 32 * xb;
  fill_tables(x, p->input_size, tx);
  fill_tables(h, units, th); /* the tables keep h_{t-1}: h is updated in place below */
  for (int32_t j = 0; j < units; ++j) {
    int32_t acc[2] = {p->bias[j], p->bias[units + j]}; /* columns z_j and h~_j */
    column_pair_sums(p->w_codes + j * xb, xb, units * xb, tx, acc);
    column_pair_sums(p->u_codes + j * hb, hb, units * hb, th, acc);
    const int32_t z = (ke_egru_emb_softsign_q15(acc[0]) + KE_EGRU_EMB_ONE) >> 1; /* [0, 2^15) */
    const int32_t cand = ke_egru_emb_softsign_q15(acc[1]);                     /* |.| < 2^15 */
    const int32_t prev = th[32 * (j >> 1) + 16 * (j & 1) + 1];           /* h_{t-1}, e = 1 */
    /* |prev - cand| < 2^16 and z < 2^15: the product fits int32. */
    int32_t next = cand + ((z * (prev - cand) + (1 << 14)) >> 15);
    if (next > 32767) next = 32767;
    if (next < -32767) next = -32767;
    h[j] = (int16_t)next;
  }
}

static float softsign(float v) { return v / (1.0f + (v < 0 ? -v : v)); }

void ke_egru_emb_f32_step(const ke_egru_emb_f32_params* p, const float* x, float* h,
                          float* scratch) {
  const int32_t units = p->units, cols = 2 * units;
  for (int32_t k = 0; k < cols; ++k) scratch[k] = p->bias[k];
  for (int32_t i = 0; i < p->input_size; ++i) {
    const float* row = p->kernel + (int64_t)i * cols;
    for (int32_t k = 0; k < cols; ++k) scratch[k] += x[i] * row[k];
  }
  for (int32_t i = 0; i < units; ++i) {
    const float* row = p->recurrent_kernel + (int64_t)i * cols;
    for (int32_t k = 0; k < cols; ++k) scratch[k] += h[i] * row[k];
  }
  for (int32_t j = 0; j < units; ++j) {
    const float z = 0.5f * (softsign(scratch[j]) + 1.0f);
    const float cand = softsign(scratch[units + j]);
    h[j] = z * h[j] + (1.0f - z) * cand;
  }
}
