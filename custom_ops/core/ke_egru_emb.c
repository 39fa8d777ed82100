/* The eGRU step (ke_egru_emb.h): Q15 with shift codes, and float32. */
#include "ke_egru_emb.h"

#include <stdint.h>

#include "ke_status.h"

/* Thumb-1 only cores (ARMv6-M) run the step's loops in ke_egru_emb_thumb1.c. */
#include "ke_egru_emb_thumb1.h"

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

/* floor(2^15 m / d), d = 2^15 + m > m, m = min(|a|, 2^24), with its sign: restoring
 * division, one quotient bit a step (rem < d <= 2^15 + 2^24: 2 rem fits int32).  Cortex-M0
 * has no divide instruction; its routine (ke_egru_emb_thumb1.c) computes the same q. */
static int32_t softsign_q15(int32_t a) {
  uint32_t m = a < 0 ? 0u - (uint32_t)a : (uint32_t)a; /* |INT32_MIN| too */
  if (m > KE_EGRU_EMB_SOFTSIGN_CLAMP) m = KE_EGRU_EMB_SOFTSIGN_CLAMP;
  const uint32_t d = KE_EGRU_EMB_ONE + m;
  uint32_t rem = m, q = 0;
  for (int bit = 0; bit < 15; ++bit) {
    rem <<= 1;
    q <<= 1;
    if (rem >= d) {
      rem -= d;
      q |= 1u;
    }
  }
  return a < 0 ? -(int32_t)q : (int32_t)q;
}

int32_t ke_egru_emb_softsign_q15(int32_t a) { return softsign_q15(a); }

/* The 16 code values of each of `n` Q15 inputs (n rounded up to even: the pad row is 0). */
static void fill_tables(const int16_t* v, int32_t n, int16_t* t) {
  const int32_t padded = KE_EGRU_EMB_PADDED_ROWS(n);
  int32_t i = 0;
#if KE_EGRU_EMB_THUMB1
  if (n >= 2) {
    i = n & ~1;
    ke_egru_emb_fill_t1(v, v + i, t);
    t += 16 * i;
  }
#endif
  for (; i < padded; ++i, t += 16) {
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

/* The group's 8 sums (bias included): columns z_{j..j+3}, h~_{j..j+3} over its x rows
 * (tables first) then its h rows; portable C, any alignment. */
static void group_sums(const ke_egru_emb_group* g, int32_t* acc) {
  const int16_t* t = g->tables;
  for (int k = 0; k < 4; ++k) acc[k] = g->bias_z[k], acc[4 + k] = g->bias_h[k];
  for (int pass = 0; pass < 2; ++pass) {
    const uint8_t* c = pass ? g->u : g->w;
    const uint8_t* end = pass ? g->u_end : g->w_end;
    for (; c < end; c += 4, t += 16)
      for (int k = 0; k < 8; ++k) acc[k] += t[(c[k >> 1] >> (4 * (k & 1))) & 15];
  }
}

/* The group's units: h_j from its two sums and h_{t-1}. */
static void group_units(const ke_egru_emb_group* g, const int32_t* acc) {
  for (int32_t k = 0; k < g->n; ++k) {
    const int32_t z = (softsign_q15(acc[k]) + KE_EGRU_EMB_ONE) >> 1; /* [0, 2^15) */
    const int32_t cand = softsign_q15(acc[4 + k]);                /* |.| <= 32767 */
    const int32_t prev = g->prev[16 * k];
    /* |prev - cand| < 2^16 and z < 2^15: the product fits int32.  No clamp: with z / 2^15
     * in [0, 1) the rounded step lands between cand and prev, both within +-32767. */
    g->h[k] = (int16_t)(cand + ((z * (prev - cand) + (1 << 14)) >> 15));
  }
}

void ke_egru_emb_q15_step(const ke_egru_emb_q15_params* p, const int16_t* x, int16_t* h,
                          int16_t* tables) {
  const int32_t units = p->units;
  const int32_t xrows = KE_EGRU_EMB_PADDED_ROWS(p->input_size);
  const int32_t hrows = KE_EGRU_EMB_PADDED_ROWS(units);
  fill_tables(x, p->input_size, tables);
  fill_tables(h, units, tables + 16 * xrows); /* the tables keep h_{t-1}: h changes below */
  ke_egru_emb_group g = {p->w_codes, p->w_codes + 4 * xrows, p->u_codes,
                         p->u_codes + 4 * hrows, tables, p->bias, p->bias + units,
                         tables + 16 * xrows + 1 /* entry 1 (e = 1) of h_0's table */, h, 4,
                         4 * xrows, 4 * hrows};
  int32_t j = 0;
#if KE_EGRU_EMB_THUMB1
  if (units >= 4 && ((((uintptr_t)p->w_codes | (uintptr_t)p->u_codes)) & 3u) == 0) {
    ke_egru_emb_groups_t1(&g, units / 4);
    j = units & ~3;
  }
#endif
  int32_t bias[8];
  for (; j < units; j += 4) {
    if (units - j < 4) { /* the last group: pad units read zero biases */
      g.n = units - j;
      for (int k = 0; k < 4; ++k) {
        bias[k] = k < g.n ? g.bias_z[k] : 0;
        bias[4 + k] = k < g.n ? g.bias_h[k] : 0;
      }
      g.bias_z = bias, g.bias_h = bias + 4;
    }
    int32_t acc[8];
    group_sums(&g, acc);
    group_units(&g, acc);
    g.w += g.w_bytes, g.w_end += g.w_bytes, g.u += g.u_bytes, g.u_end += g.u_bytes;
    g.bias_z += 4, g.bias_h += 4, g.prev += 64, g.h += 4;
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
