/* KE_DELTA_LSTM: delta LSTM step, float32 and int8 (custom_ops/README.md, "KE_DELTA_LSTM").
 *
 * Neil et al. 2017 / Gao et al. (EdgeDRNN) 2020 with the layout of keras.layers.LSTMCell,
 * columns [i | f | c | o] (ke_delta.h: delta encoding):
 *
 *   x_hat, M += delta(x_t; input threshold) . W  +  delta(h_{t-1}; hidden threshold) . V
 *   (M starts at the bias)
 *   i = sigmoid(M_i)  f = sigmoid(M_f)  g = tanh(M_c)  o = sigmoid(M_o)
 *   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)   (output h_t)
 *
 * int8: x, h_{t-1} as in KE_DELTA_GRU (the int8 input and output); two int32 memories (input
 * and hidden, each in its own units: s_x s_w[k] and s_y s_v[k]) fused in one requantization per
 * gate; c in int16 Q3.12 (saturating at +-8), its tanh from the table's Q3.12 input. */
#ifndef KE_DELTA_LSTM_H_
#define KE_DELTA_LSTM_H_

#include <stddef.h>
#include <stdint.h>

#include "ke_delta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KE_DELTA_LSTM_MAX_UNITS 8191 /* 4U - 1 must fit an int16 index */

typedef struct {
  int32_t input_size, units;
  ke_delta_matrix w, v;   /* [I][4U], [U][4U] */
  const float* bias;      /* [4U] */
  float input_threshold, hidden_threshold;
} ke_delta_lstm_f32_params;

typedef struct {
  float* h;     /* [U] */
  float* c;     /* [U] */
  float* x_hat; /* [I] */
  float* h_hat; /* [U] */
  float* m;     /* [4U], starts at the bias */
} ke_delta_lstm_f32_state;

void ke_delta_lstm_f32_reset(const ke_delta_lstm_f32_params* p, ke_delta_lstm_f32_state* s);
void ke_delta_lstm_f32_step(const ke_delta_lstm_f32_params* p, const float* x,
                            ke_delta_lstm_f32_state* s, uint64_t* macs);

#define KE_DELTA_LSTM_UNIT_WORDS 8 /* m_a, m_g of i, f, c, o */

typedef struct {
  int32_t input_size, units;
  ke_delta_matrix w, v;             /* int8 values */
  const int32_t* bias;              /* [4U] in s_x s_w[k] units */
  int32_t x_threshold, h_threshold; /* 0..255 */
  int32_t x_zero_point, y_zero_point;
  const int32_t* unit_consts;       /* [U][KE_DELTA_LSTM_UNIT_WORDS] */
  int32_t acc_shift;
  int32_t y_multiplier, y_shift;    /* Q0.15 -> int8 output (ke_delta_output) */
} ke_delta_lstm_i8_params;

typedef struct {
  int16_t* c;    /* [U] Q3.12 */
  int8_t* y;     /* [U] h_{t-1} as the int8 output */
  int8_t* x_hat; /* [I] */
  int8_t* h_hat; /* [U] */
  int32_t* m_x;  /* [4U], starts at the bias */
  int32_t* m_h;  /* [4U], starts at 0 */
} ke_delta_lstm_i8_state;

int ke_delta_lstm_i8_prepare(int32_t units, float x_scale, const float* w_scale, float y_scale,
                             const float* v_scale, int32_t* unit_consts, int32_t* acc_shift,
                             int32_t* y_multiplier, int32_t* y_shift);
int ke_delta_lstm_i8_check_constants(const ke_delta_lstm_i8_params* p);
void ke_delta_lstm_i8_reset(const ke_delta_lstm_i8_params* p, ke_delta_lstm_i8_state* s);
void ke_delta_lstm_i8_step(const ke_delta_lstm_i8_params* p, const int8_t* x,
                           ke_delta_lstm_i8_state* s, uint64_t* macs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_DELTA_LSTM_H_ */
