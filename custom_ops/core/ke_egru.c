/* KE_EGRU step: float32 reference and int8/int16 integer path.
 * Math and formats: ke_egru.h and custom_ops/README.md. */
#include "ke_egru.h"

#include "ke_egru_tables.h"

#include <math.h>
#include <string.h>

/* x86-64 hosts: an AVX2 copy of the vectorized host loops next to the baseline one,
 * picked at load time (gcc/clang function multi-versioning; same integer results). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define KE_HOST_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KE_HOST_SIMD_CLONES
#endif

/* The host path's AVX2 gate loop (x86-64, gcc/clang), chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(KE_NO_X86_GATES)
#define KE_X86_GATES 1
#include <immintrin.h>
#else
#define KE_X86_GATES 0
#endif

#if defined(__GNUC__)
#define KE_ALWAYS_INLINE inline __attribute__((always_inline))
#define KE_NOINLINE __attribute__((noinline))
#else
#define KE_ALWAYS_INLINE inline
#define KE_NOINLINE
#endif

const char* ke_egru_status_string(int status) {
  switch (status) {
    case KE_EGRU_OK: return "ok";
    case KE_EGRU_ERR_SIZE: return "units must be in 1..10922 and input size in 1..32767";
    case KE_EGRU_ERR_OFFSETS:
      return "offsets must start at 0, be non-decreasing and end at the number of values";
    case KE_EGRU_ERR_INDEX:
      return "an index is outside 0..3*units-1 or not strictly ascending within its row";
    case KE_EGRU_ERR_BIAS: return "an int32 bias is outside +-2^30";
    case KE_EGRU_ERR_SCALE:
      return "a quantization scale is not positive/finite or its multiplier is out of range";
    case KE_EGRU_ERR_THRESHOLD: return "a threshold is outside (0, 1) (int16: 1..32767)";
    case KE_EGRU_ERR_RANGE:
      return "the int32 accumulators could exceed the range the requantization allows: the "
             "input/state scales are too coarse for the weights (re-quantize with a "
             "representative dataset)";
    default: return "unknown KE_EGRU status";
  }
}

int ke_egru_check_sparse(int32_t rows, int32_t cols, int32_t nnz,
                         const int16_t* index, const int32_t* offsets) {
  int32_t r, n;
  if (rows < 1 || cols < 1 || nnz < 0) return KE_EGRU_ERR_SIZE;
  if (offsets[0] != 0 || offsets[rows] != nnz) return KE_EGRU_ERR_OFFSETS;
  for (r = 0; r < rows; ++r) {
    if (offsets[r + 1] < offsets[r]) return KE_EGRU_ERR_OFFSETS;
  }
  for (r = 0; r < rows; ++r) {
    /* strictly ascending within a row: a row with `cols` entries is then
     * exactly 0..cols-1, which the step functions treat as a dense row */
    for (n = offsets[r]; n < offsets[r + 1]; ++n) {
      if (index[n] < 0 || index[n] >= cols) return KE_EGRU_ERR_INDEX;
      if (n > offsets[r] && index[n] <= index[n - 1]) return KE_EGRU_ERR_INDEX;
    }
  }
  return KE_EGRU_OK;
}

/* ----------------------------------------------------------------------- */
/* float32 reference                                                       */
/* ----------------------------------------------------------------------- */

/* exp(x) for the float gates, written so that compilers vectorize the gate loop
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
      for (n = p->w_offsets[i]; n < end; ++n) a[p->w_index[n]] += xi * p->w_values[n];
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
      for (n = p->v_offsets[src]; n < end; ++n) g[p->v_index[n]] += yj * p->v_values[n];
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

int ke_egru_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift) {
  int32_t e = 0;
  int64_t q;
  /* real != real catches NaN; the bounds reject inf and denormal-ish scales. */
  if (!(real > 0.0) || real != real || real > 1e30 || real < 1e-30) return KE_EGRU_ERR_SCALE;
  while (real >= 1.0) { real *= 0.5; ++e; }   /* exact: powers of two */
  while (real < 0.5) { real *= 2.0; --e; }
  q = (int64_t)(real * 2147483648.0 + 0.5);
  if (q == ((int64_t)1 << 31)) { q >>= 1; ++e; }
  if (e > 30 || e < -31) return KE_EGRU_ERR_SCALE;
  *multiplier = (int32_t)q;
  *shift = e;
  return KE_EGRU_OK;
}

static int64_t ke_round_shift(int64_t x, int32_t n) {
  /* Add half, then shift right arithmetically (= floor division by 2^n).
   * Right-shifting a negative value is implementation-defined in C99; every
   * compiler this targets (gcc, clang, armcc/armclang) documents it as
   * arithmetic, and a branch-free shift matters in the gate loop. */
  return (x + ((int64_t)1 << (n - 1))) >> n;
}

static int32_t ke_sat32(int64_t v) {
  if (v > INT32_MAX) return INT32_MAX;
  if (v < INT32_MIN) return INT32_MIN;
  return (int32_t)v;
}

/* Saturation to int16 and the 32x16 multiply of the z gate.  On Arm cores with
 * the DSP extension (Cortex-M4/M7/M33, A-profile) these are single instructions
 * (ACLE intrinsics); elsewhere the portable lines compute the same values. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#define ke_sat16(v) __ssat((v), 16)
/* acc + floor(a * b / 2^16), b an int16 */
#define ke_mlaw16(a, b, acc) __smlawb((a), (b), (acc))
#else
static inline int32_t ke_sat16(int32_t v) {
  return v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v);
}
static inline int32_t ke_mlaw16(int32_t a, int32_t b, int32_t acc) {
  return acc + (int32_t)(((int64_t)a * (int16_t)b) >> 16);
}
#endif

int32_t ke_egru_mul_by_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  return ke_sat32(ke_round_shift((int64_t)x * (int64_t)multiplier, 31 - shift));
}

/* The fused requantization of the gate loop: floor((A m_A + G m_G) / 2^32) with
 * A, G already scaled by 2^L.  One `smull` + one `smlal` into a 64-bit register
 * pair, the result is its high word (floor, not round: no rounding constant to
 * set up; the -0.5 LSB bias is 1.2e-4 in the Q3.12 pre-activation).  Exact:
 * ke_egru_i8_check_constants() bounds |A|, |G| < 2^31 and |m| < 2^31, so the sum
 * stays inside int64 and its high word inside +-2^31. */
static inline int32_t ke_requant2(int32_t a, int32_t ma, int32_t g, int32_t mg) {
  return (int32_t)(((int64_t)a * ma + (int64_t)g * mg) >> 32);
}

/* Table entry of x_q12 at mid[k], k = (x >> 8) + off; `mid` points at the
 * entry of x = 0 of a table, `off` (a constant) moves to another table of the
 * same array: the gate loop reaches both gate tables from one base register. */
static inline int32_t ke_lut(const int16_t* mid, int32_t off, int32_t x_q12) {
  /* 256 intervals of 1/16 over [-8, 8): index = top 8 bits + 128, fraction = low
   * 8 bits (the same as (x + 2^15) >> 8 and & 255, one add fewer: the +128 is
   * in the table pointer).  |hi - lo| * 255 < 2^31: the interpolation is exact
   * in 32 bits. */
  const int16_t* t = mid + (x_q12 >> 8);
  const int32_t lo = t[off], f = x_q12 & 255;
  return lo + (((t[off + 1] - lo) * f + 128) >> 8);
}

/* Offset from the sigmoid table to the tanh table in ke_egru_gate_tables. */
#define KE_TANH_OFFSET 257

int16_t ke_egru_sigmoid_q15(int16_t x_q12) { return (int16_t)ke_lut(ke_egru_sigmoid_table + 128, 0, x_q12); }
int16_t ke_egru_tanh_q15(int16_t x_q12) { return (int16_t)ke_lut(ke_egru_sigmoid_table + 128, KE_TANH_OFFSET, x_q12); }

int ke_egru_i8_prepare(int32_t units, float x_scale, const float* w_scale,
                       float y_scale, const float* v_scale, const int16_t* threshold,
                       int32_t* unit_consts, int32_t* acc_shift,
                       int32_t* y_multiplier, int32_t* y_shift) {
  const double pre = (double)(1 << KE_EGRU_PRE_FRAC_BITS);
  double largest = 0.0, unit;
  int32_t k, shift;
  if (units < 1 || units > KE_EGRU_MAX_UNITS) return KE_EGRU_ERR_SIZE;
  if (!((double)x_scale > 1e-30 && (double)x_scale < 1e30) ||
      !((double)y_scale > 1e-30 && (double)y_scale < 1e30))
    return KE_EGRU_ERR_SCALE;
  for (k = 0; k < 3 * units; ++k) {
    if (!((double)w_scale[k] > 1e-30 && (double)w_scale[k] < 1e30) ||
        !((double)v_scale[k] > 1e-30 && (double)v_scale[k] < 1e30))
      return KE_EGRU_ERR_SCALE;
    /* float*float is exact in double, so NumPy reproduces these bit for bit. */
    if ((double)x_scale * (double)w_scale[k] * pre > largest) largest = (double)x_scale * (double)w_scale[k] * pre;
    if ((double)y_scale * (double)v_scale[k] * pre > largest) largest = (double)y_scale * (double)v_scale[k] * pre;
  }
  /* The smallest L >= 0 that keeps every multiplier round(M 2^(32-L)) < 2^31. */
  for (shift = 0; shift <= KE_EGRU_MAX_ACC_SHIFT; ++shift) {
    unit = (double)((int64_t)1 << (32 - shift));
    if (largest * unit + 0.5 < 2147483648.0) break;
  }
  if (shift > KE_EGRU_MAX_ACC_SHIFT) return KE_EGRU_ERR_SCALE;
  for (k = 0; k < 3 * units; ++k) { /* column k = gate * U + j */
    int32_t* m = unit_consts + KE_EGRU_UNIT_WORDS * (k % units) + 2 * (k / units);
    m[0] = (int32_t)floor((double)x_scale * (double)w_scale[k] * pre * unit + 0.5);
    m[1] = (int32_t)floor((double)y_scale * (double)v_scale[k] * pre * unit + 0.5);
  }
  for (k = 0; k < units; ++k) unit_consts[KE_EGRU_UNIT_WORDS * k + 6] = threshold[k];
  *acc_shift = shift;
  return ke_egru_quantize_multiplier(
      1.0 / ((double)(1 << KE_EGRU_STATE_FRAC_BITS) * (double)y_scale), y_multiplier, y_shift);
}

/* Upper bound of |b + sum_i (q_i - zp) w_ik| over all columns k of one matrix. */
static int64_t ke_acc_bound(int32_t rows, const int8_t* values, const int32_t* offsets,
                            const int32_t* bias, int32_t cols, int32_t zero_point) {
  const int64_t q_max = zero_point < 0 ? 127 - zero_point : 128 + zero_point;
  int64_t bound = 0, w_max;
  int32_t r, n;
  for (n = 0; n < cols; ++n) {
    const int64_t b = bias[n] < 0 ? -(int64_t)bias[n] : bias[n];
    if (b > bound) bound = b;
  }
  for (r = 0; r < rows; ++r) {
    w_max = 0;
    for (n = offsets[r]; n < offsets[r + 1]; ++n) {
      const int64_t w = values[n] < 0 ? -(int64_t)values[n] : values[n];
      if (w > w_max) w_max = w;
    }
    bound += q_max * w_max;
  }
  return bound;
}

int ke_egru_i8_check_constants(const ke_egru_i8_params* p) {
  const int32_t U = p->units, G = 3 * p->units;
  const int64_t limit = ((int64_t)1 << (31 - p->acc_shift)) - 1;
  int32_t k;
  for (k = 0; k < 2 * G; ++k) {
    if (p->bias[k] > KE_EGRU_MAX_BIAS_I32 || p->bias[k] < -KE_EGRU_MAX_BIAS_I32) return KE_EGRU_ERR_BIAS;
  }
  for (k = 0; k < U; ++k) {
    if (p->threshold[k] <= 0) return KE_EGRU_ERR_THRESHOLD;
  }
  if (p->acc_shift < 0 || p->acc_shift > KE_EGRU_MAX_ACC_SHIFT) return KE_EGRU_ERR_SCALE;
  if (ke_acc_bound(p->input_size, p->w_values, p->w_offsets, p->bias, G, p->x_zero_point) > limit ||
      ke_acc_bound(U, p->v_values, p->v_offsets, p->bias + G, G, p->y_zero_point) > limit)
    return KE_EGRU_ERR_RANGE;
  return KE_EGRU_OK;
}

void ke_egru_i8_reset(ke_egru_i8_state* s, int32_t units, int32_t y_zero_point) {
  int32_t j;
  for (j = 0; j < units; ++j) {
    s->c_hat[j] = 0;
    s->y[j] = (int8_t)y_zero_point;
  }
  s->n_active = 0;
}

/* x * w for |x| <= 255, |w| <= 128: the product fits int16 exactly.  On Arm a
 * plain int32 multiply-accumulate (`mla`) is cheapest; elsewhere the int16 form
 * lets compilers vectorize dense rows with 16-bit SIMD multiplies (SSE2 has no
 * 32-bit one).  The scatter below does not vectorize: it always uses int32. */
#if defined(__ARM_ARCH)
#define KE_MUL_I8(x, w) ((x) * (int32_t)(w))
#else
#define KE_MUL_I8(x, w) ((int16_t)((int16_t)(x) * (w)))
#endif
#define KE_MUL_I8_SCALAR(x, w) ((x) * (int32_t)(w))

/* acc[idx[i]] += x * w[i] for one compressed row of n weights; four per iteration. */
static KE_ALWAYS_INLINE void ke_scatter_row(int32_t* acc, const int8_t* w, const int16_t* idx,
                                            int32_t n, int32_t x) {
  int32_t i = 0;
  for (; i + 3 < n; i += 4) {
    const int32_t k0 = idx[i], k1 = idx[i + 1], k2 = idx[i + 2], k3 = idx[i + 3];
    acc[k0] += KE_MUL_I8_SCALAR(x, w[i]);
    acc[k1] += KE_MUL_I8_SCALAR(x, w[i + 1]);
    acc[k2] += KE_MUL_I8_SCALAR(x, w[i + 2]);
    acc[k3] += KE_MUL_I8_SCALAR(x, w[i + 3]);
  }
  for (; i < n; ++i) acc[idx[i]] += KE_MUL_I8_SCALAR(x, w[i]);
}

/* acc[k] += x * w[k] for a dense row of G weights. */
static KE_ALWAYS_INLINE void ke_dense_row(int32_t* acc, const int8_t* w, int32_t G, int32_t x) {
  int32_t k = 0;
#if defined(__ARM_ARCH)
  for (; k + 1 < G; k += 2) { /* two per iteration: 5 instead of 7 instructions per MAC */
    acc[k] += KE_MUL_I8(x, w[k]);
    acc[k + 1] += KE_MUL_I8(x, w[k + 1]);
  }
#endif
  for (; k < G; ++k) acc[k] += KE_MUL_I8(x, w[k]);
}

/* acc += (q - zp) * row for one stored row (dense when it holds all G columns).
 * Returns the MACs executed. */
static KE_ALWAYS_INLINE int32_t ke_row_mac(int32_t* acc, const int8_t* values, const int16_t* index,
                                 const int32_t* offsets, int32_t row, int32_t G, int32_t x) {
  const int32_t begin = offsets[row], end = offsets[row + 1];
  if (end - begin == G) ke_dense_row(acc, values + begin, G, x);
  else ke_scatter_row(acc, values + begin, index + begin, end - begin, x);
  return end - begin;
}

/* Input product of one step: A = b_in + sum (x - zp_x) w (int32).  The MAC
 * count fits int32: at most I * 3U < 2^30 (ke_egru_check_sparse bounds). */
static int32_t i8_input_product(const ke_egru_i8_params* p, const int8_t* x, int32_t* a) {
  const int32_t G = 3 * p->units, I = p->input_size, x_zp = p->x_zero_point;
  const int8_t* values = p->w_values; /* locals: the accumulator stores could alias p */
  const int16_t* index = p->w_index;
  const int32_t* offsets = p->w_offsets;
  int32_t skipped = 0, i; /* MACs of zero inputs: counted off the hot path */
  memcpy(a, p->bias, sizeof(int32_t) * (size_t)G);
  for (i = 0; i < I; ++i) {
    const int32_t xi = (int32_t)x[i] - x_zp;
    if (xi != 0) (void)ke_row_mac(a, values, index, offsets, i, G, xi);
    else skipped += offsets[i + 1] - offsets[i];
  }
  return offsets[I] - skipped;
}

/* Unit j fires with c > theta: its int8 output, and the active list.  Out of line:
 * few units fire, and the gate loop keeps its registers for the common case. */
static KE_NOINLINE void i8_fire(const ke_egru_i8_params* p, ke_egru_i8_state* s, int32_t j,
                                int32_t c) {
  const int32_t yq = ke_egru_mul_by_multiplier(c, p->y_multiplier, p->y_shift) + p->y_zero_point;
  const int8_t y8 = (int8_t)(yq > 127 ? 127 : (yq < -128 ? -128 : yq));
  s->y[j] = y8;
  if (y8 != p->y_zero_point) s->active[s->n_active++] = (int16_t)j;
}

#if KE_X86_GATES
/* The gate loop of the host path (ke_egru_i8_continue_seq) on x86-64 with AVX2,
 * 8 units per iteration: the same integer arithmetic as i8_gates lane by lane
 * (the fused requantization is the high word of a 64-bit sum, from two
 * 32x32->64 multiplies per lane pair; table entries come in pairs from one 32-bit
 * gather).  Bit-identical to the scalar loop (tests compare the host path with
 * the per-step MCU path).  Returns the number of units done, a multiple of 8;
 * units that fire go through i8_fire in ascending order. */
#define KE_AVX2 __attribute__((target("avx2")))

static int ke_have_avx2(void) {
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return have;
}

/* floor((a ma + g mg) / 2^32) per lane: the high word of the exact 64-bit sum. */
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

/* acc + floor(a b / 2^16) per lane (ke_mlaw16; b >= 0 here): bits 16..47 of a b. */
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

/* ke_lut per lane; `first` = index of the table's entry 0 in ke_egru_gate_tables. */
static inline KE_AVX2 __m256i ke_v_lut(int32_t first, __m256i x) {
  const __m256i idx = _mm256_add_epi32(_mm256_srai_epi32(x, 8), _mm256_set1_epi32(first + 128));
  const __m256i f = _mm256_and_si256(x, _mm256_set1_epi32(255));
  /* 4 bytes at entry idx: entry idx in the low half, idx + 1 in the high half */
  const __m256i pair = _mm256_i32gather_epi32((const int*)(const void*)ke_egru_gate_tables[0], idx, 2);
  const __m256i lo = _mm256_srai_epi32(_mm256_slli_epi32(pair, 16), 16);
  const __m256i hi = _mm256_srai_epi32(pair, 16);
  const __m256i d = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_sub_epi32(hi, lo), f),
                                     _mm256_set1_epi32(128));
  return _mm256_add_epi32(lo, _mm256_srai_epi32(d, 8));
}

static KE_AVX2 int32_t i8_gates_avx2(const ke_egru_i8_params* p, const int32_t* a,
                                     int32_t a_stride, const int32_t* g, ke_egru_i8_state* s) {
  const int32_t U = p->units, U8 = U & ~7;
  const __m128i shift = _mm_cvtsi32_si128(p->acc_shift);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i a_idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(a_stride));
  const __m256i m_idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(KE_EGRU_UNIT_WORDS));
  int32_t j;
  for (j = 0; j < U8; j += 8) {
    const int32_t* aj = a + (size_t)j * a_stride;
    const int* m = (const int*)(p->unit_consts + (size_t)KE_EGRU_UNIT_WORDS * j);
    const __m256i a_u = _mm256_sll_epi32(_mm256_i32gather_epi32((const int*)aj, a_idx, 4), shift);
    const __m256i a_r = _mm256_sll_epi32(
        _mm256_i32gather_epi32((const int*)(aj + (size_t)U * a_stride), a_idx, 4), shift);
    const __m256i a_z = _mm256_sll_epi32(
        _mm256_i32gather_epi32((const int*)(aj + (size_t)2 * U * a_stride), a_idx, 4), shift);
    const __m256i g_u = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + j)), shift);
    const __m256i g_r = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + U + j)), shift);
    const __m256i g_z = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i*)(g + 2 * U + j)), shift);
    const __m256i u = ke_v_lut(0, ke_v_sat16(ke_v_requant2(a_u, _mm256_i32gather_epi32(m, m_idx, 4),
                                                           g_u, _mm256_i32gather_epi32(m + 1, m_idx, 4))));
    const __m256i r = ke_v_lut(0, ke_v_sat16(ke_v_requant2(a_r, _mm256_i32gather_epi32(m + 2, m_idx, 4),
                                                           g_r, _mm256_i32gather_epi32(m + 3, m_idx, 4))));
    const __m256i az = ke_v_requant1(a_z, _mm256_i32gather_epi32(m + 4, m_idx, 4));
    const __m256i hz = ke_v_requant1(g_z, _mm256_i32gather_epi32(m + 5, m_idx, 4));
    const __m256i z = ke_v_lut(KE_TANH_OFFSET, ke_v_sat16(ke_v_mlaw16(_mm256_add_epi32(hz, hz), r, az)));
    const __m256i chat = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i*)(s->c_hat + j)));
    const __m256i c = _mm256_add_epi32(chat, _mm256_srai_epi32(_mm256_add_epi32(
        _mm256_mullo_epi32(u, _mm256_sub_epi32(z, chat)), _mm256_set1_epi32(1 << 14)), 15));
    const __m256i theta = _mm256_i32gather_epi32(m + 6, m_idx, 4);
    const __m256i fire = _mm256_cmpgt_epi32(c, theta);
    const __m256i c_new = _mm256_sub_epi32(c, _mm256_and_si256(theta, fire));
    int bits = _mm256_movemask_ps(_mm256_castsi256_ps(fire));
    _mm_storeu_si128((__m128i*)(s->c_hat + j),
                     _mm_packs_epi32(_mm256_castsi256_si128(c_new), _mm256_extracti128_si256(c_new, 1)));
    if (bits) {
      int32_t cs[8], b;
      _mm256_storeu_si256((__m256i*)cs, c);
      for (b = 0; b < 8; ++b)
        if (bits & (1 << b)) i8_fire(p, s, j + b, cs[b]);
    }
  }
  return U8;
}
#endif

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
  const int16_t* sigmoid = ke_egru_sigmoid_table + 128; /* and tanh at KE_TANH_OFFSET */
  int16_t* const c_hat = s->c_hat;
  int16_t* const c_end = c_hat + U;
  int16_t* ch;
  a += j0 * a_stride;
  g += j0;
  for (ch = c_hat + j0; ch < c_end; ++ch, a += a_stride, ++g, m += KE_EGRU_UNIT_WORDS) {
    /* Pre-activations in Q3.12; u, r, z, c, chat, theta in Q0.15. */
    const int32_t u = ke_lut(sigmoid, 0, ke_sat16(ke_requant2(a[0] * scale, m[0], g[0] * scale, m[1])));
    const int32_t r = ke_lut(sigmoid, 0, ke_sat16(ke_requant2(a[aU] * scale, m[2], g[U] * scale, m[3])));
    const int32_t az = ke_requant2(a[2 * aU] * scale, m[4], 0, 0);
    const int32_t hz = ke_requant2(g[2 * U] * scale, m[5], 0, 0);
    /* az + floor(r hz / 2^15); |az|, |hz| < 2^30, r < 2^15: no overflow. */
    const int32_t z = ke_lut(sigmoid, KE_TANH_OFFSET, ke_sat16(ke_mlaw16(2 * hz, r, az)));
    /* u z + (1 - u) chat = chat + u (z - chat): |u (z - chat)| < 2^15 2^16, and
     * c stays a convex mix of |z|, |chat| <= 32767 (no saturation needed). */
    const int32_t chat = *ch;
    const int32_t c = chat + ((u * (z - chat) + (1 << 14)) >> 15);
    if (c > m[6]) {
      *ch = (int16_t)(c - m[6]);
      i8_fire(p, s, (int32_t)(ch - c_hat), c);
    } else {
      *ch = (int16_t)c;
    }
  }
}

/* Rest of a step given the input accumulators a[k]; g: 3U int32. */
static KE_ALWAYS_INLINE int32_t i8_recurrent_step(const ke_egru_i8_params* p, const int32_t* a,
                                                   const int32_t a_stride, ke_egru_i8_state* s,
                                                   int32_t* g, const int host_simd) {
  const int32_t G = 3 * p->units, y_zp = p->y_zero_point, n_active = s->n_active;
  const int16_t* active = s->active;
  const int8_t* y = s->y;
  int32_t count = 0, q, j0 = 0;
  memcpy(g, p->bias + G, sizeof(int32_t) * (size_t)G);
  for (q = 0; q < n_active; ++q) {
    const int32_t src = active[q];
    count += ke_row_mac(g, p->v_values, p->v_index, p->v_offsets, src, G, (int32_t)y[src] - y_zp);
  }
  /* Most units stay silent: every output starts as "no event"; i8_fire writes
   * the units that fire (in ascending order: the active list of step t+1). */
  memset(s->y, y_zp, (size_t)p->units);
  s->n_active = 0;
#if KE_X86_GATES
  if (host_simd && ke_have_avx2()) j0 = i8_gates_avx2(p, a, a_stride, g, s);
#else
  (void)host_simd;
#endif
  /* L = 0 is the common case: a separate copy of the gate loop without the shifts. */
  if (p->acc_shift == 0) i8_gates(p, a, a_stride, g, s, 1, j0);
  else i8_gates(p, a, a_stride, g, s, (int32_t)1 << p->acc_shift, j0);
  return count;
}

void ke_egru_i8_step(const ke_egru_i8_params* p, const int8_t* x,
                     ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs) {
  const int32_t count = i8_input_product(p, x, scratch);
  const int32_t rec = i8_recurrent_step(p, scratch, 1, s, scratch + 3 * p->units, 0);
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

/* Input products of a whole sequence, a_seq[k][t] = b_in,k + sum_i (x_t,i - zp_x) w_ik
 * (time-major per column): each stored weight updates all T steps at once, a loop
 * over t that compilers vectorize (|x - zp| <= 255, |w| <= 128: the product fits
 * int16).  The integer sums equal ke_egru_i8_step's exactly.  Returns the MACs of
 * the non-zero inputs (the same count as per step).  xt: int16 [I][T]. */
KE_HOST_SIMD_CLONES
static int64_t i8_input_sequence(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                                 int16_t* xt, int32_t* a_seq) {
  const int32_t G = 3 * p->units, I = p->input_size, x_zp = p->x_zero_point;
  int64_t count = 0;
  int32_t i, k, n, t;
  for (i = 0; i < I; ++i) {
    int32_t nonzero = 0;
    for (t = 0; t < time; ++t) {
      xt[(size_t)i * time + t] = (int16_t)((int32_t)x[(size_t)t * I + i] - x_zp);
      nonzero += xt[(size_t)i * time + t] != 0;
    }
    count += (int64_t)nonzero * (p->w_offsets[i + 1] - p->w_offsets[i]);
  }
  for (k = 0; k < G; ++k) {
    int32_t* acc = a_seq + (size_t)k * time;
    for (t = 0; t < time; ++t) acc[t] = p->bias[k];
  }
  for (i = 0; i < I; ++i) {
    const int16_t* xi = xt + (size_t)i * time;
    const int32_t* off = p->w_offsets + i;
    if (i + 3 < I && off[1] - off[0] == G && off[2] - off[1] == G && off[3] - off[2] == G &&
        off[4] - off[3] == G) {
      /* four dense rows at once: a quarter of the accumulator loads and stores */
      const int8_t* w = p->w_values + off[0];
      for (k = 0; k < G; ++k) {
        const int16_t w0 = w[k], w1 = w[G + k], w2 = w[2 * G + k], w3 = w[3 * G + k];
        int32_t* acc = a_seq + (size_t)k * time;
        for (t = 0; t < time; ++t)
          acc[t] += (int16_t)(xi[t] * w0) + (int16_t)(xi[time + t] * w1) +
                    (int16_t)(xi[2 * time + t] * w2) + (int16_t)(xi[3 * time + t] * w3);
      }
      i += 3;
      continue;
    }
    for (n = off[0]; n < off[1]; ++n) {
      const int16_t w = p->w_values[n];
      int32_t* acc = a_seq + (size_t)p->w_index[n] * time;
      for (t = 0; t < time; ++t) acc[t] += (int16_t)(xi[t] * w);
    }
  }
  return count;
}

void ke_egru_i8_continue_seq(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                             int return_sequences, int8_t* out, ke_egru_i8_state* s,
                             int32_t* scratch, uint64_t* macs) {
  const int32_t U = p->units, G = 3 * p->units;
  int32_t* g = scratch;
  int32_t* a_seq = g + G;
  int16_t* xt = (int16_t*)(a_seq + (size_t)time * G);
  int64_t count = i8_input_sequence(p, x, time, xt, a_seq);
  int32_t t;
  for (t = 0; t < time; ++t) {
    count += i8_recurrent_step(p, a_seq + t, time, s, g, 1);
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
