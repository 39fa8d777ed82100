/* Cortex-M4F firmware of benchmarks/micro_bench.py's "dense_smlad_egru" row: the dense SMLAD
 * int8 kernel (custom_ops/core/ke_dense_smlad.c) for KE_UNITS units, KE_FEATURES inputs,
 * KE_STEPS steps, counted between the markers (no TFLM: kernel only), then checked bit for
 * bit against the event kernel ke_egru_i8_step with every weight stored.
 * Weights, biases and inputs come from a fixed LCG; output lines: KE_DONE or KE_ERROR. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ke_counters.h"
#include "ke_dense_smlad.h"
#include "ke_egru.h"
#include "semihost.h"

#define I KE_FEATURES
#define U KE_UNITS
#define T KE_STEPS
#define G (3 * U)
#define I4 KE_DENSE_PAD4(I)
#define U4 KE_DENSE_PAD4(U)

static uint32_t g_seed = 12345u;
static int32_t rnd(int32_t lo, int32_t hi) {  /* uniform in [lo, hi] */
  g_seed = g_seed * 1664525u + 1013904223u;
  return lo + (int32_t)((g_seed >> 8) % (uint32_t)(hi - lo + 1));
}

static int8_t w_rows[I][G], v_rows[U][G];          /* event kernel: rows, every entry stored */
static int16_t w_index[I * G], v_index[U * G];
static int32_t w_offsets[I + 1], v_offsets[U + 1];
static int8_t wt[G][I4], vt[G][U4];                /* dense kernel: one row per column */
static int32_t bias[2 * G], consts[U * KE_EGRU_UNIT_WORDS];
static int16_t threshold[U];
static float w_scale[G], v_scale[G];
static int8_t x[T][I], y_ref[T][U];
static int16_t c_hat[U], active[U], xbuf[KE_DENSE_I16_SCRATCH(I, U)];
static int8_t y_state[U];
static int32_t scratch[6 * U];

static void fail(const char* what) {
  ke_semihost_write("KE_ERROR ");
  ke_semihost_write(what);
  ke_semihost_write("\n");
  ke_semihost_exit(4);
}

int main(void) {
  ke_egru_i8_params p;
  ke_egru_i8_state s = {c_hat, y_state, active, 0};
  ke_dense_i8_params d = {&p, &wt[0][0], &vt[0][0]};
  for (int r = 0; r < I; ++r)
    for (int k = 0; k < G; ++k) w_rows[r][k] = wt[k][r] = (int8_t)rnd(-60, 60);
  for (int r = 0; r < U; ++r)
    for (int k = 0; k < G; ++k) v_rows[r][k] = vt[k][r] = (int8_t)rnd(-60, 60);
  for (int r = 0; r <= I; ++r) w_offsets[r] = r * G;
  for (int r = 0; r <= U; ++r) v_offsets[r] = r * G;
  for (int e = 0; e < I * G; ++e) w_index[e] = (int16_t)(e % G);
  for (int e = 0; e < U * G; ++e) v_index[e] = (int16_t)(e % G);
  for (int k = 0; k < 2 * G; ++k) bias[k] = rnd(-40000, 40000);
  for (int k = 0; k < G; ++k) { w_scale[k] = 0.0008f; v_scale[k] = 0.0008f; }
  for (int j = 0; j < U; ++j) threshold[j] = (int16_t)rnd(4000, 20000);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < I; ++i) x[t][i] = (int8_t)rnd(-128, 127);
  memset(&p, 0, sizeof p);
  p.input_size = I; p.units = U;
  p.w_values = &w_rows[0][0]; p.w_index = w_index; p.w_offsets = w_offsets;
  p.v_values = &v_rows[0][0]; p.v_index = v_index; p.v_offsets = v_offsets;
  p.bias = bias; p.threshold = threshold; p.x_zero_point = 3; p.y_zero_point = -128;
  p.unit_consts = consts;
  if (ke_egru_i8_prepare(U, 1.0f / 64, w_scale, 1.0f / 256, v_scale, threshold, consts,
                         &p.acc_shift, &p.y_multiplier, &p.y_shift) != 0)
    fail("ke_egru_i8_prepare");
  if (ke_egru_check_sparse(I, G, I * G, w_index, w_offsets) != 0 ||
      ke_egru_check_sparse(U, G, U * G, v_index, v_offsets) != 0 ||
      ke_egru_i8_check_constants(&p) != 0)
    fail("constants out of range");
  /* reference: the event kernel */
  ke_egru_i8_reset(&s, U, p.y_zero_point);
  int fired = 0;
  for (int t = 0; t < T; ++t) {
    ke_egru_i8_step(&p, x[t], &s, scratch, NULL);
    memcpy(y_ref[t], s.y, U);
    fired += s.n_active;
  }
  /* counted: the dense kernel alone */
  ke_egru_i8_reset(&s, U, p.y_zero_point);
  ke_count_begin();
  for (int t = 0; t < T; ++t) ke_dense_i8_step(&d, x[t], &s, xbuf, scratch);
  ke_count_end();
  /* bit for bit, every step */
  ke_egru_i8_reset(&s, U, p.y_zero_point);
  for (int t = 0; t < T; ++t) {
    ke_dense_i8_step(&d, x[t], &s, xbuf, scratch);
    if (memcmp(s.y, y_ref[t], U) != 0) fail("dense SMLAD output differs from ke_egru_i8_step");
  }
  char line[64];
  snprintf(line, sizeof line, "KE_EVENTS %d\nKE_DONE\n", fired);
  ke_semihost_write(line);
  ke_semihost_exit(0);
}
