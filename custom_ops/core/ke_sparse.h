/* Compressed sparse rows and the event-driven products every op of custom_ops/core/
 * is built from.
 *
 * Format (custom_ops/README.md, "Weights"): a matrix with `rows` source rows and
 * `cols` output columns is stored as
 *   values [nnz]      the stored non-zero weights, row by row
 *   index  [nnz]      int16 output column (0 .. cols-1) of each value, strictly
 *                     ascending within a row
 *   offsets[rows + 1] int32, row r owns values[offsets[r] .. offsets[r+1]-1]
 * A row holding all `cols` entries is dense (index 0..cols-1) and takes a
 * contiguous, vectorizable loop.  Products are "events x surviving weights": a
 * source row is visited only when its input is non-zero (an input product skips
 * zero inputs, a recurrent product walks the list of active units), and only its
 * stored weights are touched.
 *
 * ke_sparse_check() validates a matrix once (from a glue's Prepare); the products
 * below trust their arguments.  They are `static KE_ALWAYS_INLINE`: the step
 * functions of each op inline them into their loops (see ke_fixed.h for why they
 * live in a header). */
#ifndef KE_SPARSE_H_
#define KE_SPARSE_H_

#include <stdint.h>

#include "ke_simd.h"
#include "ke_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks one compressed matrix: rows, cols >= 1, nnz >= 0, offsets[0] == 0,
 * non-decreasing, offsets[rows] == nnz, every index in [0, cols) and strictly
 * ascending within its row.  Returns KE_OK, KE_ERR_SIZE, KE_ERR_OFFSETS or
 * KE_ERR_INDEX. */
int ke_sparse_check(int32_t rows, int32_t cols, int32_t nnz, const int16_t* index,
                    const int32_t* offsets);

/* Upper bound of |bias_k + sum_r (q_r - zero_point) w_rk| over all columns k of an
 * int8 matrix fed int8 inputs q (|q - zero_point| <= 255): what an int32
 * accumulator must hold.  Prepare only. */
int64_t ke_sparse_acc_bound_i8(int32_t rows, const int8_t* values, const int32_t* offsets,
                               const int32_t* bias, int32_t cols, int32_t zero_point);

/* Number of stored weights in row `r`. */
static inline int32_t ke_sparse_row_nnz(const int32_t* offsets, int32_t r) {
  return offsets[r + 1] - offsets[r];
}

/* ----------------------------------------------------------------------- */
/* int8 weights, int32 accumulators                                        */
/* ----------------------------------------------------------------------- */

/* x * w for |x| <= 255, |w| <= 128: the product fits int16 exactly.  On Arm a
 * plain int32 multiply-accumulate (`mla`) is cheapest; elsewhere the int16 form
 * lets compilers vectorize dense rows with 16-bit SIMD multiplies (SSE2 has no
 * 32-bit one).  The scatter does not vectorize: it always uses int32. */
#if defined(__ARM_ARCH)
#define KE_MUL_I8(x, w) ((x) * (int32_t)(w))
#else
#define KE_MUL_I8(x, w) ((int16_t)((int16_t)(x) * (w)))
#endif
#define KE_MUL_I8_SCALAR(x, w) ((x) * (int32_t)(w))

/* acc[idx[i]] += x * w[i] for one compressed row of n weights; four per iteration. */
static KE_ALWAYS_INLINE void ke_sparse_scatter_row_i8(int32_t* acc, const int8_t* w,
                                                      const int16_t* idx, int32_t n, int32_t x) {
  int32_t i = 0;
  for (; i + 3 < n; i += 4) {
    const int32_t k0 = idx[i], k1 = idx[i + 1], k2 = idx[i + 2], k3 = idx[i + 3];
    acc[k0] += KE_MUL_I8_SCALAR(x, w[i]);
    acc[k1] += KE_MUL_I8_SCALAR(x, w[i + 1]);
    acc[k2] += KE_MUL_I8_SCALAR(x, w[i + 2]);
    acc[k3] += KE_MUL_I8_SCALAR(x, w[i + 3]);
  }
  for (; i < n; ++i) acc[idx[i]] += KE_MUL_I8_SCALAR(x, w[i]);
}

/* acc[k] += x * w[k] for a dense row of `cols` weights. */
static KE_ALWAYS_INLINE void ke_sparse_dense_row_i8(int32_t* acc, const int8_t* w, int32_t cols,
                                                    int32_t x) {
  int32_t k = 0;
#if defined(__ARM_ARCH)
  for (; k + 1 < cols; k += 2) { /* two per iteration: 5 instead of 7 instructions per MAC */
    acc[k] += KE_MUL_I8(x, w[k]);
    acc[k + 1] += KE_MUL_I8(x, w[k + 1]);
  }
#endif
  for (; k < cols; ++k) acc[k] += KE_MUL_I8(x, w[k]);
}

/* acc += x * row for one stored row (dense when it holds all `cols` columns),
 * x = q - zero_point.  Returns the MACs executed. */
static KE_ALWAYS_INLINE int32_t ke_sparse_row_mac_i8(int32_t* acc, const int8_t* values,
                                                     const int16_t* index, const int32_t* offsets,
                                                     int32_t row, int32_t cols, int32_t x) {
  const int32_t begin = offsets[row], end = offsets[row + 1];
  if (end - begin == cols) ke_sparse_dense_row_i8(acc, values + begin, cols, x);
  else ke_sparse_scatter_row_i8(acc, values + begin, index + begin, end - begin, x);
  return end - begin;
}

/* Input product acc += sum_r (x_r - zero_point) row_r over the non-zero inputs of
 * one step (acc holds the bias on entry).  Returns the MACs executed; it fits
 * int32 when rows * cols < 2^31. */
static KE_ALWAYS_INLINE int32_t ke_sparse_input_product_i8(int32_t* acc, const int8_t* values,
                                                           const int16_t* index,
                                                           const int32_t* offsets, int32_t rows,
                                                           int32_t cols, const int8_t* x,
                                                           int32_t zero_point) {
  int32_t skipped = 0, i; /* MACs of zero inputs: counted off the hot path */
  for (i = 0; i < rows; ++i) {
    const int32_t xi = (int32_t)x[i] - zero_point;
    if (xi != 0) (void)ke_sparse_row_mac_i8(acc, values, index, offsets, i, cols, xi);
    else skipped += offsets[i + 1] - offsets[i];
  }
  return offsets[rows] - skipped;
}

/* Event-driven product acc += sum_q (y[active[q]] - zero_point) row_active[q]: only
 * the rows of the n_active units in the active list.  The matrix comes as pointers
 * to the caller's array pointers (e.g. &p->v_values): they are read in the loop, so
 * a step with no active unit does not load them.  Returns the MACs executed. */
static KE_ALWAYS_INLINE int32_t ke_sparse_active_product_i8(int32_t* acc,
                                                            const int8_t* const* values,
                                                            const int16_t* const* index,
                                                            const int32_t* const* offsets,
                                                            int32_t cols, const int16_t* active,
                                                            int32_t n_active, const int8_t* y,
                                                            int32_t zero_point) {
  int32_t count = 0, q;
  for (q = 0; q < n_active; ++q) {
    const int32_t src = active[q];
    count += ke_sparse_row_mac_i8(acc, *values, *index, *offsets, src, cols,
                                  (int32_t)y[src] - zero_point);
  }
  return count;
}

/* Host variant of the input product for a whole sequence of `time` steps, time-major
 * per column: a_seq[k][t] = bias_k + sum_r (x_t,r - zero_point) w_rk.  Each stored
 * weight updates all steps at once, a loop over t that compilers vectorize
 * (|x - zp| <= 255, |w| <= 128: the product fits int16); the integer sums equal the
 * per-step product's exactly.  xt: int16 scratch [rows][time].  Returns the MACs of
 * the non-zero inputs (the same count as per step). */
int64_t ke_sparse_input_sequence_i8(const int8_t* values, const int16_t* index,
                                    const int32_t* offsets, int32_t rows, int32_t cols,
                                    const int32_t* bias, const int8_t* x, int32_t time,
                                    int32_t zero_point, int16_t* xt, int32_t* a_seq);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_SPARSE_H_ */
