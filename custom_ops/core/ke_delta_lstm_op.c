/* KE_DELTA_LSTM as a TFLite custom op (ke_op.h).  The options, inputs, checks, memory and step
 * loop are those of both delta ops (ke_delta_op.c); this table gives the LSTM's facts.  Math:
 * ke_delta_lstm.c; tensors and numerics: custom_ops/README.md, "KE_DELTA_LSTM". */
#include "ke_delta_lstm.h"
#include "ke_delta_op.h"

static const ke_option kOptions[] = KE_DELTA_OP_OPTIONS(KE_DELTA_LSTM_MAX_UNITS);

static const ke_delta_op_kind kLstm = {
    .gates = 4,
    .unit_words = KE_DELTA_LSTM_UNIT_WORDS,
    .bias_rows = 1, /* [4U] (the input memory's reset value) */
    .int8_h = 0,    /* int8: y is the hidden state */
    .cell = 1,      /* c: int16 Q3.12 or float */
    .float_m_h = 0, /* float: one memory m_x */
    .i8_prepare = ke_delta_lstm_i8_prepare,
    .i8_check_constants = ke_delta_lstm_i8_check_constants,
    .i8_reset = ke_delta_lstm_i8_reset,
    .i8_step = ke_delta_lstm_i8_step,
    .f32_reset = ke_delta_lstm_f32_reset,
    .f32_step = ke_delta_lstm_f32_step,
};

static int check(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 int32_t num_inputs, const ke_tensor* out, ke_plan* plan) {
  return ke_delta_op_check(&kLstm, r, opt, in, num_inputs, out, plan);
}

static int setup(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 const ke_tensor* out, const ke_plan* plan, void* persistent) {
  return ke_delta_op_setup(&kLstm, r, opt, in, out, plan, persistent);
}

static void reset(const int32_t* opt, const ke_plan* plan, void* persistent) {
  ke_delta_op_reset(&kLstm, opt, plan, persistent);
}

static void eval(const int32_t* opt, const ke_plan* plan, void* persistent,
                 const void* const* in, void* out, void* scratch, uint64_t* macs) {
  (void)scratch;
  ke_delta_op_eval(&kLstm, opt, plan, persistent, in, out, macs);
}

const ke_op_def ke_op_KE_DELTA_LSTM = {
    kOptions, (int32_t)(sizeof(kOptions) / sizeof(kOptions[0])), KE_DELTA_OP_INT8_INPUTS,
    check, setup, reset, eval,
};
