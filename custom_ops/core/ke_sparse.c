/* Out-of-line parts of ke_sparse.h: validation, accumulator bounds (Prepare) and the
 * host's whole-sequence input product. */
#include "ke_sparse.h"

#include <stddef.h>
#include <string.h>

void ke_copy_i32(int32_t* dst, const int32_t* src, int32_t n) {
  int n8 = 1;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__) && defined(__GNUC__)
  /* ldm/stm fault on unaligned addresses: a model's tensor may be misaligned */
  if (((uintptr_t)dst | (uintptr_t)src) & 3) n8 = 0;
  for (; n >= 8 && n8; n -= 8)
    __asm__ volatile("ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     : [s] "+r"(src), [d] "+r"(dst)
                     :
                     : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "memory");
  for (; n > 0; --n) *dst++ = *src++;
#else
  (void)n8;
  if (n > 0) memcpy(dst, src, sizeof(int32_t) * (size_t)n);
#endif
}

/* The block-4 part of ke_sparse_check (offsets already checked). */
static int check_block4(int32_t rows, int32_t cols, const int16_t* index,
                        const int32_t* offsets) {
  int32_t r, n, i;
  if (cols % 4 != 0) return KE_ERR_INDEX;
  for (r = 0; r <= rows; ++r) {
    if (offsets[r] % 4 != 0) return KE_ERR_OFFSETS;
  }
  for (r = 0; r < rows; ++r) {
    for (n = offsets[r]; n < offsets[r + 1]; n += 4) {
      const int32_t k = index[n];
      if (k < 0 || k >= cols || k % 4 != 0) return KE_ERR_INDEX;
      if (n > offsets[r] && k <= index[n - 4]) return KE_ERR_INDEX;
      for (i = 1; i < 4; ++i) {
        if (index[n + i] != (int16_t)~(k + i)) return KE_ERR_INDEX;
      }
    }
  }
  return KE_OK;
}

int ke_sparse_check(int32_t rows, int32_t cols, int32_t nnz, const int16_t* index,
                    const int32_t* offsets) {
  int32_t r, n;
  if (rows < 1 || cols < 1 || nnz < 0) return KE_ERR_SIZE;
  if (offsets[0] != 0 || offsets[rows] != nnz) return KE_ERR_OFFSETS;
  for (r = 0; r < rows; ++r) {
    if (offsets[r + 1] < offsets[r]) return KE_ERR_OFFSETS;
  }
  if (ke_sparse_is_block4(index, nnz)) return check_block4(rows, cols, index, offsets);
  for (r = 0; r < rows; ++r) {
    /* strictly ascending within a row: a row with `cols` entries is then
     * exactly 0..cols-1, which the products treat as a dense row */
    for (n = offsets[r]; n < offsets[r + 1]; ++n) {
      if (index[n] < 0 || index[n] >= cols) return KE_ERR_INDEX;
      if (n > offsets[r] && index[n] <= index[n - 1]) return KE_ERR_INDEX;
    }
  }
  return KE_OK;
}

int64_t ke_sparse_acc_bound_i8(int32_t rows, const int8_t* values, const int32_t* offsets,
                               const int32_t* bias, int32_t cols, int32_t zero_point) {
  const int64_t q_max = zero_point < 0 ? 127 - zero_point : 128 + zero_point;
  int64_t bound = 0, w_max;
  int32_t r, n;
  for (n = 0; n < cols; ++n) {
    const int64_t b = bias[n] < 0 ? -(int64_t)bias[n] : bias[n];
    if (b > bound) bound = b;
  }
  for (r = 0; r < rows; ++r) {
    w_max = 0;
    for (n = offsets[r]; n < offsets[r + 1]; ++n) {
      const int64_t w = values[n] < 0 ? -(int64_t)values[n] : values[n];
      if (w > w_max) w_max = w;
    }
    bound += q_max * w_max;
  }
  return bound;
}

KE_HOST_SIMD_CLONES
int64_t ke_sparse_input_sequence_i8(const int8_t* values, const int16_t* index,
                                    const int32_t* offsets, int32_t rows, int32_t cols,
                                    const int32_t* bias, const int8_t* x, int32_t time,
                                    int32_t zero_point, int16_t* xt, int32_t* a_seq) {
  const int32_t G = cols, I = rows;
  int64_t count = 0;
  int32_t i, k, n, t;
  for (i = 0; i < I; ++i) {
    int32_t nonzero = 0;
    for (t = 0; t < time; ++t) {
      xt[(size_t)i * time + t] = (int16_t)((int32_t)x[(size_t)t * I + i] - zero_point);
      nonzero += xt[(size_t)i * time + t] != 0;
    }
    count += (int64_t)nonzero * (offsets[i + 1] - offsets[i]);
  }
  for (k = 0; k < G; ++k) {
    int32_t* acc = a_seq + (size_t)k * time;
    for (t = 0; t < time; ++t) acc[t] = bias[k];
  }
  for (i = 0; i < I; ++i) {
    const int16_t* xi = xt + (size_t)i * time;
    const int32_t* off = offsets + i;
    if (i + 3 < I && off[1] - off[0] == G && off[2] - off[1] == G && off[3] - off[2] == G &&
        off[4] - off[3] == G) {
      /* four dense rows at once: a quarter of the accumulator loads and stores */
      const int8_t* w = values + off[0];
      for (k = 0; k < G; ++k) {
        const int16_t w0 = w[k], w1 = w[G + k], w2 = w[2 * G + k], w3 = w[3 * G + k];
        int32_t* acc = a_seq + (size_t)k * time;
        for (t = 0; t < time; ++t)
          acc[t] += (int16_t)(xi[t] * w0) + (int16_t)(xi[time + t] * w1) +
                    (int16_t)(xi[2 * time + t] * w2) + (int16_t)(xi[3 * time + t] * w3);
      }
      i += 3;
      continue;
    }
    for (n = off[0]; n < off[1]; ++n) {
      const int16_t w = values[n];
      int32_t* acc = a_seq + (size_t)ke_sparse_column(index, n) * time;
      for (t = 0; t < time; ++t) acc[t] += (int16_t)(xi[t] * w);
    }
  }
  return count;
}
