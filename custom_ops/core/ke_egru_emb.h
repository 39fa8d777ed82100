/* KE_EGRU_EMB: the embedded GRU (eGRU) step, float32 and Q15 with power-of-two weights.
 *
 * Portable C99, no dependencies, no allocation, no divide instruction, no multiply in the
 * weight products: made for Cortex-M0 class cores (no FPU, no DSP extension).  The same
 * file runs in the host TFLite kernel, TFLite Micro and the bare M0 firmware
 * (micro/m0/), so the Q15 path agrees bit for bit everywhere.
 *
 * Model: Amoh & Odame, "An Optimized Recurrent Unit for Ultra-Low-Power Keyword
 * Spotting", Proc. ACM IMWUT 3(2), 2019.  One update gate, no reset gate, softsign
 * (s(v) = v / (1 + |v|)) for both nonlinearities; weights are powers of two:
 *
 *   z   = (s(x W_z + h_{t-1} U_z + b_z) + 1) / 2
 *   h~  = s(x W_h + h_{t-1} U_h + b_h)
 *   h_t = z * h_{t-1} + (1 - z) * h~          (z keeps the old state, as in Keras' GRU)
 *
 * Weight layout: kernel [I, 2U] and recurrent kernel [U, 2U] with output columns
 * [z | h~], bias [2U].
 *
 * Q15 path:
 *   - every weight is a 4-bit shift code, sign bit 3, exponent e in bits 0..2:
 *     e = 0 is a zero weight, e = 1..7 is +-2^-(e-1) (1 ... 1/64).
 *   - code layout (made for the inner loop, not for reading): units go in groups of four,
 *     group g holding the eight columns z_{4g..4g+3}, h~_{4g..4g+3}.  For each row (rows
 *     padded to an even count) a group stores one 32-bit little-endian word whose nibble
 *     k (bits 4k..4k+3) is the code of its k-th column; units past U and pad rows have
 *     code 0.  w_codes is [G][PADDED_ROWS(I)][4] bytes, u_codes [G][PADDED_ROWS(U)][4],
 *     G = ceil(U / 4): half a byte per weight, plus the padding.
 *   - x and h are Q15 (int16, clamped to +-32767 so every negation fits int16); a product
 *     x * (+-2^-k) is the arithmetic shift (x >> k), negated: the step first tabulates
 *     the 16 code values of each input row (16 int16 per row), then each weight costs a
 *     nibble extraction, one table load and one add.  One word holds the codes of eight
 *     columns of the same row, so the eight lookups share one table and eight running
 *     sums stay in registers over all rows (Cortex-M0: r8-r12 take adds too).  Sums are
 *     int32 Q15 (exact: |sum| < 2^15 * (I + U) + |bias| < 2^31 by the limits below).
 *   - softsign by restoring (shift-and-subtract) division, 15 quotient bits:
 *     s(a) = sign(a) * floor(2^15 m / (2^15 + m)), m = min(|a|, 2^24) (at |a| = 512 the
 *     exact value is 1 - 0.002; the clamp keeps the shifted remainder inside int32).
 *   - z = (s_z + 2^15) >> 1;  h_t = h~ + round(z (h_{t-1} - h~) / 2^15).
 *
 * Validation happens once (ke_egru_emb_check_sizes, and the op table's check); the step
 * functions trust their arguments. */
#ifndef KE_EGRU_EMB_H_
#define KE_EGRU_EMB_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_EGRU_EMB_MAX_UNITS 16383    /* I + U <= 2^15: sums stay below 2^31 */
#define KE_EGRU_EMB_MAX_ROWS 32768     /* I + U */
#define KE_EGRU_EMB_MAX_BIAS (1 << 29) /* Q15 bias, |b| < 2^14 */
#define KE_EGRU_EMB_SOFTSIGN_CLAMP (1 << 24)
#define KE_EGRU_EMB_ONE 32768          /* 1.0 in Q15 */

/* Unit groups, padded rows, code bytes of one matrix (w_codes: rows = I, u_codes:
 * rows = U), and int16 entries of the code tables of a step (its scratch). */
#define KE_EGRU_EMB_GROUPS(units) (((units) + 3) / 4)
#define KE_EGRU_EMB_PADDED_ROWS(rows) (2 * (((rows) + 1) / 2))
#define KE_EGRU_EMB_CODE_BYTES(rows, units) \
  (4 * KE_EGRU_EMB_GROUPS(units) * KE_EGRU_EMB_PADDED_ROWS(rows))
#define KE_EGRU_EMB_TABLE_ENTRIES(inputs, units) \
  (16 * (KE_EGRU_EMB_PADDED_ROWS(inputs) + KE_EGRU_EMB_PADDED_ROWS(units)))

typedef struct {
  int32_t input_size, units;
  const uint8_t* w_codes; /* [G][PADDED_ROWS(I)][4] (4-byte aligned: faster on ARMv6-M) */
  const uint8_t* u_codes; /* [G][PADDED_ROWS(U)][4] */
  const int32_t* bias;    /* [2U], Q15 */
} ke_egru_emb_q15_params;

typedef struct {
  int32_t input_size, units;
  const float* kernel;           /* [I][2U] */
  const float* recurrent_kernel; /* [U][2U] */
  const float* bias;             /* [2U] */
} ke_egru_emb_f32_params;

/* KE_OK, or KE_ERR_SIZE when sizes leave the limits above. */
int ke_egru_emb_check_sizes(int32_t input_size, int32_t units);
/* KE_OK, or KE_ERR_BIAS when a Q15 bias exceeds KE_EGRU_EMB_MAX_BIAS in magnitude. */
int ke_egru_emb_check_bias(const int32_t* bias, int32_t count);

/* Q15 softsign of an int32 Q15 value (see the header comment). */
int32_t ke_egru_emb_softsign_q15(int32_t a);

/* One Q15 step: h (Q15, [U]) is updated in place from x (Q15, [I]).  `tables` holds
 * KE_EGRU_EMB_TABLE_ENTRIES(I, U) int16 (scratch). */
void ke_egru_emb_q15_step(const ke_egru_emb_q15_params* p, const int16_t* x, int16_t* h,
                          int16_t* tables);

/* One float32 step (the float model: the same equations with float weights); `scratch`
 * holds 2U floats. */
void ke_egru_emb_f32_step(const ke_egru_emb_f32_params* p, const float* x, float* h,
                          float* scratch);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_EGRU_EMB_H_ */
