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

/* params: bias [4U]; state: h, c, x_hat, h_hat, m_x [4U] (the one memory, starts at the
 * bias), no m_h. */
typedef ke_delta_f32_params ke_delta_lstm_f32_params;
typedef ke_delta_f32_state ke_delta_lstm_f32_state;

void ke_delta_lstm_f32_reset(const ke_delta_lstm_f32_params* p, ke_delta_lstm_f32_state* s);
void ke_delta_lstm_f32_step(const ke_delta_lstm_f32_params* p, const float* x,
                            ke_delta_lstm_f32_state* s, uint64_t* macs);

#define KE_DELTA_LSTM_UNIT_WORDS 8 /* m_a, m_g of i, f, c, o */

/* params: bias [4U] in s_x s_w[k] units, unit_consts [U][KE_DELTA_LSTM_UNIT_WORDS]; state:
 * c (Q3.12), y, x_hat, h_hat, m_x [4U] (starts at the bias), m_h [4U] (starts at 0), no h. */
typedef ke_delta_i8_params ke_delta_lstm_i8_params;
typedef ke_delta_i8_state ke_delta_lstm_i8_state;

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
