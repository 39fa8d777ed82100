/* Where the host int8 KE_EGRU path spends its instructions (issue 17, host goal): the op's
 * core alone (ke_egru_i8_run_seq, what the TFLite kernel's Eval runs) at export_bench.py's
 * size (T=49 steps, I=40 inputs, U=64 units), unstructured pruning to `density`, one
 * threshold for all units (sets the activity), under valgrind's callgrind:
 *
 *   gcc -std=c99 -O3 -fno-trapping-math -g -Icustom_ops/core benchmarks/host_op_profile.c \
 *       custom_ops/core/*.c -lm -o build/host_op_profile
 *   valgrind --tool=callgrind --callgrind-out-file=build/cg.out build/host_op_profile 0.2 4000 20
 *   callgrind_annotate build/cg.out
 *
 * Arguments: weight density, threshold (Q0.15), sequences.  Prints the measured activity and
 * MACs per sequence (the kernel's count) against the dense GRU's 3U(I+U)T.  Random weights
 * and inputs from a fixed LCG: the counts are exact and repeatable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ke_egru.h"
#define T 49
#define I 40
#define U 64
#define G (3 * U)
static unsigned rs = 1;
static float frand(float a, float b) { rs = rs * 1103515245u + 12345u; return a + (b - a) * ((rs >> 8) & 0xffff) / 65535.0f; }
static void rows(int r, float density, int8_t* v, int16_t* idx, int32_t* off) {
  int n = 0; off[0] = 0;
  for (int i = 0; i < r; ++i) { for (int k = 0; k < G; ++k) if (frand(0, 1) < density) { v[n] = (int8_t)(int)frand(-100, 100); if (!v[n]) v[n] = 1; idx[n++] = (int16_t)k; } off[i + 1] = n; }
}
int main(int argc, char** argv) {
  float density = atof(argv[1]); int th0 = atoi(argv[2]); int reps = atoi(argv[3]);
  static int8_t wq[I * G], vq[U * G], xq[T * I], out[T * U], y[U];
  static int16_t wi[I * G], vi[U * G], th[U], chat[U], act[U];
  static int32_t wo[I + 1], vo[U + 1], bias[2 * G], consts[KE_EGRU_UNIT_WORDS * U];
  static int32_t seq[KE_EGRU_I8_SEQ_SCRATCH_BYTES(U, I, T) / 4 + 1];
  float ws[G], vs[G]; int32_t L, ym, ys;
  rows(I, density, wq, wi, wo); rows(U, density, vq, vi, vo);
  for (int k = 0; k < 2 * G; ++k) bias[k] = (int32_t)frand(-3000, 3000);
  for (int k = 0; k < G; ++k) { ws[k] = 0.004f; vs[k] = 0.004f; }
  for (int k = 0; k < U; ++k) th[k] = (int16_t)th0;
  for (int k = 0; k < T * I; ++k) xq[k] = (int8_t)(int)frand(-128, 127);
  ke_egru_i8_prepare(U, 0.02f, ws, 0.0078f, vs, th, consts, &L, &ym, &ys);
  ke_egru_i8_params q = {0};
  q.input_size = I; q.units = U; q.w_values = wq; q.w_index = wi; q.w_offsets = wo;
  q.v_values = vq; q.v_index = vi; q.v_offsets = vo; q.bias = bias; q.threshold = th;
  q.x_zero_point = 0; q.y_zero_point = -128; q.unit_consts = consts; q.acc_shift = L;
  q.y_multiplier = ym; q.y_shift = ys;
  if (ke_egru_i8_check_constants(&q)) { printf("constants\n"); return 1; }
  ke_egru_i8_state s = {chat, y, act, 0};
  uint64_t macs = 0; int ev = 0;
  for (int r = 0; r < reps; ++r) ke_egru_i8_run_seq(&q, xq, 1, T, 1, out, &s, seq, &macs);
  for (int k = 0; k < T * U; ++k) ev += out[k] != -128;
  printf("L=%d activity %.3f macs/seq %.0f dense %d\n", L, ev / (double)(T * U), macs / (double)reps, T * (I + U) * G);
  return 0;
}
