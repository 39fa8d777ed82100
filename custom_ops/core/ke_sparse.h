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
 * Block-4 rows (same three arrays, custom_ops/README.md): a matrix pruned in blocks of
 * 1 x 4 (four adjacent output columns, e.g. keras_events.sparsity block_size=(1, 4)) stores
 * whole aligned groups of 4 columns k..k+3 (k a multiple of 4; cols a multiple of 4).  The
 * group's first index entry is k, the other three hold the bitwise complement of their
 * column (~(k+1), ~(k+2), ~(k+3), negative): `index[n] >= 0 ? index[n] : ~index[n]` is the
 * column of every entry in either format, and a matrix is in block-4 form iff nnz >= 4 and
 * index[1] < 0 (never true of a plain matrix), so kernels tell the format from the data
 * (ke_sparse_is_block4) and runtimes that predate it reject it.  One index then serves
 * four weights, loaded as one word: on Cortex-M4 a group costs ~13 instructions
 * (`ldrsh`, `ldr`, `ldm`, 2 `sxtb16`, 4 `smlabb`/`smlatb`, `stm`, ...) instead of ~23.
 *
 * ke_sparse_check() validates a matrix once (from a glue's Prepare); the products
 * below trust their arguments.  They are `static KE_ALWAYS_INLINE`: the step
 * functions of each op inline them into their loops (see ke_fixed.h for why they
 * live in a header). */
#ifndef KE_SPARSE_H_
#define KE_SPARSE_H_

#include <stddef.h>
#include <stdint.h>

#include "ke_simd.h"
#include "ke_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks one compressed matrix: rows, cols >= 1, nnz >= 0, offsets[0] == 0,
 * non-decreasing, offsets[rows] == nnz, every index in [0, cols) and strictly
 * ascending within its row.  In block-4 form (ke_sparse_is_block4) also: cols and every
 * offset multiples of 4, each group's first index a multiple of 4, the next three the
 * complements of the following columns.  Returns KE_OK, KE_ERR_SIZE, KE_ERR_OFFSETS or
 * KE_ERR_INDEX. */
int ke_sparse_check(int32_t rows, int32_t cols, int32_t nnz, const int16_t* index,
                    const int32_t* offsets);

/* Upper bound of |bias_k + sum_r (q_r - zero_point) w_rk| over all columns k of an
 * int8 matrix fed int8 inputs q (|q - zero_point| <= 255): what an int32
 * accumulator must hold.  Prepare only. */
int64_t ke_sparse_acc_bound_i8(int32_t rows, const int8_t* values, const int32_t* offsets,
                               const int32_t* bias, int32_t cols, int32_t zero_point);

/* dst[0 .. n-1] = src[0 .. n-1] (int32, both word-aligned, no overlap): the bias copies
 * that start each step's accumulators.  Cortex-M4: `ldmia`/`stmia` of 8 words, four pairs per
 * loop test (0.34 instructions per word; newlib's memcpy takes 2); elsewhere memcpy. */
void ke_copy_i32(int32_t* dst, const int32_t* src, int32_t n);

/* Whether a validated matrix with nnz stored weights is in block-4 form (index has at
 * least nnz entries; a matrix with nnz < 4 is plain). */
static inline int ke_sparse_is_block4(const int16_t* index, int32_t nnz) {
  return nnz >= 4 && index[1] < 0;
}

/* Output column of stored entry n, in either format. */
static inline int32_t ke_sparse_column(const int16_t* index, int32_t n) {
  const int32_t k = index[n];
  return k >= 0 ? k : ~k;
}

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

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__) && defined(__GNUC__)
/* Cortex-M4 (and other Armv7E-M/DSP Thumb-2 cores): four MACs per group.  The four
 * accumulators come and go with one `ldm`/`stm` (r4-r7: a register list is ordered by
 * register number, so the asm names them), the four int8 weights are one word,
 * sign-extended in pairs by `sxtb16` (bytes 0/2, and rotated by 8, bytes 1/3) and
 * multiplied from the halfwords by `smlabb`/`smlatb` (x in the low halfword, |x| <= 255).
 * gcc does not form `ldm`/`stm` from C (it issues four loads and four stores), hence
 * the asm; four groups per iteration (block rows), two (dense rows). */
#define KE_MAC4_GROUP(LOAD_ACC, STORE_ACC)                                  \
  LOAD_ACC                                                                  \
  "sxtb16 %[lo], %[wv]\n\t"                                                 \
  "sxtb16 %[wv], %[wv], ror #8\n\t"                                         \
  "smlabb r4, %[lo], %[x], r4\n\t"                                          \
  "smlatb r6, %[lo], %[x], r6\n\t"                                          \
  "smlabb r5, %[wv], %[x], r5\n\t"                                          \
  "smlatb r7, %[wv], %[x], r7\n\t"                                          \
  STORE_ACC
#define KE_BLOCK_LOAD                                                       \
  "ldrsh %[pa], [%[idx]], #8\n\t"                                           \
  "ldr %[wv], [%[w]], #4\n\t"                                               \
  "add %[pa], %[acc], %[pa], lsl #2\n\t"                                    \
  "ldm %[pa], {r4, r5, r6, r7}\n\t"
#define KE_BLOCK_STORE "stm %[pa], {r4, r5, r6, r7}\n\t"
#define KE_DENSE_LOAD                                                       \
  "ldr %[wv], [%[w]], #4\n\t"                                               \
  "ldm %[acc], {r4, r5, r6, r7}\n\t"
#define KE_DENSE_STORE "stmia %[acc]!, {r4, r5, r6, r7}\n\t"
#define KE_HAVE_MAC4 1

/* One block-4 row of n weights (n a multiple of 4): acc[k..k+3] += x * w[4g..4g+3] for
 * each group g, k = idx[4g]: ~2.9 instructions per MAC. */
static KE_ALWAYS_INLINE void ke_sparse_block_row_i8(int32_t* acc, const int8_t* w,
                                                    const int16_t* idx, int32_t n, int32_t x) {
  const int8_t* const end = w + n;
  int32_t pa;
  uint32_t wv, lo;
  if (n & 4) {
    __asm__ volatile(KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     : [pa] "=&r"(pa), [wv] "=&r"(wv), [lo] "=&r"(lo), [w] "+r"(w), [idx] "+r"(idx)
                     : [acc] "r"(acc), [x] "r"(x)
                     : "r4", "r5", "r6", "r7", "memory");
  }
  if (n & 8) {
    __asm__ volatile(KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     : [pa] "=&r"(pa), [wv] "=&r"(wv), [lo] "=&r"(lo), [w] "+r"(w), [idx] "+r"(idx)
                     : [acc] "r"(acc), [x] "r"(x)
                     : "r4", "r5", "r6", "r7", "memory");
  }
  if (w != end) {
    __asm__ volatile("1:\n\t" KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     KE_MAC4_GROUP(KE_BLOCK_LOAD, KE_BLOCK_STORE)
                     "cmp %[w], %[end]\n\t"
                     "bne 1b\n\t"
                     : [pa] "=&r"(pa), [wv] "=&r"(wv), [lo] "=&r"(lo), [w] "+r"(w), [idx] "+r"(idx)
                     : [acc] "r"(acc), [x] "r"(x), [end] "r"(end)
                     : "r4", "r5", "r6", "r7", "cc", "memory");
  }
}

/* acc[0 .. n-1] += x * w[0 .. n-1], n a multiple of 4: 2.5 instructions per MAC. */
static KE_ALWAYS_INLINE void ke_dense4_row_i8(int32_t* acc, const int8_t* w, int32_t n,
                                              int32_t x) {
  const int8_t* const end = w + n;
  uint32_t wv, lo;
  if (n & 4) {
    __asm__ volatile(KE_MAC4_GROUP(KE_DENSE_LOAD, KE_DENSE_STORE)
                     : [wv] "=&r"(wv), [lo] "=&r"(lo), [w] "+r"(w), [acc] "+r"(acc)
                     : [x] "r"(x)
                     : "r4", "r5", "r6", "r7", "memory");
  }
  if (w != end) {
    __asm__ volatile("1:\n\t" KE_MAC4_GROUP(KE_DENSE_LOAD, KE_DENSE_STORE)
                     KE_MAC4_GROUP(KE_DENSE_LOAD, KE_DENSE_STORE)
                     "cmp %[w], %[end]\n\t"
                     "bne 1b\n\t"
                     : [wv] "=&r"(wv), [lo] "=&r"(lo), [w] "+r"(w), [acc] "+r"(acc)
                     : [x] "r"(x), [end] "r"(end)
                     : "r4", "r5", "r6", "r7", "cc", "memory");
  }
}
#else
#define KE_HAVE_MAC4 0
/* One block-4 row of n weights (n a multiple of 4): acc[k..k+3] += x * w[4g..4g+3] for
 * each group g, k = idx[4g]. */
static KE_ALWAYS_INLINE void ke_sparse_block_row_i8(int32_t* acc, const int8_t* w,
                                                    const int16_t* idx, int32_t n, int32_t x) {
  int32_t g;
  for (g = 0; g < n; g += 4) {
    int32_t* a = acc + idx[g];
    a[0] += KE_MUL_I8_SCALAR(x, w[g]);
    a[1] += KE_MUL_I8_SCALAR(x, w[g + 1]);
    a[2] += KE_MUL_I8_SCALAR(x, w[g + 2]);
    a[3] += KE_MUL_I8_SCALAR(x, w[g + 3]);
  }
}
#endif

/* acc[k] += x * w[k] for a dense row of `cols` weights. */
static KE_ALWAYS_INLINE void ke_sparse_dense_row_i8(int32_t* acc, const int8_t* w, int32_t cols,
                                                    int32_t x) {
  int32_t k = 0;
#if KE_HAVE_MAC4
  k = cols & ~3;
  ke_dense4_row_i8(acc, w, k, x);
#endif
#if defined(__ARM_ARCH)
  for (; k + 1 < cols; k += 2) { /* two per iteration: 5 instead of 7 instructions per MAC */
    acc[k] += KE_MUL_I8(x, w[k]);
    acc[k + 1] += KE_MUL_I8(x, w[k + 1]);
  }
#endif
  for (; k < cols; ++k) acc[k] += KE_MUL_I8(x, w[k]);
}

/* acc += x * row for one stored row (dense when it holds all `cols` columns),
 * x = q - zero_point; block4: the matrix is in block-4 form.  Returns the MACs executed. */
static KE_ALWAYS_INLINE int32_t ke_sparse_row_mac_i8(int32_t* acc, const int8_t* values,
                                                     const int16_t* index, const int32_t* offsets,
                                                     int32_t row, int32_t cols, int32_t x,
                                                     int block4) {
  const int32_t begin = offsets[row], end = offsets[row + 1];
  if (end - begin == cols) ke_sparse_dense_row_i8(acc, values + begin, cols, x);
  else if (block4) ke_sparse_block_row_i8(acc, values + begin, index + begin, end - begin, x);
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
  if (ke_sparse_is_block4(index, offsets[rows])) {
    /* Cortex-M4: one loop for every row, full ones included (their idx[4g] is 4g):
     * fewer live values per row than the general loop below; hosts keep the
     * vectorized loop for full rows */
    for (i = 0; i < rows; ++i) {
      const int32_t xi = (int32_t)x[i] - zero_point, begin = offsets[i];
      const int32_t n = offsets[i + 1] - begin;
      if (xi == 0) skipped += n;
      else if (!KE_HAVE_MAC4 && n == cols) ke_sparse_dense_row_i8(acc, values + begin, cols, xi);
      else ke_sparse_block_row_i8(acc, values + begin, index + begin, n, xi);
    }
    return offsets[rows] - skipped;
  }
  for (i = 0; i < rows; ++i) {
    const int32_t xi = (int32_t)x[i] - zero_point;
    if (xi != 0) (void)ke_sparse_row_mac_i8(acc, values, index, offsets, i, cols, xi, 0);
    else skipped += offsets[i + 1] - offsets[i];
  }
  return offsets[rows] - skipped;
}

/* Event-driven product acc += sum_q (y[active[q]] - zero_point) row_active[q]: only
 * the rows of the n_active units in the active list (of `rows`).  The matrix comes as pointers
 * to the caller's array pointers (e.g. &p->v_values): they are read in the loop, so
 * a step with no active unit does not load them.  Returns the MACs executed. */
static KE_ALWAYS_INLINE int32_t ke_sparse_active_product_i8(int32_t* acc,
                                                            const int8_t* const* values,
                                                            const int16_t* const* index,
                                                            const int32_t* const* offsets,
                                                            int32_t rows, int32_t cols,
                                                            const int16_t* active,
                                                            int32_t n_active, const int8_t* y,
                                                            int32_t zero_point) {
  int32_t count = 0, q;
  if (n_active == 0) return 0;
  if (ke_sparse_is_block4(*index, (*offsets)[rows])) {
    const int8_t* const v = *values;
    const int16_t* const idx = *index;
    const int32_t* const off = *offsets;
    for (q = 0; q < n_active; ++q) {
      const int32_t src = active[q], begin = off[src], n = off[src + 1] - begin;
      if (!KE_HAVE_MAC4 && n == cols) ke_sparse_dense_row_i8(acc, v + begin, cols, (int32_t)y[src] - zero_point);
      else ke_sparse_block_row_i8(acc, v + begin, idx + begin, n, (int32_t)y[src] - zero_point);
      count += n;
    }
    return count;
  }
  for (q = 0; q < n_active; ++q) {
    const int32_t src = active[q];
    count += ke_sparse_row_mac_i8(acc, *values, *index, *offsets, src, cols,
                                  (int32_t)y[src] - zero_point, 0);
  }
  return count;
}

/* ----------------------------------------------------------------------- */
/* Gather form of a block-4 input matrix (Cortex-M input products)          */
/* ----------------------------------------------------------------------- */

/* The block-4 rows scatter: each group of 4 weights loads, adds to and stores 4 accumulators
 * (11 instructions per 4 MACs on Cortex-M4).  When (almost) every input is non-zero, as in
 * an input product, gathering is cheaper: column group by column group (4 output columns),
 * the 4 accumulators stay in registers while the group's blocks are summed, two input rows
 * at a time with `smlad` (x_i, x_j in the halfwords of one register; the two rows' weights
 * interleaved at pack time so that one `sxtb16` yields the pair (w_ik, w_jk)): 14
 * instructions per 8 MACs.  The packed copy lives in the op's persistent memory (Prepare):
 *   int16 x[rows]            per step: x - zero_point (4-byte padded)
 *   uint8 stream[cols/4 + nnz/4]  per column group: its block count, then their rows (an
 *                            odd one first, then pairs); 4-byte padded
 *   int8  w[4 cols + nnz]    4-aligned, per column group: its 4 int32 biases (the sums start
 *                            from them: no bias copy per step), the odd block's 4 weights as
 *                            stored, then per pair (i, j) w_i0 w_i1 w_j0 w_j1 w_i2 w_i3 w_j2 w_j3
 * Integer sums are exact in any order: the results equal the row products' bit for bit. */

/* Bytes of the packed form of a validated matrix, or 0 when it has none (not block-4 form,
 * more than 255 rows, or no stored weight). */
size_t ke_sparse_gather_bytes(int32_t rows, int32_t cols, const int16_t* index, int32_t nnz);

/* Writes the packed form (ke_sparse_gather_bytes(...) > 0 bytes at `packed`, 4-aligned) with
 * the int32 bias[cols] the sums start from (NULL: zeros). */
void ke_sparse_gather_pack(int32_t rows, int32_t cols, const int8_t* values,
                           const int16_t* index, const int32_t* offsets, const int32_t* bias,
                           void* packed);

/* acc = bias + the input product through the packed form `packed` of the same matrix (acc is
 * only written; `bias` is the one packed): the same sums and the same returned MAC count
 * (stored weights of non-zero inputs) as ke_sparse_input_product_i8 from a copy of the bias.
 * When more than a quarter of the inputs are at the zero point it copies the bias and takes
 * the row products (skipping those rows beats gathering them). */
int32_t ke_sparse_gather_input_product_i8(int32_t* acc, void* packed, const int8_t* values,
                                          const int16_t* index, const int32_t* offsets,
                                          int32_t rows, int32_t cols, const int8_t* x,
                                          int32_t zero_point, const int32_t* bias);

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
