/* Bare-kernel Cortex-M0 firmware of the eGRU Q15 kernel (custom_ops/core/ke_egru_emb.c),
 * no TFLM: KE_T steps from h = 0 over the model of the generated header ke_m0_data.h
 * (shift codes, Q15 bias, Q15 inputs: keras_events.micro.m0.write_egru_emb_data), each step
 * counted between the markers, then h of every step printed as "KE_H <t> h0 ... h(U-1)".
 * The host runs the same C file and NumPy statement on the same header's data
 * (tests/micro/test_m0.py): the outputs must agree bit for bit. */
#include <stdint.h>

#include "ke_counters.h"
#include "ke_egru_emb.h"
#include "ke_m0_data.h"
#include "ke_m0_print.h"

static int16_t tables[KE_EGRU_EMB_TABLE_ENTRIES(KE_I, KE_U)];
static int16_t h[KE_U];
static int16_t history[KE_T][KE_U];

int main(void) {
  const ke_egru_emb_q15_params p = {KE_I, KE_U, ke_w_codes, ke_u_codes, ke_bias};
  if (ke_egru_emb_check_sizes(KE_I, KE_U) != 0 || ke_egru_emb_check_bias(ke_bias, 2 * KE_U) != 0) {
    ke_semihost_write("KE_ERROR sizes or bias out of range\n");
    return 4;
  }
  for (int t = 0; t < KE_T; ++t) { /* one counted region per step */
    ke_count_begin();
    ke_egru_emb_q15_step(&p, ke_x[t], h, tables);
    ke_count_end();
    for (int j = 0; j < KE_U; ++j) history[t][j] = h[j];
  }
  for (int t = 0; t < KE_T; ++t) {
    int32_t row[KE_U];
    for (int j = 0; j < KE_U; ++j) row[j] = history[t][j];
    ke_m0_print_ints("KE_H", t, row, KE_U);
  }
  ke_semihost_write("KE_DONE\n");
  return 0;
}
