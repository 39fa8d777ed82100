/* Unit tests of custom_ops/core (ke_egru.c and the shared primitives) without any framework: float step
 * against a dense textbook EGRU, executed-MAC count, input validation, the
 * fixed-point helpers, and an int8 run that stays close to the float one.
 * Built and run by `make test-core` (and under ASan/UBSan by test-sanitize). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ke_delta.h"
#include "../core/ke_egru.h"
#include "../core/ke_fixed.h"
#include "../core/ke_lut.h"
#include "../core/ke_sparse.h"

#define I_SIZE 7
#define UNITS 5
#define G (3 * UNITS)
#define T_STEPS 9

static int failures = 0;
#define CHECK(cond, ...)                              \
  do {                                                \
    if (!(cond)) {                                    \
      ++failures;                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
      printf(__VA_ARGS__);                            \
      printf("\n");                                   \
    }                                                 \
  } while (0)

static unsigned rng = 12345u;
static float frand(float lo, float hi) {
  rng = rng * 1103515245u + 12345u;
  return lo + (hi - lo) * (float)((rng >> 8) & 0xFFFF) / 65535.0f;
}

/* Row-compresses a dense [rows][G] matrix (zeros are not stored). */
static int32_t pack(const float* dense, int32_t rows, float* values, int16_t* index,
                    int32_t* offsets) {
  int32_t r, k, n = 0;
  offsets[0] = 0;
  for (r = 0; r < rows; ++r) {
    for (k = 0; k < G; ++k) {
      if (dense[r * G + k] != 0.0f) {
        values[n] = dense[r * G + k];
        index[n++] = (int16_t)k;
      }
    }
    offsets[r + 1] = n;
  }
  return n;
}

static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Dense EGRU step straight from the paper's equations (ke_egru.h). */
static void dense_step(const float* W, const float* V, const float* bias, const float* th,
                       const float* x, float* chat, float* y) {
  float a[G], g[G], ynew[UNITS];
  int k, i, j;
  for (k = 0; k < G; ++k) {
    a[k] = bias[k];
    g[k] = bias[G + k];
    for (i = 0; i < I_SIZE; ++i) a[k] += x[i] * W[i * G + k];
    for (j = 0; j < UNITS; ++j) g[k] += y[j] * V[j * G + k];
  }
  for (j = 0; j < UNITS; ++j) {
    float u = sigm(a[j] + g[j]), r = sigm(a[UNITS + j] + g[UNITS + j]);
    float z = tanhf(a[2 * UNITS + j] + r * g[2 * UNITS + j]);
    float c = u * z + (1 - u) * chat[j];
    float e = c > th[j] ? 1.0f : 0.0f;
    ynew[j] = c * e;
    chat[j] = c - e * th[j];
  }
  memcpy(y, ynew, sizeof(ynew));
}

/* Fraction of weights pruned by the float test (0 exercises the dense-row path). */
static float prune_prob = 0.5f;

static void test_float_matches_dense_and_counts_macs(void) {
  float W[I_SIZE * G], V[UNITS * G], bias[2 * G], th[UNITS], x[T_STEPS * I_SIZE];
  float wv[I_SIZE * G], vv[UNITS * G];
  int16_t wi[I_SIZE * G], vi[UNITS * G], active[UNITS];
  int32_t wo[I_SIZE + 1], vo[UNITS + 1];
  float chat[UNITS], y[UNITS], ref_chat[UNITS] = {0}, ref_y[UNITS] = {0};
  float scratch[KE_EGRU_F32_SCRATCH(UNITS)];
  int k, t, j, i, events = 0;
  for (k = 0; k < I_SIZE * G; ++k) W[k] = frand(0, 1) < prune_prob ? 0.0f : frand(-1.5f, 1.5f);
  for (k = 0; k < UNITS * G; ++k) V[k] = frand(0, 1) < prune_prob ? 0.0f : frand(-1.5f, 1.5f);
  for (k = 0; k < 2 * G; ++k) bias[k] = frand(0, 1);
  for (j = 0; j < UNITS; ++j) th[j] = frand(0.05f, 0.4f);
  for (k = 0; k < T_STEPS * I_SIZE; ++k) x[k] = frand(0, 1) < 0.3f ? 0.0f : frand(-2, 2);
  {
    ke_egru_f32_params p;
    ke_egru_f32_state s;
    int32_t nw = pack(W, I_SIZE, wv, wi, wo), nv = pack(V, UNITS, vv, vi, vo);
    CHECK(ke_egru_check_sparse(I_SIZE, G, nw, wi, wo) == KE_OK, "W packing");
    CHECK(ke_egru_check_sparse(UNITS, G, nv, vi, vo) == KE_OK, "V packing");
    p.input_size = I_SIZE; p.units = UNITS;
    p.w_values = wv; p.w_index = wi; p.w_offsets = wo;
    p.v_values = vv; p.v_index = vi; p.v_offsets = vo;
    p.bias = bias; p.threshold = th;
    s.c_hat = chat; s.y = y; s.active = active;
    ke_egru_f32_reset(&s, UNITS);
    for (t = 0; t < T_STEPS; ++t) {
      uint64_t macs = 0, expect = 0;
      const float* xt = x + t * I_SIZE;
      for (i = 0; i < I_SIZE; ++i)
        if (xt[i] != 0.0f) expect += (uint64_t)(wo[i + 1] - wo[i]);
      for (j = 0; j < UNITS; ++j)
        if (ref_y[j] != 0.0f) expect += (uint64_t)(vo[j + 1] - vo[j]);
      ke_egru_f32_step(&p, xt, &s, scratch, &macs);
      dense_step(W, V, bias, th, xt, ref_chat, ref_y);
      CHECK(macs == expect, "t=%d macs %llu != %llu", t, (unsigned long long)macs,
            (unsigned long long)expect);
      for (j = 0; j < UNITS; ++j) {
        CHECK(fabsf(y[j] - ref_y[j]) < 1e-5f, "t=%d y[%d] %g vs %g", t, j, y[j], ref_y[j]);
        CHECK(fabsf(chat[j] - ref_chat[j]) < 1e-5f, "t=%d chat[%d]", t, j);
        events += ref_y[j] != 0.0f;
      }
      CHECK(s.n_active <= UNITS, "active list overflow");
    }
    CHECK(events > 0 && events < T_STEPS * UNITS, "constructed input should be partly active (%d)",
          events);
  }
}

static void test_check_sparse_rejects_bad_input(void) {
  int16_t idx[3] = {0, 1, 2};
  int32_t off_ok[3] = {0, 1, 3}, off_dec[3] = {0, 2, 1}, off_end[3] = {0, 1, 2};
  CHECK(ke_egru_check_sparse(2, 3, 3, idx, off_ok) == KE_OK, "valid");
  CHECK(ke_egru_check_sparse(2, 3, 3, idx, off_dec) == KE_ERR_OFFSETS, "decreasing");
  CHECK(ke_egru_check_sparse(2, 3, 3, idx, off_end) == KE_ERR_OFFSETS, "end != nnz");
  CHECK(ke_egru_check_sparse(2, 2, 3, idx, off_ok) == KE_ERR_INDEX, "index >= cols");
  idx[2] = 1;
  CHECK(ke_egru_check_sparse(2, 3, 3, idx, off_ok) == KE_ERR_INDEX, "repeated index in a row");
  idx[2] = 2;
  idx[1] = -1;
  CHECK(ke_egru_check_sparse(2, 3, 3, idx, off_ok) == KE_ERR_INDEX, "negative index");
  CHECK(ke_egru_check_sparse(0, 3, 0, idx, off_ok) == KE_ERR_SIZE, "no rows");
}

static void test_fixed_point_helpers(void) {
  int32_t m, s;
  CHECK(ke_quantize_multiplier(0.5, &m, &s) == 0 && m == 1073741824 && s == 0, "0.5");
  CHECK(ke_quantize_multiplier(3.0, &m, &s) == 0 && s == 2, "3.0");
  CHECK(ke_mul_by_multiplier(100, m, s) == 300, "100*3");
  CHECK(ke_mul_by_multiplier(-100, m, s) == -300, "-100*3");
  ke_quantize_multiplier(0.25, &m, &s);
  CHECK(ke_mul_by_multiplier(6, m, s) == 2, "6/4 rounds half up");
  CHECK(ke_mul_by_multiplier(-6, m, s) == -1, "-6/4 rounds half up");
  CHECK(ke_quantize_multiplier(0.0, &m, &s) == KE_ERR_SCALE, "zero scale");
  CHECK(ke_quantize_multiplier(-1.0, &m, &s) == KE_ERR_SCALE, "negative scale");
  CHECK(ke_quantize_multiplier(1e12, &m, &s) == KE_ERR_SCALE, "huge scale");
  CHECK(abs(ke_sigmoid_q15(0) - 16384) <= 1, "sigmoid(0)");
  CHECK(ke_sigmoid_q15(-32768) < 20 && ke_sigmoid_q15(32767) > 32740, "sigmoid ends");
  CHECK(ke_tanh_q15(0) == 0, "tanh(0)");
  CHECK(abs(ke_tanh_q15(4096) - (int)(32767 * tanh(1.0) + 0.5)) <= 8, "tanh(1)");
  { /* the word tables give every lookup of the halfword tables */
    int32_t x, bad = 0;
    for (x = INT16_MIN; x <= INT16_MAX; ++x)
      bad += ke_lut_pair(ke_lut_gate_pairs + 128, 0, x) != ke_lut(ke_lut_sigmoid_table + 128, 0, x) ||
             ke_lut_pair(ke_lut_gate_pairs + 128, KE_LUT_PAIRS_TANH_OFFSET, x) !=
                 ke_lut(ke_lut_sigmoid_table + 128, KE_LUT_TANH_OFFSET, x);
    CHECK(bad == 0, "ke_lut_pair differs from ke_lut at %d inputs", (int)bad);
  }
}

/* int8 path on the float test's shapes: outputs within a few quantization
 * steps of the float reference (a coarse sanity check; bit-exactness against
 * the NumPy model is tested in tests/export/). */
static void test_int8_close_to_float(float zero_prob) {
  float W[I_SIZE * G], V[UNITS * G], bias[2 * G], th[UNITS], x[T_STEPS * I_SIZE];
  float wv[I_SIZE * G], vv[UNITS * G], w_scale[G], v_scale[G];
  int16_t wi[I_SIZE * G], vi[UNITS * G], active[UNITS], th_q[UNITS], chat_q[UNITS];
  int32_t wo[I_SIZE + 1], vo[UNITS + 1], bias_q[2 * G];
  int32_t consts[KE_EGRU_UNIT_WORDS * UNITS], acc_shift, ym, ys, scratch_i[KE_EGRU_I8_SCRATCH(UNITS)];
  int8_t wq[I_SIZE * G], vq[UNITS * G], xq[T_STEPS * I_SIZE], out_q[T_STEPS * UNITS], yq[UNITS];
  float out_f[T_STEPS * UNITS], scratch_f[KE_EGRU_F32_SCRATCH(UNITS)], chat[UNITS], y[UNITS];
  const float x_scale = 2.0f / 127.0f, y_scale = 1.0f / 256.0f;
  const int32_t y_zp = -128;
  int k, n, j, nw, nv, worst = 0;
  for (k = 0; k < I_SIZE * G; ++k) W[k] = frand(0, 1) < zero_prob ? 0.0f : frand(-1, 1);
  for (k = 0; k < UNITS * G; ++k) V[k] = frand(0, 1) < 0.3f ? 0.0f : frand(-1, 1);
  for (k = 0; k < 2 * G; ++k) bias[k] = frand(0, 1);
  for (j = 0; j < UNITS; ++j) th[j] = frand(0.05f, 0.3f);
  for (k = 0; k < T_STEPS * I_SIZE; ++k) {
    xq[k] = k % 7 == 3 ? 0 : (int8_t)(int)frand(-127, 127); /* some zero inputs */
    x[k] = xq[k] * x_scale;
  }
  nw = pack(W, I_SIZE, wv, wi, wo);
  nv = pack(V, UNITS, vv, vi, vo);
  for (k = 0; k < G; ++k) w_scale[k] = v_scale[k] = 1.0f / 127.0f;
  for (n = 0; n < nw; ++n) {
    wq[n] = (int8_t)lrintf(wv[n] * 127.0f);
    wv[n] = wq[n] / 127.0f; /* float model uses the same quantized weights */
  }
  for (n = 0; n < nv; ++n) {
    vq[n] = (int8_t)lrintf(vv[n] * 127.0f);
    vv[n] = vq[n] / 127.0f;
  }
  for (k = 0; k < G; ++k) {
    bias_q[k] = (int32_t)lrint(bias[k] / ((double)x_scale * w_scale[k]));
    bias_q[G + k] = (int32_t)lrint(bias[G + k] / ((double)y_scale * v_scale[k]));
  }
  for (j = 0; j < UNITS; ++j) th_q[j] = (int16_t)lrintf(th[j] * 32768.0f);
  CHECK(ke_egru_i8_prepare(UNITS, x_scale, w_scale, y_scale, v_scale, th_q, consts, &acc_shift, &ym,
                           &ys) == 0, "prepare");
  {
    ke_egru_f32_params pf;
    ke_egru_f32_state sf;
    ke_egru_i8_params pq;
    ke_egru_i8_state sq;
    uint64_t macs_f = 0, macs_q = 0;
    pf.input_size = pq.input_size = I_SIZE;
    pf.units = pq.units = UNITS;
    pf.w_values = wv; pf.w_index = wi; pf.w_offsets = wo;
    pf.v_values = vv; pf.v_index = vi; pf.v_offsets = vo;
    pf.bias = bias; pf.threshold = th;
    pq.w_values = wq; pq.w_index = wi; pq.w_offsets = wo;
    pq.v_values = vq; pq.v_index = vi; pq.v_offsets = vo;
    pq.bias = bias_q; pq.threshold = th_q;
    pq.x_zero_point = 0; pq.y_zero_point = y_zp;
    pq.unit_consts = consts; pq.acc_shift = acc_shift;
    pq.y_multiplier = ym; pq.y_shift = ys; pq.w_gather = NULL;
    CHECK(ke_egru_i8_check_constants(&pq) == 0, "constants");
    sf.c_hat = chat; sf.y = y; sf.active = active;
    sq.c_hat = chat_q; sq.y = yq; sq.active = active;
    ke_egru_f32_run(&pf, x, 1, T_STEPS, 1, out_f, &sf, scratch_f, &macs_f);
    ke_egru_i8_run(&pq, xq, 1, T_STEPS, 1, out_q, &sq, scratch_i, &macs_q);
    for (k = 0; k < T_STEPS * UNITS; ++k) {
      int expect = (int)lrintf(out_f[k] / y_scale) + y_zp;
      int d = abs(expect - out_q[k]);
      /* an event flipping near the threshold moves y by up to theta: skip those */
      if ((out_f[k] == 0.0f) != (out_q[k] == y_zp)) continue;
      if (d > worst) worst = d;
    }
    CHECK(worst <= 6, "int8 output differs from float by %d steps", worst);
    CHECK(macs_q > 0 && macs_f > 0, "macs counted");
    { /* the host variant (whole-sequence input products) equals the per-step path */
      static int32_t seq_scratch[KE_EGRU_I8_SEQ_SCRATCH_BYTES(UNITS, I_SIZE, T_STEPS) / 4 + 1];
      int8_t out_s[T_STEPS * UNITS], y_s[UNITS];
      int16_t chat_s[UNITS], active_s[UNITS];
      ke_egru_i8_state ss;
      uint64_t macs_s = 0;
      ss.c_hat = chat_s; ss.y = y_s; ss.active = active_s;
      ke_egru_i8_reset(&ss, UNITS, y_zp);
      ke_egru_i8_continue_seq(&pq, xq, T_STEPS, 1, out_s, &ss, seq_scratch, &macs_s);
      CHECK(memcmp(out_s, out_q, sizeof out_s) == 0, "continue_seq outputs differ from run");
      CHECK(memcmp(chat_s, chat_q, sizeof chat_s) == 0, "continue_seq state differs from run");
      CHECK(macs_s == macs_q, "continue_seq MACs %llu != %llu", (unsigned long long)macs_s,
            (unsigned long long)macs_q);
    }
  }
}

/* The host path (ke_egru_i8_continue_seq: whole-sequence input products, and on
 * x86-64 the AVX2 gate loop for blocks of 8 units) equals the per-step path bit
 * for bit: 21 units (two blocks of 8 + 5), dense and compressed rows, zero
 * inputs, a layer shift L = 0 and L > 0, inputs that make units fire. */
#define H_I 9
#define H_U 21
#define H_G (3 * H_U)
#define H_T 13
/* Random int8 rows of H_G columns, each weight kept with probability `density`,
 * row-compressed as the kernels store them. */
static void random_rows_i8(int rows, float density, int8_t* values, int16_t* index,
                           int32_t* offsets) {
  int r, k, n = 0;
  for (r = 0; r < rows; ++r) {
    offsets[r] = n;
    for (k = 0; k < H_G; ++k)
      if (frand(0, 1) < density) { values[n] = (int8_t)(int)frand(-40, 40); index[n++] = (int16_t)k; }
  }
  offsets[rows] = n;
}

static void test_host_path_matches_step(float density, float scale) {
  static int8_t wq[H_I * H_G], vq[H_U * H_G], xq[H_T * H_I], out_a[H_T * H_U], out_b[H_T * H_U];
  static int16_t wi[H_I * H_G], vi[H_U * H_G], th[H_U], chat_a[H_U], chat_b[H_U], act_a[H_U], act_b[H_U];
  static int32_t wo[H_I + 1], vo[H_U + 1], bias[2 * H_G], consts[KE_EGRU_UNIT_WORDS * H_U];
  static int32_t scratch[KE_EGRU_I8_SCRATCH(H_U)];
  static int32_t seq[KE_EGRU_I8_SEQ_SCRATCH_BYTES(H_U, H_I, H_T) / 4 + 1];
  static int8_t y_a[H_U], y_b[H_U];
  float w_scale[H_G], v_scale[H_G];
  ke_egru_i8_params q = {0};
  ke_egru_i8_state sa, sb;
  uint64_t macs_a = 0, macs_b = 0;
  int32_t acc_shift, ym, ys;
  int k, events = 0;
  random_rows_i8(H_I, density, wq, wi, wo);
  random_rows_i8(H_U, density, vq, vi, vo);
  for (k = 0; k < 2 * H_G; ++k) bias[k] = (int32_t)frand(-3000, 3000);
  for (k = 0; k < H_G; ++k) { w_scale[k] = scale * frand(0.5f, 1.0f); v_scale[k] = scale * frand(0.5f, 1.0f); }
  for (k = 0; k < H_U; ++k) th[k] = (int16_t)frand(2000, 12000);
  for (k = 0; k < H_T * H_I; ++k) xq[k] = k % 5 == 2 ? 3 : (int8_t)(int)frand(-128, 127);
  CHECK(ke_egru_i8_prepare(H_U, 0.02f, w_scale, 0.004f, v_scale, th, consts, &acc_shift, &ym, &ys) == 0,
        "host test prepare");
  q.input_size = H_I; q.units = H_U;
  q.w_values = wq; q.w_index = wi; q.w_offsets = wo;
  q.v_values = vq; q.v_index = vi; q.v_offsets = vo;
  q.bias = bias; q.threshold = th; q.x_zero_point = 3; q.y_zero_point = -100;
  q.unit_consts = consts; q.acc_shift = acc_shift; q.y_multiplier = ym; q.y_shift = ys;
  CHECK(ke_egru_i8_check_constants(&q) == 0, "host test constants (L=%d)", (int)acc_shift);
  CHECK((scale > 0.01f) == (acc_shift > 0), "host test: L=%d for scale %g", (int)acc_shift, scale);
  sa.c_hat = chat_a; sa.y = y_a; sa.active = act_a;
  sb.c_hat = chat_b; sb.y = y_b; sb.active = act_b;
  ke_egru_i8_run(&q, xq, 1, H_T, 1, out_a, &sa, scratch, &macs_a);
  ke_egru_i8_reset(&sb, H_U, q.y_zero_point);
  ke_egru_i8_continue_seq(&q, xq, H_T, 1, out_b, &sb, seq, &macs_b);
  for (k = 0; k < H_T * H_U; ++k) events += out_a[k] != q.y_zero_point;
  CHECK(events > 0 && events < H_T * H_U, "host test: some units fire (%d)", events);
  CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "host path outputs differ (density %g, L=%d)",
        density, (int)acc_shift);
  CHECK(memcmp(chat_a, chat_b, sizeof chat_a) == 0, "host path state differs");
  CHECK(sa.n_active == sb.n_active && memcmp(act_a, act_b, sizeof(int16_t) * (size_t)sa.n_active) == 0,
        "host path active list differs");
  CHECK(macs_a == macs_b, "host path MACs differ");
}

/* Block-4 form (ke_sparse.h): the same block-pruned matrices stored plain and in block-4
 * form give bit-identical int8 outputs, states and MAC counts (per step and host path)
 * and equal float outputs; ke_sparse_check rejects malformed groups. */
#define B_I 6
#define B_U 8
#define B_G (3 * B_U)
#define B_T 11
/* Block-pruned int8 rows (each aligned group of 4 kept with probability `density`, no
 * zero inside a kept group), packed plain (pi) and in block-4 form (bi). */
static int32_t block_rows_i8(int rows, float density, int8_t* values, int16_t* pi, int16_t* bi,
                             int32_t* offsets) {
  int r, k, i, n = 0;
  for (r = 0; r < rows; ++r) {
    offsets[r] = n;
    for (k = 0; k < B_G; k += 4) {
      if (frand(0, 1) >= density) continue;
      for (i = 0; i < 4; ++i, ++n) {
        int v = (int)frand(-60, 60);
        values[n] = (int8_t)(v == 0 ? 1 : v);
        pi[n] = (int16_t)(k + i);
        bi[n] = (int16_t)(i == 0 ? k : ~(k + i));
      }
    }
  }
  offsets[rows] = n;
  return n;
}

static void test_block4_form(float density) {
  static int8_t wq[B_I * B_G], vq[B_U * B_G], xq[B_T * B_I], out_p[B_T * B_U], out_b[B_T * B_U],
      out_s[B_T * B_U], y_p[B_U], y_b[B_U], y_s[B_U];
  static int16_t wpi[B_I * B_G], wbi[B_I * B_G], vpi[B_U * B_G], vbi[B_U * B_G], th[B_U];
  static int16_t chat_p[B_U], chat_b[B_U], chat_s[B_U], act_p[B_U], act_b[B_U], act_s[B_U];
  static int32_t wo[B_I + 1], vo[B_U + 1], bias[2 * B_G], consts[KE_EGRU_UNIT_WORDS * B_U];
  static int32_t scratch[KE_EGRU_I8_SCRATCH(B_U)];
  static int32_t seq[KE_EGRU_I8_SEQ_SCRATCH_BYTES(B_U, B_I, B_T) / 4 + 1];
  static float wf[B_I * B_G], vf[B_U * B_G], xf[B_T * B_I], fb[2 * B_G], fth[B_U];
  static float of_p[B_T * B_U], of_b[B_T * B_U], fc[B_U], fy[B_U], fscr[KE_EGRU_F32_SCRATCH(B_U)];
  float w_scale[B_G], v_scale[B_G];
  ke_egru_i8_params q;
  ke_egru_i8_state sp, sb, ss;
  ke_egru_f32_params f;
  ke_egru_f32_state fs;
  uint64_t m_p = 0, m_b = 0, m_s = 0, mf_p = 0, mf_b = 0;
  int32_t acc_shift, ym, ys, nw, nv;
  int k, events = 0;
  nw = block_rows_i8(B_I, density, wq, wpi, wbi, wo);
  nv = block_rows_i8(B_U, density, vq, vpi, vbi, vo);
  CHECK(ke_egru_check_sparse(B_I, B_G, nw, wpi, wo) == KE_OK, "block test: plain W");
  CHECK(ke_egru_check_sparse(B_U, B_G, nv, vpi, vo) == KE_OK, "block test: plain V");
  CHECK(ke_egru_check_sparse(B_I, B_G, nw, wbi, wo) == KE_OK, "block test: block W");
  CHECK(ke_egru_check_sparse(B_U, B_G, nv, vbi, vo) == KE_OK, "block test: block V");
  CHECK(nv < 4 || ke_sparse_is_block4(vbi, nv), "block form detected");
  CHECK(!ke_sparse_is_block4(vpi, nv), "plain form detected");
  for (k = 0; k < 2 * B_G; ++k) bias[k] = (int32_t)frand(-3000, 20000);
  for (k = 0; k < B_G; ++k) { w_scale[k] = 0.005f * frand(0.5f, 1.0f); v_scale[k] = 0.005f * frand(0.5f, 1.0f); }
  for (k = 0; k < B_U; ++k) th[k] = (int16_t)frand(2000, 12000);
  for (k = 0; k < B_T * B_I; ++k) xq[k] = k % 5 == 2 ? 3 : (int8_t)(int)frand(-128, 127);
  CHECK(ke_egru_i8_prepare(B_U, 0.02f, w_scale, 0.004f, v_scale, th, consts, &acc_shift, &ym, &ys) == 0,
        "block test prepare");
  q.input_size = B_I; q.units = B_U;
  q.w_values = wq; q.w_index = wpi; q.w_offsets = wo;
  q.v_values = vq; q.v_index = vpi; q.v_offsets = vo;
  q.bias = bias; q.threshold = th; q.x_zero_point = 3; q.y_zero_point = -100;
  q.unit_consts = consts; q.acc_shift = acc_shift; q.y_multiplier = ym; q.y_shift = ys;
  q.w_gather = NULL;
  CHECK(ke_egru_i8_check_constants(&q) == 0, "block test constants");
  sp.c_hat = chat_p; sp.y = y_p; sp.active = act_p;
  sb.c_hat = chat_b; sb.y = y_b; sb.active = act_b;
  ss.c_hat = chat_s; ss.y = y_s; ss.active = act_s;
  ke_egru_i8_run(&q, xq, 1, B_T, 1, out_p, &sp, scratch, &m_p);
  q.w_index = wbi; q.v_index = vbi;
  ke_egru_i8_run(&q, xq, 1, B_T, 1, out_b, &sb, scratch, &m_b);
  { /* the gather form of W (1 input in 5 at the zero point: gathered, not skipped) */
    static int32_t gather[(B_I * B_G * 5 / 4 + 2 * B_I + B_G) / 4 + B_G + 4];
    static int8_t out_g[B_T * B_U];
    uint64_t m_g = 0;
    const size_t bytes = ke_sparse_gather_bytes(B_I, B_G, wbi, nw);
    CHECK(bytes > 0 && bytes <= sizeof gather, "gather bytes %u", (unsigned)bytes);
    ke_sparse_gather_pack(B_I, B_G, wq, wbi, wo, bias, gather);
    q.w_gather = gather;
    ke_egru_i8_run(&q, xq, 1, B_T, 1, out_g, &ss, scratch, &m_g);
    q.w_gather = NULL;
    CHECK(memcmp(out_p, out_g, sizeof out_p) == 0 && memcmp(chat_p, chat_s, sizeof chat_p) == 0,
          "gather form differs from plain (density %g)", density);
    CHECK(m_g == m_p, "gather MACs %llu vs %llu", (unsigned long long)m_g, (unsigned long long)m_p);
    { /* half the inputs at the zero point: the gather form falls back to the row products */
      static int8_t xz[B_T * B_I], out_z[B_T * B_U], out_zg[B_T * B_U];
      uint64_t m_z = 0, m_zg = 0;
      for (k = 0; k < B_T * B_I; ++k) xz[k] = k % 2 ? 3 : xq[k];
      q.w_gather = NULL;
      ke_egru_i8_run(&q, xz, 1, B_T, 1, out_z, &sp, scratch, &m_z);
      q.w_gather = gather;
      ke_egru_i8_run(&q, xz, 1, B_T, 1, out_zg, &ss, scratch, &m_zg);
      q.w_gather = NULL;
      CHECK(memcmp(out_z, out_zg, sizeof out_z) == 0 && m_z == m_zg,
            "gather form (row-product fallback) differs from plain");
      ke_egru_i8_run(&q, xq, 1, B_T, 1, out_p, &sp, scratch, &m_z); /* sp, ss as before */
      ke_egru_i8_run(&q, xq, 1, B_T, 1, out_g, &ss, scratch, &m_z);
    }
    CHECK(ke_sparse_gather_bytes(B_I, B_G, wpi, nw) == 0, "no gather form for plain rows");
  }
  ke_egru_i8_reset(&ss, B_U, q.y_zero_point);
  ke_egru_i8_continue_seq(&q, xq, B_T, 1, out_s, &ss, seq, &m_s);
  for (k = 0; k < B_T * B_U; ++k) events += out_p[k] != q.y_zero_point;
  CHECK(events > 0 && events < B_T * B_U, "block test: some units fire (%d)", events);
  CHECK(memcmp(out_p, out_b, sizeof out_p) == 0 && memcmp(chat_p, chat_b, sizeof chat_p) == 0,
        "block-4 form differs from plain (density %g)", density);
  CHECK(memcmp(out_p, out_s, sizeof out_p) == 0 && memcmp(chat_p, chat_s, sizeof chat_p) == 0,
        "block-4 host path differs from plain (density %g)", density);
  CHECK(m_p == m_b && m_p == m_s, "block test MACs %llu / %llu / %llu", (unsigned long long)m_p,
        (unsigned long long)m_b, (unsigned long long)m_s);
  /* float path: the same matrices as floats, both forms */
  for (k = 0; k < nw; ++k) wf[k] = wq[k] / 64.0f;
  for (k = 0; k < nv; ++k) vf[k] = vq[k] / 64.0f;
  for (k = 0; k < B_T * B_I; ++k) xf[k] = xq[k] / 100.0f;
  for (k = 0; k < 2 * B_G; ++k) fb[k] = frand(-0.5f, 1.0f);
  for (k = 0; k < B_U; ++k) fth[k] = frand(0.05f, 0.3f);
  f.input_size = B_I; f.units = B_U;
  f.w_values = wf; f.w_index = wpi; f.w_offsets = wo;
  f.v_values = vf; f.v_index = vpi; f.v_offsets = vo;
  f.bias = fb; f.threshold = fth;
  fs.c_hat = fc; fs.y = fy; fs.active = act_p;
  ke_egru_f32_run(&f, xf, 1, B_T, 1, of_p, &fs, fscr, &mf_p);
  f.w_index = wbi; f.v_index = vbi;
  ke_egru_f32_run(&f, xf, 1, B_T, 1, of_b, &fs, fscr, &mf_b);
  CHECK(memcmp(of_p, of_b, sizeof of_p) == 0 && mf_p == mf_b, "float block-4 form differs");
}

static void test_block4_check_rejects_bad_groups(void) {
  int16_t idx[8] = {4, ~5, ~6, ~7, 8, ~9, ~10, ~11};
  int32_t off[3] = {0, 4, 8}, off_odd[3] = {0, 2, 8};
  CHECK(ke_egru_check_sparse(2, 12, 8, idx, off) == KE_OK, "valid block-4");
  CHECK(ke_egru_check_sparse(2, 10, 8, idx, off) == KE_ERR_INDEX, "cols not a multiple of 4");
  CHECK(ke_egru_check_sparse(2, 12, 8, idx, off_odd) == KE_ERR_OFFSETS, "offset inside a group");
  idx[6] = ~9;
  CHECK(ke_egru_check_sparse(2, 12, 8, idx, off) == KE_ERR_INDEX, "wrong complement");
  idx[6] = ~10;
  idx[4] = 9; idx[5] = ~10; idx[6] = ~11; idx[7] = ~12;
  CHECK(ke_egru_check_sparse(2, 16, 8, idx, off) == KE_ERR_INDEX, "unaligned group");
  idx[4] = 12; idx[5] = ~13; idx[6] = ~14; idx[7] = ~15;
  CHECK(ke_egru_check_sparse(2, 12, 8, idx, off) == KE_ERR_INDEX, "group beyond cols");
  off[1] = 8; /* both groups in row 0: 4 then 12, ascending */
  CHECK(ke_egru_check_sparse(2, 16, 8, idx, off) == KE_OK, "two groups in a row");
  idx[0] = 12; idx[1] = ~13; idx[2] = ~14; idx[3] = ~15;
  CHECK(ke_egru_check_sparse(2, 16, 8, idx, off) == KE_ERR_INDEX, "repeated group in a row");
}

/* Delta encoding (ke_delta.c): after every step the int8 memory equals the dense product of the
 * transmitted values, M = bias + (v_hat - zp) W; only components with |change| > theta (strict)
 * are sent, and the MACs are the stored weights of their rows. */
static void test_delta_update_i8(int32_t theta) {
  enum { R = 9, C = 12, STEPS = 20 };
  int8_t w[R * C], values[R * C], v[R], v_hat[R];
  int16_t index[R * C];
  int32_t offsets[R + 1], mem[C], bias[C], r, k, t, nnz = 0, sent, zp = -3, total_sent = 0;
  ke_delta_matrix m;
  for (r = 0; r < R; ++r) {
    offsets[r] = nnz;
    for (k = 0; k < C; ++k) {
      w[r * C + k] = (r % 3 == 0 || frand(0, 1) < 0.5f) ? (int8_t)frand(-127, 127) : 0;
      if (w[r * C + k] != 0 || r % 3 == 0) { /* every third row stored whole (dense loop) */
        values[nnz] = w[r * C + k];
        index[nnz++] = (int16_t)k;
      }
    }
    v_hat[r] = (int8_t)zp;
  }
  offsets[R] = nnz;
  CHECK(ke_sparse_check(R, C, nnz, index, offsets) == KE_OK, "delta test packing");
  m.values = values; m.index = index; m.offsets = offsets; m.rows = R; m.cols = C;
  for (k = 0; k < C; ++k) mem[k] = bias[k] = (int32_t)frand(-1000, 1000);
  for (t = 0; t < STEPS; ++t) {
    int8_t before[R];
    uint32_t macs, expect = 0;
    memcpy(before, v_hat, sizeof before);
    for (r = 0; r < R; ++r) v[r] = (int8_t)(t == 0 ? frand(-128, 127) : v[r] + frand(-8, 8));
    macs = ke_delta_update_i8(v, v_hat, theta, &m, mem, &sent);
    total_sent += sent;
    for (r = 0; r < R; ++r) {
      const int32_t d = v[r] - before[r];
      const int send = d > theta || -d > theta;
      CHECK(v_hat[r] == (send ? v[r] : before[r]), "t=%d v_hat[%d] (theta %d)", t, r, theta);
      if (send) expect += (uint32_t)(offsets[r + 1] - offsets[r]);
    }
    CHECK(macs == expect, "t=%d macs %u != %u", t, macs, expect);
    for (k = 0; k < C; ++k) {
      int32_t ref = bias[k];
      for (r = 0; r < R; ++r) ref += (v_hat[r] - zp) * w[r * C + k];
      CHECK(mem[k] == ref, "t=%d mem[%d] %d != %d", t, k, mem[k], ref);
    }
  }
  CHECK(total_sent > 0 && (theta == 0 || total_sent < STEPS * R), "theta %d sent %d", theta,
        total_sent);
}

static void test_delta_output(void) {
  int32_t m, n;
  CHECK(ke_delta_output_multiplier(1.0f / 128, &m, &n) == KE_OK && m == 16384 && n == 22, "1/128");
  CHECK(ke_delta_output(32767, m, n, 0) == 127 && ke_delta_output(-32768, m, n, 0) == -128, "ends");
  CHECK(ke_delta_output(128, m, n, 5) == 6 && ke_delta_output(127, m, n, 5) == 5, "rounding");
  CHECK(ke_delta_output_multiplier(1e-12f, &m, &n) == KE_ERR_SCALE, "tiny scale");
  CHECK(ke_delta_output_multiplier(-1.0f, &m, &n) == KE_ERR_SCALE, "negative scale");
}

int ke_test_egru_emb(void); /* test_egru_emb.c */

int main(void) {
  prune_prob = 0.0f;
  test_float_matches_dense_and_counts_macs();
  prune_prob = 0.5f;
  test_float_matches_dense_and_counts_macs();
  test_check_sparse_rejects_bad_input();
  test_fixed_point_helpers();
  test_int8_close_to_float(0.3f);
  test_int8_close_to_float(0.0f); /* dense input rows */
  test_host_path_matches_step(1.0f, 0.005f);
  test_host_path_matches_step(0.3f, 0.005f);
  test_host_path_matches_step(0.3f, 0.05f); /* L > 0 */
  test_block4_form(0.3f);
  test_block4_form(1.0f); /* full rows */
  test_block4_check_rejects_bad_groups();
  test_delta_update_i8(0);
  test_delta_update_i8(3);
  test_delta_output();
  failures += ke_test_egru_emb();
  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("custom_ops core: all tests passed\n");
  return 0;
}
