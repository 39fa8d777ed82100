/* KE_EGRU step: float32 reference and int8/int16 integer path.
 * Math and formats: ke_egru.h and custom_ops/README.md.  The compressed-row products,
 * fixed-point helpers, lookup tables and host SIMD dispatch are shared with the other
 * ops (ke_sparse.h, ke_fixed.h, ke_lut.h, ke_activation.h, ke_simd.h); this file holds
 * what is EGRU's own: the gate equations, the state update and the event rule. */
#include "ke_egru.h"

#include <math.h>
#include <string.h>

#include "ke_activation.h"
#include "ke_egru_gates_m4.h"
#include "ke_fixed.h"
#include "ke_lut.h"
#include "ke_simd.h"
#include "ke_sparse.h"

const char* ke_egru_status_string(int status) {
  switch (status) {
    case KE_OK: return "ok";
    case KE_ERR_SIZE: return "units must be in 1..10922 and input size in 1..32767";
    case KE_ERR_OFFSETS:
      return "offsets must start at 0, be non-decreasing and end at the number of values";
    case KE_ERR_INDEX:
      return "an index is outside 0..3*units-1 or not strictly ascending within its row (block-4 "
             "form: a group not of 4 aligned columns)";
    case KE_ERR_BIAS: return "an int32 bias is outside +-2^30";
    case KE_ERR_SCALE:
      return "a quantization scale is not positive/finite or its multiplier is out of range";
    case KE_ERR_THRESHOLD: return "a threshold is outside (0, 1) (int16: 1..32767)";
    case KE_ERR_RANGE:
      return "the int32 accumulators could exceed the range the requantization allows: the "
             "input/state scales are too coarse for the weights (re-quantize with a "
             "representative dataset)";
    default: return "unknown KE_EGRU status";
  }
}

int ke_egru_check_sparse(int32_t rows, int32_t cols, int32_t nnz,
                         const int16_t* index, const int32_t* offsets) {
  return ke_sparse_check(rows, cols, nnz, index, offsets);
}

/* ----------------------------------------------------------------------- */
/* float32 reference                                                       */
/* ----------------------------------------------------------------------- */

void ke_egru_f32_reset(ke_egru_f32_state* s, int32_t units) {
  int32_t j;
  for (j = 0; j < units; ++j) {
    s->c_hat[j] = 0.0f;
    s->y[j] = 0.0f;
  }
  s->n_active = 0;
}

/* Input product of one step: a = b_in + x . W over non-zero inputs/weights. */
static uint64_t f32_input_product(const ke_egru_f32_params* p, const float* x, float* a) {
  const int32_t G = 3 * p->units;
  uint64_t count = 0;
  int32_t i, k, n;
  for (k = 0; k < G; ++k) a[k] = p->bias[k];
  for (i = 0; i < p->input_size; ++i) {
    const float xi = x[i];
    const int32_t end = p->w_offsets[i + 1];
    if (xi == 0.0f) continue;
    if (end - p->w_offsets[i] == G) { /* dense row: contiguous, vectorizable */
      const float* w = p->w_values + p->w_offsets[i];
      for (k = 0; k < G; ++k) a[k] += xi * w[k];
    } else {
      for (n = p->w_offsets[i]; n < end; ++n)
        a[ke_sparse_column(p->w_index, n)] += xi * p->w_values[n];
    }
    count += (uint64_t)(end - p->w_offsets[i]);
  }
  return count;
}

/* Rest of a step given the input pre-activations a[k] (k < 3U):
 * the event-driven recurrent product, gates, state and events.  g: 3U floats. */
static uint64_t f32_recurrent_step(const ke_egru_f32_params* p, const float* a,
                                   ke_egru_f32_state* s, float* g) {
  const int32_t U = p->units, G = 3 * p->units;
  uint64_t count = 0;
  int32_t j, k, n, q;
  for (k = 0; k < G; ++k) g[k] = p->bias[G + k];
  /* Recurrent product: only rows of units that emitted an event at t-1. */
  for (q = 0; q < s->n_active; ++q) {
    const int32_t src = s->active[q];
    const float yj = s->y[src];
    const int32_t end = p->v_offsets[src + 1];
    if (end - p->v_offsets[src] == G) { /* dense row */
      const float* v = p->v_values + p->v_offsets[src];
      for (k = 0; k < G; ++k) g[k] += yj * v[k];
    } else {
      for (n = p->v_offsets[src]; n < end; ++n)
        g[ke_sparse_column(p->v_index, n)] += yj * p->v_values[n];
    }
    count += (uint64_t)(end - p->v_offsets[src]);
  }
  /* Gates and the new c (no branches: the loop vectorizes); c overwrites g[j]. */
  for (j = 0; j < U; ++j) {
    const float a_u = a[j], a_r = a[U + j];
    const float a_z = a[2 * U + j];
    const float u = ke_sigmoid(a_u + g[j]);
    const float r = ke_sigmoid(a_r + g[U + j]);
    const float z = ke_tanh(a_z + r * g[2 * U + j]);
    g[j] = u * z + (1.0f - u) * s->c_hat[j];
  }
  /* Events, state, and the active list for t+1. */
  s->n_active = 0;
  for (j = 0; j < U; ++j) {
    const float c = g[j], theta = p->threshold[j];
    if (c > theta) {
      s->y[j] = c;
      s->c_hat[j] = c - theta;
      s->active[s->n_active++] = (int16_t)j;
    } else {
      s->y[j] = 0.0f;
      s->c_hat[j] = c;
    }
  }
  return count;
}

void ke_egru_f32_step(const ke_egru_f32_params* p, const float* x,
                      ke_egru_f32_state* s, float* scratch, uint64_t* macs) {
  uint64_t count = f32_input_product(p, x, scratch);
  count += f32_recurrent_step(p, scratch, s, scratch + 3 * p->units);
  if (macs) *macs += count;
}

void ke_egru_f32_continue(const ke_egru_f32_params* p, const float* x, int32_t time,
                          int return_sequences, float* out, ke_egru_f32_state* s, float* scratch,
                          uint64_t* macs) {
  const int32_t I = p->input_size, U = p->units;
  int32_t t;
  for (t = 0; t < time; ++t) {
    ke_egru_f32_step(p, x + (size_t)t * I, s, scratch, macs);
    if (return_sequences || t == time - 1)
      memcpy(out + (return_sequences ? (size_t)t * U : 0), s->y, sizeof(float) * (size_t)U);
  }
}

void ke_egru_f32_run(const ke_egru_f32_params* p, const float* x, int32_t batch,
                    int32_t time, int return_sequences, float* out,
                    ke_egru_f32_state* s, float* scratch, uint64_t* macs) {
  const int32_t I = p->input_size, U = p->units;
  int32_t b;
  for (b = 0; b < batch; ++b) {
    ke_egru_f32_reset(s, U);
    ke_egru_f32_continue(p, x + (size_t)b * time * I, time, return_sequences,
                          out + (size_t)b * (return_sequences ? time : 1) * U, s, scratch, macs);
  }
}

/* ----------------------------------------------------------------------- */
/* int8 integer path                                                       */
/* ----------------------------------------------------------------------- */

int ke_egru_i8_prepare(int32_t units, float x_scale, const float* w_scale,
                       float y_scale, const float* v_scale, const int16_t* threshold,
                       int32_t* unit_consts, int32_t* acc_shift,
                       int32_t* y_multiplier, int32_t* y_shift) {
  const double pre = (double)(1 << KE_EGRU_PRE_FRAC_BITS);
  double largest = 0.0, unit;
  int32_t k, shift;
  if (units < 1 || units > KE_EGRU_MAX_UNITS) return KE_ERR_SIZE;
  if (!((double)x_scale > 1e-30 && (double)x_scale < 1e30) ||
      !((double)y_scale > 1e-30 && (double)y_scale < 1e30))
    return KE_ERR_SCALE;
  for (k = 0; k < 3 * units; ++k) {
    if (!((double)w_scale[k] > 1e-30 && (double)w_scale[k] < 1e30) ||
        !((double)v_scale[k] > 1e-30 && (double)v_scale[k] < 1e30))
      return KE_ERR_SCALE;
    /* float*float is exact in double, so NumPy reproduces these bit for bit. */
    if ((double)x_scale * (double)w_scale[k] * pre > largest) largest = (double)x_scale * (double)w_scale[k] * pre;
    if ((double)y_scale * (double)v_scale[k] * pre > largest) largest = (double)y_scale * (double)v_scale[k] * pre;
  }
  /* The smallest L >= 0 that keeps every multiplier round(M 2^(32-L)) < 2^31. */
  for (shift = 0; shift <= KE_EGRU_MAX_ACC_SHIFT; ++shift) {
    unit = (double)((int64_t)1 << (32 - shift));
    if (largest * unit + 0.5 < 2147483648.0) break;
  }
  if (shift > KE_EGRU_MAX_ACC_SHIFT) return KE_ERR_SCALE;
  for (k = 0; k < 3 * units; ++k) { /* column k = gate * U + j */
    int32_t* m = unit_consts + KE_EGRU_UNIT_WORDS * (k % units) + 2 * (k / units);
    m[0] = (int32_t)floor((double)x_scale * (double)w_scale[k] * pre * unit + 0.5);
    m[1] = (int32_t)floor((double)y_scale * (double)v_scale[k] * pre * unit + 0.5);
  }
  for (k = 0; k < units; ++k) unit_consts[KE_EGRU_UNIT_WORDS * k + 6] = threshold[k];
  *acc_shift = shift;
  return ke_quantize_multiplier(
      1.0 / ((double)(1 << KE_EGRU_STATE_FRAC_BITS) * (double)y_scale), y_multiplier, y_shift);
}

int ke_egru_i8_check_constants(const ke_egru_i8_params* p) {
  const int32_t U = p->units, G = 3 * p->units;
  const int64_t limit = ((int64_t)1 << (31 - p->acc_shift)) - 1;
  int32_t k;
  for (k = 0; k < 2 * G; ++k) {
    if (p->bias[k] > KE_EGRU_MAX_BIAS_I32 || p->bias[k] < -KE_EGRU_MAX_BIAS_I32) return KE_ERR_BIAS;
  }
  for (k = 0; k < U; ++k) {
    if (p->threshold[k] <= 0) return KE_ERR_THRESHOLD;
  }
  if (p->acc_shift < 0 || p->acc_shift > KE_EGRU_MAX_ACC_SHIFT) return KE_ERR_SCALE;
  if (ke_sparse_acc_bound_i8(p->input_size, p->w_values, p->w_offsets, p->bias, G, p->x_zero_point) > limit ||
      ke_sparse_acc_bound_i8(U, p->v_values, p->v_offsets, p->bias + G, G, p->y_zero_point) > limit)
    return KE_ERR_RANGE;
  return KE_OK;
}

void ke_egru_i8_reset(ke_egru_i8_state* s, int32_t units, int32_t y_zero_point) {
  int32_t j;
  for (j = 0; j < units; ++j) {
    s->c_hat[j] = 0;
    s->y[j] = (int8_t)y_zero_point;
  }
  s->n_active = 0;
}

/* Input product of one step: A = b_in + sum (x - zp_x) w (int32).  The MAC
 * count fits int32: at most I * 3U < 2^30 (ke_egru_check_sparse bounds). */
static int32_t i8_input_product(const ke_egru_i8_params* p, const int8_t* x, int32_t* a) {
  const int32_t G = 3 * p->units, I = p->input_size, x_zp = p->x_zero_point;
  const int8_t* values = p->w_values; /* locals: the accumulator stores could alias p */
  const int16_t* index = p->w_index;
  const int32_t* offsets = p->w_offsets;
  if (p->w_gather) /* its sums start from the bias packed with it */
    return ke_sparse_gather_input_product_i8(a, p->w_gather, values, index, offsets, I, G, x, x_zp,
                                             p->bias);
  ke_copy_i32(a, p->bias, G);
  return ke_sparse_input_product_i8(a, values, index, offsets, I, G, x, x_zp);
}

/* The int8 outputs of the units that fired this step: the gate loops only append a firing
 * unit to the active list (and store chat = c - theta), so the common "no event" case keeps
 * its registers; this pass then requantizes c = chat + theta of each listed unit to y and
 * drops the (rare) units whose y rounds to the zero point.  The requantization is
 * ke_mul_by_multiplier(c, y_multiplier, y_shift) + zp, clamped, i.e. round(c m / 2^n) with
 * n = 31 - y_shift (17..62, ke_egru_op.c), for 0 < c < 2^15, without 64-bit shifts or
 * saturation (c m / 2^n < 2^29):
 *   n <= 32: the high word of (c 2^(32-n)) m + 2^31 (c 2^(32-n) < 2^30);
 *   n > 32:  (floor(c m / 2^32) + 2^(k-1)) >> k, k = n - 32 (nested floors compose:
 *            floor((floor(X / 2^32) + 2^(k-1)) / 2^k) = floor((X + 2^(n-1)) / 2^n)).
 * One loop per case, so each keeps its constants in registers.  The list stays ascending. */
#define KE_FIRE_LOOP(REQUANT)                                                          \
  for (; q < end; ++q) {                                                               \
    const int32_t j = *q, c = c_hat[j] + theta[KE_EGRU_UNIT_WORDS * j];                \
    const int32_t yq = (REQUANT) + zp;                                                 \
    const int8_t y8 = (int8_t)(yq > 127 ? 127 : yq); /* c m > 0: yq >= zp >= -128 */   \
    y[j] = y8;                                                                         \
    if (y8 != zp) *keep++ = (int16_t)j;                                                \
  }
static void i8_fire_outputs(const ke_egru_i8_params* p, ke_egru_i8_state* s) {
  const int32_t n = 31 - p->y_shift, m = p->y_multiplier, zp = p->y_zero_point;
  const int32_t* theta = p->unit_consts + 6;
  const int16_t* c_hat = s->c_hat;
  int8_t* y = s->y;
  int16_t* q = s->active;
  int16_t* const end = s->active + s->n_active;
  int16_t* keep = s->active;
  if (n > 32) {
    const int32_t k = n - 32, half = (int32_t)1 << (k - 1);
    KE_FIRE_LOOP(((int32_t)(((int64_t)c * m) >> 32) + half) >> k)
  } else {
    const int32_t pre = 32 - n;
    KE_FIRE_LOOP((int32_t)(((int64_t)(c << pre) * m + ((int64_t)1 << 31)) >> 32))
  }
  s->n_active = (int32_t)(keep - s->active);
}
#undef KE_FIRE_LOOP

#if KE_X86_SIMD
/* The gate loop of the host path (ke_egru_i8_continue_seq) on x86-64 with AVX2,
 * 8 units per iteration: the same integer arithmetic as i8_gates lane by lane
 * (the fused requantization is the high word of a 64-bit sum, from two
 * 32x32->64 multiplies per lane pair; table entries come in pairs from one 32-bit
 * gather).  Bit-identical to the scalar loop (tests compare the host path with
 * the per-step MCU path).  `consts_t`: the unit constants transposed, [KE_EGRU_UNIT_WORDS][U]
 * (i8_consts_by_word), so that 8 units' constant is one load, not a gather.  Returns the
 * number of units done, a multiple of 8; units that fire are appended to the active list in
 * ascending order. */
static KE_AVX2 int32_t i8_gates_avx2(const ke_egru_i8_params* p, const int32_t* a,
                                     int32_t a_stride, const int32_t* g, ke_egru_i8_state* s,
                                     const int32_t* consts_t) {
  const int32_t U = p->units, U8 = U & ~7;
  const __m128i shift = _mm_cvtsi32_si128(p->acc_shift);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i a_idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(a_stride));
  int32_t j;
#define KE_CONST8(w) _mm256_loadu_si256((const __m256i*)(consts_t + (size_t)(w) * U + j))
  for (j = 0; j < U8; j += 8) {
    const int32_t* aj = a + (size_t)j * a_stride;
    const __m256i a_u = _mm256_sll_epi32(_mm256_i32gather_epi32((const int*)aj, a_idx, 4), shift);
    const __m256i a_r = _mm256_sll_epi32(
        _mm256_i32gather_epi32((const int*)(aj + (size_t)U * a_stride), a_idx, 4), shift);
    const __m256i a_z = _mm256_sll_epi32(
        _mm256_i32gather_epi32((const int*)(aj + (size_t)2 * U * a_stride), a_idx, 4), shift);
    const __m256i g_u = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + j)), shift);
    const __m256i g_r = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + U + j)), shift);
    const __m256i g_z = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + 2 * U + j)), shift);
    const __m256i u = ke_v_lut(0, ke_v_sat16(ke_v_requant2(a_u, KE_CONST8(0), g_u, KE_CONST8(1))));
    const __m256i r = ke_v_lut(0, ke_v_sat16(ke_v_requant2(a_r, KE_CONST8(2), g_r, KE_CONST8(3))));
    const __m256i az = ke_v_requant1(a_z, KE_CONST8(4));
    const __m256i hz = ke_v_requant1(g_z, KE_CONST8(5));
    const __m256i z = ke_v_lut(KE_LUT_TANH_OFFSET, ke_v_sat16(ke_v_mlaw16(_mm256_add_epi32(hz, hz), r, az)));
    const __m256i chat = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i*)(s->c_hat + j)));
    const __m256i c = _mm256_add_epi32(chat, _mm256_srai_epi32(_mm256_add_epi32(
        _mm256_mullo_epi32(u, _mm256_sub_epi32(z, chat)), _mm256_set1_epi32(1 << 14)), 15));
    const __m256i theta = KE_CONST8(6);
    const __m256i fire = _mm256_cmpgt_epi32(c, theta);
    const __m256i c_new = _mm256_sub_epi32(c, _mm256_and_si256(theta, fire));
    int bits = _mm256_movemask_ps(_mm256_castsi256_ps(fire));
    _mm_storeu_si128((__m128i*)(s->c_hat + j),
                     _mm_packs_epi32(_mm256_castsi256_si128(c_new), _mm256_extracti128_si256(c_new, 1)));
    if (bits) {
      int32_t b;
      for (b = 0; b < 8; ++b)
        if (bits & (1 << b)) s->active[s->n_active++] = (int16_t)(j + b);
    }
  }
#undef KE_CONST8
  return U8;
}
#endif

/* consts_t[w][j] = unit_consts[j][w]: the host gate loop's layout (once per invoke). */
static void i8_consts_by_word(const ke_egru_i8_params* p, int32_t* consts_t) {
  const int32_t U = p->units;
  int32_t j, w;
  for (j = 0; j < U; ++j)
    for (w = 0; w < KE_EGRU_UNIT_WORDS; ++w)
      consts_t[(size_t)w * U + j] = p->unit_consts[(size_t)KE_EGRU_UNIT_WORDS * j + w];
}

/* Gates, state and events of all units given the accumulators a (input) and g
 * (recurrent); scale = 2^L (|A|, |G| < 2^(31-L)).  Rebuilds the active list. */
static KE_ALWAYS_INLINE void i8_gates(const ke_egru_i8_params* p, const int32_t* a,
                                      const int32_t a_stride, const int32_t* g,
                                      ke_egru_i8_state* s, const int32_t scale, const int32_t j0) {
  /* Units j0..U-1.  Pointers walk the units; gate columns U and 2U further on.
   * a[k] is at a[k * a_stride] (1 per step; the time-major input products of
   * ke_egru_i8_continue_seq have stride T). */
  const int32_t U = p->units, aU = U * a_stride;
  const int32_t* m = p->unit_consts + KE_EGRU_UNIT_WORDS * j0;
  const uint32_t* sigmoid = ke_lut_gate_pairs + 128; /* and tanh at KE_LUT_PAIRS_TANH_OFFSET */
  int16_t* const c_hat = s->c_hat;
  int16_t* const c_end = c_hat + U;
  int16_t* act = s->active + s->n_active; /* units that fire, in ascending order */
  int16_t* ch;
#if KE_HAVE_GATES_M4
  if (scale == 1 && a_stride == 1 && j0 == 0) { /* the MCU step: the same loop in assembly */
    const ke_egru_gates_m4_args args = {a, g, c_hat, m, U, act, sigmoid};
    s->n_active = (int32_t)(ke_egru_i8_gates_m4(&args) - s->active);
    return;
  }
#endif
  a += j0 * a_stride;
  g += j0;
  for (ch = c_hat + j0; ch < c_end; ++ch, a += a_stride, ++g, m += KE_EGRU_UNIT_WORDS) {
    /* Pre-activations in Q3.12; u, r, z, c, chat, theta in Q0.15. */
    const int32_t u = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(a[0] * scale, m[0], g[0] * scale, m[1])));
    const int32_t r = ke_lut_pair(sigmoid, 0, ke_sat16(ke_requant2(a[aU] * scale, m[2], g[U] * scale, m[3])));
    const int32_t az = ke_requant2(a[2 * aU] * scale, m[4], 0, 0);
    const int32_t hz = ke_requant2(g[2 * U] * scale, m[5], 0, 0);
    /* az + floor(r hz / 2^15); |az|, |hz| < 2^30, r < 2^15: no overflow. */
    const int32_t z = ke_lut_pair(sigmoid, KE_LUT_PAIRS_TANH_OFFSET, ke_sat16(ke_mlaw16(2 * hz, r, az)));
    /* u z + (1 - u) chat = chat + u (z - chat): |u (z - chat)| < 2^15 2^16, and
     * c stays a convex mix of |z|, |chat| <= 32767 (no saturation needed). */
    const int32_t chat = *ch;
    const int32_t c = chat + ((u * (z - chat) + (1 << 14)) >> 15);
    if (c > m[6]) {
      *ch = (int16_t)(c - m[6]);
      *act++ = (int16_t)(ch - c_hat);
    } else {
      *ch = (int16_t)c;
    }
  }
  s->n_active = (int32_t)(act - s->active);
}

/* Rest of a step given the input accumulators a[k]; g: 3U int32.  consts_t: NULL, or (host)
 * the unit constants by word (i8_consts_by_word) for the SIMD gate loop. */
static KE_ALWAYS_INLINE int32_t i8_recurrent_step(const ke_egru_i8_params* p, const int32_t* a,
                                                   const int32_t a_stride, ke_egru_i8_state* s,
                                                   int32_t* g, const int32_t* consts_t) {
  const int32_t G = 3 * p->units, y_zp = p->y_zero_point, n_active = s->n_active;
  const int16_t* active = s->active;
  const int8_t* y = s->y;
  int32_t count, j0 = 0;
  ke_copy_i32(g, p->bias + G, G);
  count = ke_sparse_active_product_i8(g, &p->v_values, &p->v_index, &p->v_offsets, p->units, G, active,
                                      n_active, y, y_zp);
  /* Most units stay silent: every output starts as "no event"; the gate loop lists the
   * units that fire (in ascending order: the active list of step t+1) and
   * i8_fire_outputs writes their outputs. */
  memset(s->y, y_zp, (size_t)p->units);
  s->n_active = 0;
#if KE_X86_SIMD
  if (consts_t && ke_have_avx2()) j0 = i8_gates_avx2(p, a, a_stride, g, s, consts_t);
#else
  (void)consts_t;
#endif
  /* L = 0 is the common case: a separate copy of the gate loop without the shifts. */
  if (p->acc_shift == 0) i8_gates(p, a, a_stride, g, s, 1, j0);
  else i8_gates(p, a, a_stride, g, s, (int32_t)1 << p->acc_shift, j0);
  i8_fire_outputs(p, s);
  return count;
}

/* The gate loop alone, for other kernels of the same cell (the dense SMLAD baseline of
 * ke_dense_smlad.c): one definition of the gates, so both give the same bits. */
void ke_egru_i8_gates(const ke_egru_i8_params* p, const int32_t* a, const int32_t* g,
                      ke_egru_i8_state* s) {
  memset(s->y, p->y_zero_point, (size_t)p->units);
  s->n_active = 0;
  if (p->acc_shift == 0) i8_gates(p, a, 1, g, s, 1, 0);
  else i8_gates(p, a, 1, g, s, (int32_t)1 << p->acc_shift, 0);
  i8_fire_outputs(p, s);
}

void ke_egru_i8_step(const ke_egru_i8_params* p, const int8_t* x,
                     ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs) {
  const int32_t count = i8_input_product(p, x, scratch);
  const int32_t rec = i8_recurrent_step(p, scratch, 1, s, scratch + 3 * p->units, NULL);
  if (macs) *macs += (uint64_t)count + (uint64_t)rec;
}

void ke_egru_i8_continue(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                          int return_sequences, int8_t* out, ke_egru_i8_state* s, int32_t* scratch,
                          uint64_t* macs) {
  const int32_t I = p->input_size, U = p->units;
  int32_t t;
  for (t = 0; t < time; ++t) {
    ke_egru_i8_step(p, x + (size_t)t * I, s, scratch, macs);
    if (return_sequences || t == time - 1)
      memcpy(out + (return_sequences ? (size_t)t * U : 0), s->y, sizeof(int8_t) * (size_t)U);
  }
}

void ke_egru_i8_continue_seq(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                             int return_sequences, int8_t* out, ke_egru_i8_state* s,
                             int32_t* scratch, uint64_t* macs) {
  const int32_t U = p->units, G = 3 * p->units;
  int32_t* g = scratch;
  int32_t* a_seq = g + G;
  int32_t* consts_t = a_seq + (size_t)time * G;
  int16_t* xt = (int16_t*)(consts_t + (size_t)KE_EGRU_UNIT_WORDS * U);
  int64_t count = ke_sparse_input_sequence_i8(p->w_values, p->w_index, p->w_offsets,
                                              p->input_size, G, p->bias, x, time,
                                              p->x_zero_point, xt, a_seq);
  int32_t t;
  i8_consts_by_word(p, consts_t);
  for (t = 0; t < time; ++t) {
    count += i8_recurrent_step(p, a_seq + t, time, s, g, consts_t);
    if (return_sequences || t == time - 1)
      memcpy(out + (return_sequences ? (size_t)t * U : 0), s->y, sizeof(int8_t) * (size_t)U);
  }
  if (macs) *macs += (uint64_t)count;
}

/* Whole batch: each row from the zero state, through one of the *_continue variants. */
typedef void (*ke_i8_continue_fn)(const ke_egru_i8_params*, const int8_t*, int32_t, int, int8_t*,
                                  ke_egru_i8_state*, int32_t*, uint64_t*);
static void i8_run_with(ke_i8_continue_fn cont, const ke_egru_i8_params* p, const int8_t* x,
                        int32_t batch, int32_t time, int return_sequences, int8_t* out,
                        ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs) {
  const int32_t I = p->input_size, U = p->units;
  int32_t b;
  for (b = 0; b < batch; ++b) {
    ke_egru_i8_reset(s, U, p->y_zero_point);
    cont(p, x + (size_t)b * time * I, time, return_sequences,
         out + (size_t)b * (return_sequences ? time : 1) * U, s, scratch, macs);
  }
}

void ke_egru_i8_run(const ke_egru_i8_params* p, const int8_t* x, int32_t batch,
                    int32_t time, int return_sequences, int8_t* out,
                    ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs) {
  i8_run_with(ke_egru_i8_continue, p, x, batch, time, return_sequences, out, s, scratch, macs);
}

void ke_egru_i8_run_seq(const ke_egru_i8_params* p, const int8_t* x, int32_t batch,
                        int32_t time, int return_sequences, int8_t* out,
                        ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs) {
  i8_run_with(ke_egru_i8_continue_seq, p, x, batch, time, return_sequences, out, s, scratch, macs);
}
