/* Baseline firmware of benchmarks/m0_bench.py: the project's int8 event kernel KE_EGRU
 * (custom_ops/core/ke_egru.c, ke_egru_i8_step) built for ARMv6-M (Cortex-M0, no DSP
 * extension: the portable C paths), every weight stored, on the model and int8 inputs of
 * the generated header ke_m0_egru_data.h (keras_events.ops.egru.pack_int8).  Each step is
 * counted; prints the events per step ("KE_EVENTS <t> n") and KE_DONE. */
#include <stdint.h>

#include "ke_counters.h"
#include "ke_egru.h"
#include "ke_m0_egru_data.h"
#include "ke_m0_print.h"

static int32_t consts[KE_U * KE_EGRU_UNIT_WORDS];
static int32_t scratch[KE_EGRU_I8_SCRATCH(KE_U)];
static int16_t c_hat[KE_U], active[KE_U];
static int8_t y[KE_U];

int main(void) {
  ke_egru_i8_params p = {KE_I, KE_U, ke_w_values, ke_w_index, ke_w_offsets, ke_v_values,
                         ke_v_index, ke_v_offsets, ke_bias, ke_threshold, KE_X_ZERO_POINT,
                         KE_Y_ZERO_POINT, consts, 0, 0, 0};
  ke_egru_i8_state s = {c_hat, y, active, 0};
  if (ke_egru_i8_prepare(KE_U, KE_X_SCALE, ke_w_scale, KE_Y_SCALE, ke_v_scale, ke_threshold,
                         consts, &p.acc_shift, &p.y_multiplier, &p.y_shift) != 0 ||
      ke_egru_i8_check_constants(&p) != 0) {
    ke_semihost_write("KE_ERROR constants out of range\n");
    return 4;
  }
  ke_egru_i8_reset(&s, KE_U, KE_Y_ZERO_POINT);
  int32_t events[KE_T];
  for (int t = 0; t < KE_T; ++t) {
    ke_count_begin();
    ke_egru_i8_step(&p, ke_x[t], &s, scratch, 0);
    ke_count_end();
    events[t] = s.n_active;
  }
  ke_m0_print_ints("KE_EVENTS", 0, events, KE_T);
  ke_semihost_write("KE_DONE\n");
  return 0;
}
