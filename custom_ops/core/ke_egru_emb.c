/* The eGRU step (ke_egru_emb.h): Q15 with shift codes, and float32. */
#include "ke_egru_emb.h"

#include "ke_status.h"

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
  uint32_t m = (uint32_t)(a < 0 ? -a : a);
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

/* The 16 code values of each of `n` Q15 inputs (n rounded up to even: the pad row is 0). */
static void fill_tables(const int16_t* v, int32_t n, int16_t* t) {
  const int32_t padded = 2 * KE_EGRU_EMB_COL_BYTES(n);
  for (int32_t i = 0; i < padded; ++i, t += 16) {
    int32_t x = i < n ? v[i] : 0;
    if (x < -32767) x = -32767; /* -(-32768) would not fit an int16 */
    t[0] = t[8] = 0;
    for (int e = 1; e < 8; ++e) {
      const int16_t s = (int16_t)(x >> (e - 1)); /* arithmetic shift: floor(x / 2^(e-1)) */
      t[e] = s;
      t[8 + e] = (int16_t)-s;
    }
  }
}

/* Sum over one column's codes (two per byte) of the tabulated values. */
static int32_t column_sum(const uint8_t* codes, int32_t bytes, const int16_t* t, int32_t acc) {
  for (int32_t b = 0; b < bytes; ++b, t += 32) {
    const uint32_t c = codes[b];
    acc += t[c & 15u];
    acc += t[16 + (c >> 4)];
  }
  return acc;
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
    const int32_t zj = j, hj = units + j;
    int32_t az = column_sum(p->w_codes + zj * xb, xb, tx, p->bias[zj]);
    az = column_sum(p->u_codes + zj * hb, hb, th, az);
    int32_t ah = column_sum(p->w_codes + hj * xb, xb, tx, p->bias[hj]);
    ah = column_sum(p->u_codes + hj * hb, hb, th, ah);
    const int32_t z = (ke_egru_emb_softsign_q15(az) + KE_EGRU_EMB_ONE) >> 1; /* [0, 2^15) */
    const int32_t cand = ke_egru_emb_softsign_q15(ah);                     /* |.| < 2^15 */
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
