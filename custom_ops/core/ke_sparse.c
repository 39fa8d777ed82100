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
  for (; n >= 32 && n8; n -= 32) /* 4 pairs per loop test: 11 instructions per 32 words */
    __asm__ volatile("ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "ldmia %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     "stmia %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
                     : [s] "+r"(src), [d] "+r"(dst)
                     :
                     : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "memory");
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

/* ---- gather form of block-4 input matrices (layout: ke_sparse.h) ---- */

static size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

typedef struct {
  int16_t* x;
  uint8_t* stream; /* per column group: its block count, then their rows */
  int8_t* w;
} gather_layout;

static gather_layout gather_carve(void* packed, int32_t rows, int32_t cols, int32_t nnz) {
  gather_layout g;
  uint8_t* base = (uint8_t*)packed;
  g.x = (int16_t*)(void*)base;
  g.stream = base + align4(2 * (size_t)rows);
  g.w = (int8_t*)(g.stream + align4((size_t)cols / 4 + (size_t)nnz / 4));
  return g;
}

size_t ke_sparse_gather_bytes(int32_t rows, int32_t cols, const int16_t* index, int32_t nnz) {
  if (rows > 255 || !ke_sparse_is_block4(index, nnz)) return 0;
  return align4(2 * (size_t)rows) + align4((size_t)cols / 4 + (size_t)nnz / 4) +
         sizeof(int32_t) * (size_t)cols + (size_t)nnz;
}

void ke_sparse_gather_pack(int32_t rows, int32_t cols, const int8_t* values,
                           const int16_t* index, const int32_t* offsets, const int32_t* bias,
                           void* packed) {
  const gather_layout g = gather_carve(packed, rows, cols, offsets[rows]);
  int16_t* next = g.x; /* per row: blocks already packed (the x area is free until Eval) */
  uint8_t* row = g.stream;
  int8_t* w = g.w;
  int32_t c, i, k;
  for (i = 0; i < rows; ++i) next[i] = 0;
  for (c = 0; c < cols / 4; ++c) {
    /* The rows with a block at column 4c: the next unpacked block of each row (its blocks
     * ascend), listed after the group's count, then packed (an odd one alone, then pairs). */
    uint8_t* const count = row++;
    uint8_t* const first = row;
    int32_t n;
    /* the group's 4 bias words start its weights: the product loads them as its sums */
    for (k = 0; k < 4; ++k) {
      const int32_t b = bias ? bias[4 * c + k] : 0;
      memcpy(w + 4 * k, &b, sizeof b);
    }
    w += 16;
    for (i = 0; i < rows; ++i) {
      const int32_t at = offsets[i] + 4 * next[i];
      if (at < offsets[i + 1] && index[at] == 4 * c) {
        *row++ = (uint8_t)i;
        ++next[i];
      }
    }
    n = (int32_t)(row - first);
    *count = (uint8_t)n;
    for (k = 0; k < n; ++k) {
      /* the block of row first[k] at column 4c: the one just before next[] */
      const int8_t* b = values + offsets[first[k]] + 4 * (next[first[k]] - 1);
      if (n % 2 && k == 0) {
        w[0] = b[0], w[1] = b[1], w[2] = b[2], w[3] = b[3];
        w += 4;
      } else if ((k - n % 2) % 2 == 0) { /* first of a pair: slots 0, 1, 4, 5 */
        w[0] = b[0], w[1] = b[1], w[4] = b[2], w[5] = b[3];
      } else { /* second: slots 2, 3, 6, 7 */
        w[2] = b[0], w[3] = b[1], w[6] = b[2], w[7] = b[3];
        w += 8;
      }
    }
  }
}

#if KE_HAVE_MAC4
/* acc[4c..4c+3] = bias + the blocks of column group c, for all `groups` groups (r0 acc,
 * r1 stream, r2 w, r3 x, [sp] groups).  A pair costs 14 instructions + 2 of the loop, a group
 * 7 more; the 4 sums are r8-r11, loaded from the group's bias words in the stream (no bias
 * copy before the product) and stored once (ldm/stm), the pair of inputs one register for
 * smlad.
 * Assembly, not inline asm: the loop needs all 14 registers. */
void ke_sparse_gather_groups_m4(int32_t* acc, const uint8_t* stream, const int8_t* w,
                                const int16_t* x, int32_t groups);
__asm__(
    "  .text\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .align 2\n"
    "  .global ke_sparse_gather_groups_m4\n"
    "  .hidden ke_sparse_gather_groups_m4\n"
    "  .thumb_func\n"
    "  .type ke_sparse_gather_groups_m4, %function\n"
    "ke_sparse_gather_groups_m4:\n"
    "  push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n"
    "  ldr ip, [sp, #36]\n"              /* groups */
    "  add ip, r0, ip, lsl #4\n"         /* end of acc */
    "1:\n"
    "  ldrb r4, [r1], #1\n"              /* n blocks */
    "  ldmia r2!, {r8, r9, r10, r11}\n"  /* the group's bias */
    "  lsrs r4, r4, #1\n"                /* pairs; carry: an odd block; Z: no pair */
    "  bcc 2f\n"
    "  ldrb r5, [r1], #1\n"
    "  ldr r7, [r2], #4\n"
    "  ldrsh r5, [r3, r5, lsl #1]\n"
    "  sxtb16 r6, r7\n"
    "  sxtb16 r7, r7, ror #8\n"
    "  smlabb r8, r6, r5, r8\n"
    "  smlatb r10, r6, r5, r10\n"
    "  smlabb r9, r7, r5, r9\n"
    "  smlatb r11, r7, r5, r11\n"
    "2:\n"
    "  beq 4f\n"                          /* the odd block sets no flag */
    "3:\n"
    "  ldrb r5, [r1], #1\n"
    "  ldrb r6, [r1], #1\n"
    "  ldrsh r5, [r3, r5, lsl #1]\n"
    "  ldrsh r6, [r3, r6, lsl #1]\n"
    "  pkhbt r5, r5, r6, lsl #16\n"       /* x_i | x_j << 16 */
    "  ldrd r7, lr, [r2], #8\n"           /* w_i0 w_i1 w_j0 w_j1 | w_i2 w_i3 w_j2 w_j3 */
    "  sxtb16 r6, r7\n"
    "  sxtb16 r7, r7, ror #8\n"
    "  smlad r8, r6, r5, r8\n"
    "  smlad r9, r7, r5, r9\n"
    "  sxtb16 r6, lr\n"
    "  sxtb16 lr, lr, ror #8\n"
    "  smlad r10, r6, r5, r10\n"
    "  smlad r11, lr, r5, r11\n"
    "  subs r4, r4, #1\n"
    "  bne 3b\n"
    "4:\n"
    "  stmia r0!, {r8, r9, r10, r11}\n"
    "  cmp r0, ip\n"
    "  blo 1b\n"
    "  pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n"
    "  .size ke_sparse_gather_groups_m4, .-ke_sparse_gather_groups_m4\n");
#else
/* The same sums in C (hosts, other cores). */
static void gather_groups(int32_t* acc, const uint8_t* r, const int8_t* w, const int16_t* x,
                          int32_t groups) {
  int32_t c;
  for (c = 0; c < groups; ++c, acc += 4) {
    uint32_t n = *r++;
    int32_t b[4], a0, a1, a2, a3;
    memcpy(b, w, sizeof b); /* the group's bias words */
    w += 16;
    a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
    if (n & 1) {
      const int32_t xi = x[*r++];
      a0 += xi * w[0], a1 += xi * w[1], a2 += xi * w[2], a3 += xi * w[3];
      w += 4;
    }
    for (n >>= 1; n; --n, w += 8) {
      const int32_t xi = x[r[0]], xj = x[r[1]];
      r += 2;
      a0 += xi * w[0] + xj * w[2], a1 += xi * w[1] + xj * w[3];
      a2 += xi * w[4] + xj * w[6], a3 += xi * w[5] + xj * w[7];
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  }
}
#endif

int32_t ke_sparse_gather_input_product_i8(int32_t* acc, void* packed, const int8_t* values,
                                          const int16_t* index, const int32_t* offsets,
                                          int32_t rows, int32_t cols, const int8_t* x,
                                          int32_t zero_point, const int32_t* bias) {
  const gather_layout g = gather_carve(packed, rows, cols, offsets[rows]);
  int32_t skipped = 0, zeros = 0, i;
  for (i = 0; i < rows; ++i) {
    const int32_t xi = (int32_t)x[i] - zero_point;
    g.x[i] = (int16_t)xi;
    if (xi == 0) {
      ++zeros;
      skipped += offsets[i + 1] - offsets[i];
    }
  }
  if (4 * zeros > rows) {
    ke_copy_i32(acc, bias, cols);
    return ke_sparse_input_product_i8(acc, values, index, offsets, rows, cols, x, zero_point);
  }
#if KE_HAVE_MAC4
  ke_sparse_gather_groups_m4(acc, g.stream, g.w, g.x, cols / 4);
#else
  gather_groups(acc, g.stream, g.w, g.x, cols / 4);
#endif
  return offsets[rows] - skipped;
}
