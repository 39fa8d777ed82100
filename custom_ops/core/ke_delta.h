/* Delta encoding, shared by KE_DELTA_GRU and KE_DELTA_LSTM (custom_ops/README.md, "KE_DELTA_GRU").
 *
 * Delta networks (Neil, Lee, Delbruck & Liu, "Delta Networks for Optimized Recurrent Network
 * Computation", ICML 2017; Gao, Neil, Ceolini, Liu & Delbruck, "EdgeDRNN", IEEE JETCAS 2020):
 * a vector v is compared with its last *transmitted* value v_hat; a component is sent only when
 * it changed by more than a threshold theta, and the products with the weight rows are
 * accumulated in a delta memory M:
 *
 *     d_i = v_i - v_hat_i;   sent iff |d_i| > theta;   v_hat_i = v_i and M += d_i W[i, :] if sent.
 *
 * So M = v_hat W at all times (exactly in int8): the pre-activations of a dense step, computed
 * from the rows of the components that changed, and from their stored (unpruned) weights only.
 *
 * int8: v and v_hat are int8 in one quantization (scale s, zero point zp; v_hat starts at zp,
 * the real 0), d is their integer difference (|d| <= 255, what the shared int8 row products
 * take), the threshold the integer floor(theta / s) (so |d| s > theta iff |d| > floor(theta/s)),
 * and M is int32 in units of s s_w[k]: M = bias + (v_hat - zp) W, bounded like any int8
 * accumulator (ke_sparse_acc_bound_i8). */
#ifndef KE_DELTA_H_
#define KE_DELTA_H_

#include <stdint.h>

#include "ke_status.h"

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed-point formats of the int8 paths (the gate tables of ke_lut.h). */
#define KE_DELTA_PRE_FRAC_BITS 12   /* gate pre-activations and the LSTM cell: int16 Q3.12 */
#define KE_DELTA_STATE_FRAC_BITS 15 /* gates, GRU hidden state: int16 Q0.15 */
#define KE_DELTA_MAX_ACC_SHIFT 24   /* accumulators are scaled by 2^L, L <= 24 */
#define KE_DELTA_MAX_THRESHOLD_Q 255 /* an int8 threshold >= 255 never sends */
#define KE_DELTA_MAX_INPUT 32767
#define KE_DELTA_MAX_BIAS_I32 (1 << 30)

/* Text of a ke_status code in the delta ops' terms. */
const char* ke_delta_status_string(int status);

/* One row-compressed matrix (ke_sparse.h) of `rows` source rows and `cols` columns. */
typedef struct {
  const void* values; /* int8 or float */
  const int16_t* index;
  const int32_t* offsets;
  int32_t rows, cols;
} ke_delta_matrix;

/* Constants of one delta layer (both ops; the bias layout is the op's: GRU [2][3U] input and
 * recurrent rows, LSTM [4U]). */
typedef struct {
  int32_t input_size, units;          /* I, U */
  ke_delta_matrix w, v;               /* [I][G U], [U][G U] */
  const float* bias;
  float input_threshold, hidden_threshold;
} ke_delta_f32_params;

typedef struct {
  int32_t input_size, units;
  ke_delta_matrix w, v;               /* int8 values, per-column scales */
  const int32_t* bias;                /* rows in s_x s_w[k] (and GRU: s_y s_v[k]) units */
  int32_t x_threshold, h_threshold;   /* integer thresholds, 0..255 */
  int32_t x_zero_point, y_zero_point;
  const int32_t* unit_consts;         /* [U][the op's unit words] */
  int32_t acc_shift;                  /* L */
  int32_t y_multiplier, y_shift;      /* Q0.15 -> int8 output (ke_delta_output) */
} ke_delta_i8_params;

/* The recurrent state of one delta layer (the caller's memory); NULL where an op keeps none. */
typedef struct {
  float* h;      /* [U] h_{t-1} (the output) */
  float* c;      /* [U] LSTM cell */
  float* x_hat;  /* [I] */
  float* h_hat;  /* [U] */
  float* m_x;    /* [G U] GRU: input memory; LSTM: the one memory */
  float* m_h;    /* [G U] GRU: hidden memory */
} ke_delta_f32_state;

typedef struct {
  int16_t* h;     /* [U] GRU: h in Q0.15 */
  int16_t* c;     /* [U] LSTM: c in Q3.12 */
  int8_t* y;      /* [U] h_{t-1} as the int8 output */
  int8_t* x_hat;  /* [I] */
  int8_t* h_hat;  /* [U] */
  int32_t* m_x;   /* [G U] input memory */
  int32_t* m_h;   /* [G U] hidden memory */
} ke_delta_i8_state;

/* One delta step of a float vector: every component with |v - v_hat| > theta updates v_hat and
 * adds d times its row of `w` to mem[cols].  Returns the MACs executed (stored weights of the
 * sent rows); *sent (may be NULL) gets the number of sent components. */
uint32_t ke_delta_update_f32(const float* v, float* v_hat, float theta, const ke_delta_matrix* w,
                             float* mem, int32_t* sent);

/* The same for int8 v, v_hat (one quantization) and the integer threshold theta_q >= 0. */
uint32_t ke_delta_update_i8(const int8_t* v, int8_t* v_hat, int32_t theta_q,
                            const ke_delta_matrix* w, int32_t* mem, int32_t* sent);

/* Per-column multipliers of the gate requantization: accumulators in units of
 * s_a s_w[k] (input memory) and s_g s_v[k] (hidden memory) to Q3.12, as in KE_EGRU
 * (custom_ops/README.md, "Numerics"): one shift L >= 0 for the layer,
 * m_a[k] = round(s_a s_w[k] 2^12 2^(32-L)) < 2^31, likewise m_g.  Column k = gate * units + j
 * of `gates` gates goes to unit_consts[words * j + 2 * gate] (m_a) and [... + 1] (m_g): a gate
 * loop reads one unit's constants through one pointer.  Prepare only (floating point).
 * Returns KE_OK, KE_ERR_SIZE or KE_ERR_SCALE. */
int ke_delta_multipliers(int32_t units, int32_t gates, float a_scale, const float* w_scale,
                         float g_scale, const float* v_scale, int32_t* unit_consts, int32_t words,
                         int32_t* acc_shift);

/* The int8 output of a Q0.15 value v (|v| <= 2^15): clamp8(rnd(v m, n) + zp) with
 * m = round(2^-15 / s_y 2^n) in [2^14, 2^15) (ke_delta_output_multiplier): v m < 2^30, so one
 * 32-bit multiply, add and shift (every unit, every step: cheaper than a 64-bit requantization). */
static inline int32_t ke_delta_output(int32_t v, int32_t m, int32_t n, int32_t zero_point) {
  const int32_t q = ((v * m + (1 << (n - 1))) >> n) + zero_point;
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
  return __ssat(q, 8); /* one instruction */
#else
  return q > 127 ? 127 : (q < -128 ? -128 : q);
#endif
}

/* m and n of ke_delta_output for the output scale s_y (Prepare only): the n in 1..30 with
 * 2^14 <= 2^-15 / s_y 2^n < 2^15, m = round(2^-15 / s_y 2^n).  KE_ERR_SCALE when no such n
 * (s_y outside ~[2^-29, 2^15]). */
int ke_delta_output_multiplier(float y_scale, int32_t* m, int32_t* n);

/* Whether the int32 memory of `w` (plus `bias`, may be NULL: none) stays below 2^(31 - L) for
 * every int8 v_hat with zero point zp: KE_OK, KE_ERR_BIAS or KE_ERR_RANGE.  Prepare only. */
int ke_delta_check_memory(const ke_delta_matrix* w, const int32_t* bias, int32_t zero_point,
                          int32_t acc_shift);

/* The int8 constants of a delta op with `gates` gates (Prepare only): the gate multipliers
 * (ke_delta_multipliers, `words` per unit) and the output multiplier.  KE_ERR_SIZE when units
 * is outside 1..max_units. */
int ke_delta_i8_prepare(int32_t units, int32_t gates, int32_t max_units, int32_t words,
                        float x_scale, const float* w_scale, float y_scale, const float* v_scale,
                        int32_t* unit_consts, int32_t* acc_shift, int32_t* y_multiplier,
                        int32_t* y_shift);

/* Thresholds, accumulator shift and both memories' range (ke_delta_check_memory) of `p`; the
 * input memory starts at p->bias, the recurrent one at `recurrent_bias` (NULL: zero). */
int ke_delta_i8_check_constants(const ke_delta_i8_params* p, const int32_t* recurrent_bias);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_DELTA_H_ */
