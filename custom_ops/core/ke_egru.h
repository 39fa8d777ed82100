/* KE_EGRU: event-based GRU step, float32 reference and int8/int16 integer path.
 *
 * Portable C99, no dependencies, no allocation: every buffer is provided by the
 * caller.  The same file is compiled into the host TFLite kernel
 * (custom_ops/tflite/), the TFLite Micro kernel (custom_ops/tflm/) and the firmware
 * harness, so all three agree bit for bit.
 *
 * Model: Subramoney, Nazeer, Schoene, Mayr, Kappel, "Efficient recurrent
 * architectures through activity sparsity and sparse back-propagation through
 * time", ICLR 2023 (EGRU), with the keras GRUCell reset_after layout:
 *
 *   a   = x_t . W + b_in                (3U, column blocks [u | r | z])
 *   g   = y_{t-1} . V + b_rec           (only rows j with y_{t-1,j} != 0)
 *   u   = sigmoid(a_u + g_u),  r = sigmoid(a_r + g_r)
 *   z   = tanh(a_z + r * g_z)
 *   c   = u * z + (1 - u) * chat_{t-1}
 *   e   = H(c - theta)                  (event iff c > theta)
 *   y_t = c * e,   chat_t = c - e * theta
 *
 * Event-driven: the recurrent product visits only the units in the state's
 * active list (units whose previous output is non-zero) and, for those rows,
 * only the stored non-zero weights.  The input product likewise skips zero
 * inputs (int8: inputs equal to the zero point) and pruned weights.
 *
 * Weight format: compressed sparse rows (ke_sparse.h) with `rows` source rows
 * (I for W, U for V) and 3U output columns.
 *
 * The float path computes exp inline (no libm call per element); <math.h> (floor) is
 * used by ke_egru_i8_prepare only; the int8 path uses
 * no floating point outside ke_egru_i8_prepare (and ke_quantize_multiplier).
 *
 * Validation happens once, in ke_sparse_check() / ke_egru_i8_check_constants()
 * (called from the glue's Prepare); the step functions trust their arguments.
 */
#ifndef KE_EGRU_H_
#define KE_EGRU_H_

#include <stddef.h>
#include <stdint.h>

#include "ke_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KE_EGRU_API_VERSION 3

/* Limits that keep int16 indices and int32 accumulators exact. */
#define KE_EGRU_MAX_UNITS 10922       /* 3U - 1 must fit an int16 index      */
#define KE_EGRU_MAX_INPUT 32767       /* |sum x*w| < 2^30 for int8 operands  */
#define KE_EGRU_MAX_BIAS_I32 (1 << 30) /* |bias| + |acc| < 2^31            */
#define KE_EGRU_MAX_ACC_SHIFT 24      /* accumulators are scaled by 2^L, L <= 24 */

/* Fixed-point formats of the integer path. */
#define KE_EGRU_PRE_FRAC_BITS 12 /* gate pre-activations: int16 Q3.12 (+-8) */
#define KE_EGRU_STATE_FRAC_BITS 15 /* gates, c, chat, theta: int16 Q0.15  */

/* Human-readable text for a ke_status code (ke_status.h), in the op's terms (static
 * string). */
const char* ke_egru_status_string(int status);

/* ----------------------------------------------------------------------- */
/* Validation                                                              */
/* ----------------------------------------------------------------------- */

/* ke_sparse_check (ke_sparse.h) under the op's prefix, for the ctypes binding of
 * _ke_core.so. */
int ke_egru_check_sparse(int32_t rows, int32_t cols, int32_t nnz,
                         const int16_t* index, const int32_t* offsets);

/* ----------------------------------------------------------------------- */
/* float32 reference                                                       */
/* ----------------------------------------------------------------------- */

typedef struct {
  int32_t input_size; /* I */
  int32_t units;      /* U */
  const float* w_values; const int16_t* w_index; const int32_t* w_offsets; /* rows I */
  const float* v_values; const int16_t* v_index; const int32_t* v_offsets; /* rows U */
  const float* bias;      /* [2][3U]: row 0 input bias, row 1 recurrent bias */
  const float* threshold; /* [U], theta in (0, 1) */
} ke_egru_f32_params;

/* Recurrent state of one sequence; all arrays have U entries. */
typedef struct {
  float* c_hat;    /* chat_{t-1} (already reset)                 */
  float* y;        /* y_{t-1}                                    */
  int16_t* active; /* indices j with y[j] != 0, n_active entries */
  int32_t n_active;
} ke_egru_f32_state;

/* Zeroes the state (initial state of every sequence). */
void ke_egru_f32_reset(ke_egru_f32_state* s, int32_t units);

/* Scratch floats needed by one step: 6U. */
#define KE_EGRU_F32_SCRATCH(units) (6 * (size_t)(units))

/* One step: reads x_t [I] and the state, writes the new state (s->y is y_t).
 * `macs` (may be NULL) is incremented by the multiply-accumulates executed. */
void ke_egru_f32_step(const ke_egru_f32_params* p, const float* x,
                      ke_egru_f32_state* s, float* scratch, uint64_t* macs);

/* One sequence of `time` steps on from the state in `s` (no reset: streaming
 * calls it per invoke): x [T][I] -> out [T][U] (return_sequences) or [U]. */
void ke_egru_f32_continue(const ke_egru_f32_params* p, const float* x, int32_t time,
                          int return_sequences, float* out, ke_egru_f32_state* s,
                          float* scratch, uint64_t* macs);

/* Whole sequences: x [B][T][I] -> out [B][T][U] (return_sequences) or
 * [B][U] (last step).  Each batch row starts from the zero state; `s` and
 * `scratch` are working buffers (U-sized state arrays, 6U floats). */
void ke_egru_f32_run(const ke_egru_f32_params* p, const float* x, int32_t batch,
                     int32_t time, int return_sequences, float* out,
                     ke_egru_f32_state* s, float* scratch, uint64_t* macs);

/* ----------------------------------------------------------------------- */
/* int8 integer path                                                       */
/* ----------------------------------------------------------------------- */

/* Requantization of the gate pre-activations (custom_ops/README.md, "Numerics"):
 * with M_a[k] = s_x s_w[k] 2^12 and M_g[k] = s_y s_v[k] 2^12 (accumulator units ->
 * Q3.12), one layer-wide shift L >= 0 and per-column multipliers
 * m_a[k] = round(M_a[k] 2^(32-L)), m_g[k] = round(M_g[k] 2^(32-L)) (all < 2^31),
 *   u, r:  pre = sat16(floor((A 2^L m_a + G 2^L m_g) / 2^32))   one fused requantization
 *   z:     pre = sat16(floor(A 2^L m_a / 2^32) + floor(r * floor(G 2^L m_g / 2^32) / 2^15))
 * so every gate costs one or two 32x32->64 multiply-accumulates and no 64-bit shift. */
typedef struct {
  int32_t input_size; /* I */
  int32_t units;      /* U */
  const int8_t* w_values; const int16_t* w_index; const int32_t* w_offsets; /* rows I */
  const int8_t* v_values; const int16_t* v_index; const int32_t* v_offsets; /* rows U */
  const int32_t* bias;      /* [2][3U]: row 0 scale s_x*s_w[k], row 1 s_y*s_v[k] */
  const int16_t* threshold; /* [U], Q0.15, in (0, 32767] */
  int32_t x_zero_point;
  int32_t y_zero_point;
  /* Precomputed by ke_egru_i8_prepare(): */
  /* [U][KE_EGRU_UNIT_WORDS]: per unit j, m_a and m_g of gate u, of gate r, of
   * gate z, then the threshold (= threshold[j]): the gate loop reads all of a
   * unit's constants through one pointer. */
  const int32_t* unit_consts;
  int32_t acc_shift;           /* L */
  int32_t y_multiplier, y_shift; /* 2^-15 / s_y as m * 2^(shift - 31) */
  /* Optional (NULL: unused): the gather form of W packed with bias row 0
   * (ke_sparse_gather_pack(..., bias, ...), ke_sparse.h), which the per-step input product
   * then uses; writable (it holds x - zp per step). */
  void* w_gather;
} ke_egru_i8_params;

#define KE_EGRU_UNIT_WORDS 7

/* Fills `unit_consts` ([U][KE_EGRU_UNIT_WORDS], caller-owned, layout above; the
 * thresholds are copied from `threshold`), L and the output multiplier from the
 * float scales.  Returns KE_ERR_SCALE if a scale is not positive/finite or
 * the multipliers cannot be represented.  Prepare only. */
int ke_egru_i8_prepare(int32_t units, float x_scale, const float* w_scale,
                       float y_scale, const float* v_scale, const int16_t* threshold,
                       int32_t* unit_consts, int32_t* acc_shift,
                       int32_t* y_multiplier, int32_t* y_shift);

/* With every field of `p` set (after ke_egru_i8_prepare and ke_egru_check_sparse):
 * |bias| <= 2^30, thresholds in (0, 32767], and the accumulator bound
 * max|b| + max|q - zp| * sum_rows max|w| < 2^(31 - L) for both matrices, which
 * makes every step's arithmetic exact (KE_ERR_RANGE otherwise). */
int ke_egru_i8_check_constants(const ke_egru_i8_params* p);

typedef struct {
  int16_t* c_hat;  /* Q0.15 */
  int8_t* y;       /* quantized y_{t-1} (zero = y_zero_point) */
  int16_t* active; /* indices j with y[j] != y_zero_point */
  int32_t n_active;
} ke_egru_i8_state;

void ke_egru_i8_reset(ke_egru_i8_state* s, int32_t units, int32_t y_zero_point);

/* Gates, state update and events of every unit from the input accumulators a[3U] and the
 * recurrent accumulators g[3U] (bias included); rebuilds y and the active list. */
void ke_egru_i8_gates(const ke_egru_i8_params* p, const int32_t* a, const int32_t* g,
                      ke_egru_i8_state* s);

/* Scratch int32 needed by one step: 6U. */
#define KE_EGRU_I8_SCRATCH(units) (6 * (size_t)(units))

void ke_egru_i8_step(const ke_egru_i8_params* p, const int8_t* x,
                     ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs);

/* int8 counterpart of ke_egru_f32_continue. */
void ke_egru_i8_continue(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                         int return_sequences, int8_t* out, ke_egru_i8_state* s,
                         int32_t* scratch, uint64_t* macs);

/* ke_egru_i8_continue for hosts: the input products of all `time` steps first, one
 * pass per stored weight vectorized over time, then the per-step recurrence.  Same
 * outputs and MAC count, bit for bit; needs more scratch (below), so MCUs use
 * ke_egru_i8_continue. */
#define KE_EGRU_I8_SEQ_SCRATCH_BYTES(units, input_size, time)                       \
  (sizeof(int32_t) * (size_t)(units) * (3 * (1 + (size_t)(time)) + KE_EGRU_UNIT_WORDS) + \
   sizeof(int16_t) * (size_t)(input_size) * (size_t)(time))
void ke_egru_i8_continue_seq(const ke_egru_i8_params* p, const int8_t* x, int32_t time,
                             int return_sequences, int8_t* out, ke_egru_i8_state* s,
                             int32_t* scratch, uint64_t* macs);
/* ke_egru_i8_run through ke_egru_i8_continue_seq (same scratch as it). */
void ke_egru_i8_run_seq(const ke_egru_i8_params* p, const int8_t* x, int32_t batch,
                        int32_t time, int return_sequences, int8_t* out,
                        ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs);

void ke_egru_i8_run(const ke_egru_i8_params* p, const int8_t* x, int32_t batch,
                    int32_t time, int return_sequences, int8_t* out,
                    ke_egru_i8_state* s, int32_t* scratch, uint64_t* macs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_EGRU_H_ */
