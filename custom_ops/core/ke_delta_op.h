/* The op-table half shared by KE_DELTA_GRU and KE_DELTA_LSTM (ke_op.h): options, inputs, the
 * checks of Prepare, the persistent memory, setup, reset and eval, parametrised by what differs
 * between the two ops (ke_delta_op_kind: gates, bias layout, state blocks, step functions).
 * Each op table (ke_delta_gru_op.c, ke_delta_lstm_op.c) holds one kind and four one-line
 * callbacks.  Tensors and numerics: custom_ops/README.md, "The delta ops".
 *
 * Streaming (option `streaming`, or, when absent, one frame per invoke) keeps x_hat, h_hat, the
 * delta memories, h and c between invokes; otherwise each sequence starts from the reset state. */
#ifndef KE_DELTA_OP_H_
#define KE_DELTA_OP_H_

#include "ke_delta.h"
#include "ke_op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Float models have the first 9 inputs, int8 models all 11. */
#define KE_DELTA_OP_FLOAT_INPUTS 9
#define KE_DELTA_OP_INT8_INPUTS 11

/* The options of both ops; only the largest `units` differs. */
#define KE_DELTA_OP_OPTIONS(max_units)                                  \
  {                                                                     \
    {"units", 0, 1, 1, (max_units), 0},                                 \
    {"return_sequences", 1, 0, 0, 1, 0},                                \
    {"streaming", 1, 0, 0, 1, -1} /* -1: absent (streaming iff time == 1) */ \
  }

/* What one delta op is made of. */
typedef struct {
  int32_t gates;       /* G: columns per unit of W and V (GRU 3, LSTM 4) */
  int32_t unit_words;  /* int8 constants per unit (ke_delta_multipliers) */
  int32_t bias_rows;   /* 2: bias [2][G U] (input and recurrent rows, GRU); 1: [G U] (LSTM) */
  /* The state blocks beyond x_hat, h_hat, m_x and y (int8): */
  int int8_h;          /* int8 keeps h in int16 Q0.15 (GRU) */
  int cell;            /* a cell state c [U] (LSTM: int16 Q3.12 or float) */
  int float_m_h;       /* float keeps a separate hidden memory m_h (GRU; the LSTM has one) */
  int (*i8_prepare)(int32_t units, float x_scale, const float* w_scale, float y_scale,
                    const float* v_scale, int32_t* unit_consts, int32_t* acc_shift,
                    int32_t* y_multiplier, int32_t* y_shift);
  int (*i8_check_constants)(const ke_delta_i8_params* p);
  void (*i8_reset)(const ke_delta_i8_params* p, ke_delta_i8_state* s);
  void (*i8_step)(const ke_delta_i8_params* p, const int8_t* x, ke_delta_i8_state* s,
                  uint64_t* macs);
  void (*f32_reset)(const ke_delta_f32_params* p, ke_delta_f32_state* s);
  void (*f32_step)(const ke_delta_f32_params* p, const float* x, ke_delta_f32_state* s,
                   uint64_t* macs);
} ke_delta_op_kind;

/* The ke_op_def callbacks of a delta op of kind `k`. */
int ke_delta_op_check(const ke_delta_op_kind* k, const ke_reporter* r, const int32_t* opt,
                      const ke_tensor* in, int32_t num_inputs, const ke_tensor* out,
                      ke_plan* plan);
int ke_delta_op_setup(const ke_delta_op_kind* k, const ke_reporter* r, const int32_t* opt,
                      const ke_tensor* in, const ke_tensor* out, const ke_plan* plan,
                      void* persistent);
void ke_delta_op_reset(const ke_delta_op_kind* k, const int32_t* opt, const ke_plan* plan,
                       void* persistent);
void ke_delta_op_eval(const ke_delta_op_kind* k, const int32_t* opt, const ke_plan* plan,
                      void* persistent, const void* const* in, void* out, uint64_t* macs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_DELTA_OP_H_ */
