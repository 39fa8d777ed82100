/* Baseline firmware of benchmarks/m0_bench.py: a plain float32 GRU step (Keras GRUCell,
 * reset_after=True, gates [z | r | h]) in C, compiled for the Cortex-M0 with soft float
 * (-mfloat-abi=soft: every float operation is a libgcc call), the comparison Amoh & Odame
 * make for the eGRU.  Gate nonlinearities use the project's float sigmoid/tanh
 * (ke_activation.h: exp by a polynomial, no libm call), the faster choice for the baseline.
 * Weights are float32 constants in flash (ke_m0_gru_data.h); each step is counted. */
#include <stdint.h>
#include <string.h>

#include "ke_activation.h"
#include "ke_counters.h"
#include "ke_m0_gru_data.h"
#include "ke_m0_print.h"

#define G (3 * KE_U)

static float h[KE_U], a[G], g[G];
static float history[KE_T][KE_U];

static void gru_step(const float* x) {
  for (int k = 0; k < G; ++k) {
    a[k] = ke_gru_bias[k];
    g[k] = ke_gru_bias[G + k];
  }
  for (int i = 0; i < KE_I; ++i) {
    const float xi = x[i];
    const float* row = ke_gru_kernel + i * G;
    for (int k = 0; k < G; ++k) a[k] += xi * row[k];
  }
  for (int i = 0; i < KE_U; ++i) {
    const float hi = h[i];
    const float* row = ke_gru_recurrent + i * G;
    for (int k = 0; k < G; ++k) g[k] += hi * row[k];
  }
  for (int j = 0; j < KE_U; ++j) {
    const float z = ke_sigmoid(a[j] + g[j]);
    const float r = ke_sigmoid(a[KE_U + j] + g[KE_U + j]);
    const float c = ke_tanh(a[2 * KE_U + j] + r * g[2 * KE_U + j]);
    h[j] = z * h[j] + (1.0f - z) * c;
  }
}

int main(void) {
  for (int t = 0; t < KE_T; ++t) {
    ke_count_begin();
    gru_step(ke_gru_x[t]);
    ke_count_end();
    memcpy(history[t], h, sizeof h);
  }
  for (int t = 0; t < KE_T; ++t) {
    int32_t row[KE_U];
    for (int j = 0; j < KE_U; ++j) row[j] = (int32_t)(history[t][j] * 32768.0f);
    ke_m0_print_ints("KE_H", t, row, KE_U);
  }
  ke_semihost_write("KE_DONE\n");
  return 0;
}
