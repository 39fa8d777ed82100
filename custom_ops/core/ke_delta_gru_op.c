/* KE_DELTA_GRU as a TFLite custom op (ke_op.h).  The options, inputs, checks, memory and step
 * loop are those of both delta ops (ke_delta_op.c); this table gives the GRU's facts.  Math:
 * ke_delta_gru.c; tensors and numerics: custom_ops/README.md, "KE_DELTA_GRU". */
#include "ke_delta_gru.h"
#include "ke_delta_op.h"

static const ke_option kOptions[] = KE_DELTA_OP_OPTIONS(KE_DELTA_GRU_MAX_UNITS);

static const ke_delta_op_kind kGru = {
    .gates = 3,
    .unit_words = KE_DELTA_GRU_UNIT_WORDS,
    .bias_rows = 2, /* [2][3U]: b_in, b_rec (the two memories' reset values) */
    .int8_h = 1,    /* h kept in int16 Q0.15 */
    .cell = 0,
    .float_m_h = 1, /* float: m_x and m_h */
    .i8_prepare = ke_delta_gru_i8_prepare,
    .i8_check_constants = ke_delta_gru_i8_check_constants,
    .i8_reset = ke_delta_gru_i8_reset,
    .i8_step = ke_delta_gru_i8_step,
    .f32_reset = ke_delta_gru_f32_reset,
    .f32_step = ke_delta_gru_f32_step,
};

static int check(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 int32_t num_inputs, const ke_tensor* out, ke_plan* plan) {
  return ke_delta_op_check(&kGru, r, opt, in, num_inputs, out, plan);
}

static int setup(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 const ke_tensor* out, const ke_plan* plan, void* persistent) {
  return ke_delta_op_setup(&kGru, r, opt, in, out, plan, persistent);
}

static void reset(const int32_t* opt, const ke_plan* plan, void* persistent) {
  ke_delta_op_reset(&kGru, opt, plan, persistent);
}

static void eval(const int32_t* opt, const ke_plan* plan, void* persistent,
                 const void* const* in, void* out, void* scratch, uint64_t* macs) {
  (void)scratch;
  ke_delta_op_eval(&kGru, opt, plan, persistent, in, out, macs);
}

const ke_op_def ke_op_KE_DELTA_GRU = {
    kOptions, (int32_t)(sizeof(kOptions) / sizeof(kOptions[0])), KE_DELTA_OP_INT8_INPUTS,
    check, setup, reset, eval,
};
