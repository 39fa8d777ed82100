/* KE_DELTA_GRU: delta GRU step, float32 and int8 (custom_ops/README.md, "KE_DELTA_GRU").
 *
 * Neil et al. 2017 / Gao et al. (EdgeDRNN) 2020 with the layout of
 * keras.layers.GRUCell(reset_after=True), columns [z | r | n] (ke_delta.h: delta encoding):
 *
 *   x_hat, M_x += delta(x_t; input threshold) . W       M_x starts at b_in
 *   h_hat, M_h += delta(h_{t-1}; hidden threshold) . V  M_h starts at b_rec
 *   z = sigmoid(M_x,z + M_h,z)   r = sigmoid(M_x,r + M_h,r)   n = tanh(M_x,n + r * M_h,n)
 *   h_t = z * h_{t-1} + (1 - z) * n        (output h_t)
 *
 * The products touch only the rows of W / V of the components sent this step and only their
 * stored weights.  The state (x_hat, h_hat, M_x, M_h, h) is the caller's: streaming keeps it
 * across calls, `reset` restores the initial one.
 *
 * int8 (custom_ops/README.md, "Numerics of the delta ops"): x int8 in the input's quantization,
 * h_{t-1} as the int8 output (its quantization) for the hidden deltas, h in int16 Q0.15 for the
 * state update; memories int32; per-column weight scales; gates from the Q3.12 -> Q0.15 tables
 * with the same fused requantizations as KE_EGRU. */
#ifndef KE_DELTA_GRU_H_
#define KE_DELTA_GRU_H_

#include <stddef.h>
#include <stdint.h>

#include "ke_delta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KE_DELTA_GRU_MAX_UNITS 10922 /* 3U - 1 must fit an int16 index */

/* params: bias [2][3U] (b_in, b_rec); state: h, x_hat, h_hat, m_x (starts at b_in), m_h
 * (starts at b_rec), no c. */
typedef ke_delta_f32_params ke_delta_gru_f32_params;
typedef ke_delta_f32_state ke_delta_gru_f32_state;

void ke_delta_gru_f32_reset(const ke_delta_gru_f32_params* p, ke_delta_gru_f32_state* s);
/* One step: x [I] -> s->h.  `macs` (may be NULL) += the MACs executed. */
void ke_delta_gru_f32_step(const ke_delta_gru_f32_params* p, const float* x,
                           ke_delta_gru_f32_state* s, uint64_t* macs);

#define KE_DELTA_GRU_UNIT_WORDS 6 /* m_a, m_g of z, of r, of n */

/* params: bias [2][3U] in s_x s_w[k] and s_y s_v[k] units, unit_consts
 * [U][KE_DELTA_GRU_UNIT_WORDS]; state: h (Q0.15), y, x_hat, h_hat, m_x, m_h [3U], no c. */
typedef ke_delta_i8_params ke_delta_gru_i8_params;
typedef ke_delta_i8_state ke_delta_gru_i8_state;

/* unit_consts and the output multiplier from the scales (Prepare only). */
int ke_delta_gru_i8_prepare(int32_t units, float x_scale, const float* w_scale, float y_scale,
                            const float* v_scale, int32_t* unit_consts, int32_t* acc_shift,
                            int32_t* y_multiplier, int32_t* y_shift);
/* Bias, thresholds and memory bounds of a complete `p` (Prepare only). */
int ke_delta_gru_i8_check_constants(const ke_delta_gru_i8_params* p);
void ke_delta_gru_i8_reset(const ke_delta_gru_i8_params* p, ke_delta_gru_i8_state* s);
/* One step: x [I] -> s->y (int8 h_t) and s->h. */
void ke_delta_gru_i8_step(const ke_delta_gru_i8_params* p, const int8_t* x,
                          ke_delta_gru_i8_state* s, uint64_t* macs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_DELTA_GRU_H_ */
