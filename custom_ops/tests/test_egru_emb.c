/* C unit tests of the eGRU core (custom_ops/core/ke_egru_emb.c), called from test_core.c's
 * main: the Q15 softsign against exact 64-bit division, and the Q15 step against a plain
 * statement of its equations written here (codes per weight, shifts, exact divisions),
 * with the code layout packed independently.  Returns the number of failed checks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../core/ke_egru_emb.h"
#include "../core/ke_status.h"

static int fails = 0;
#define EXPECT(cond, ...)                          \
  do {                                             \
    if (!(cond)) {                                 \
      ++fails;                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);  \
      printf(__VA_ARGS__);                         \
      printf("\n");                                \
    }                                              \
  } while (0)

static uint32_t seed = 2024u;
static uint32_t next_u32(void) {
  seed = seed * 1664525u + 1013904223u;
  return seed;
}

/* sign(a) floor(2^15 m / (2^15 + m)), m = min(|a|, 2^24): the header's definition. */
static int32_t softsign_exact(int32_t a) {
  int64_t m = a < 0 ? -(int64_t)a : a;
  if (m > (1 << 24)) m = 1 << 24;
  const int64_t q = (m << 15) / (32768 + m);
  return (int32_t)(a < 0 ? -q : q);
}

static void test_softsign(void) {
  int bad = 0;
  for (int32_t m = 0; m <= (1 << 17) && bad < 3; ++m) /* every value of |a| <= 4 */
    for (int s = -1; s <= 1; s += 2)
      if (ke_egru_emb_softsign_q15(s * m) != softsign_exact(s * m)) {
        EXPECT(0, "softsign(%d) = %d, expected %d", (int)(s * m),
               (int)ke_egru_emb_softsign_q15(s * m), (int)softsign_exact(s * m));
        ++bad;
      }
  const int32_t edges[] = {(1 << 24) - 1, 1 << 24, (1 << 24) + 1, 1 << 29, INT32_MAX,
                           INT32_MIN, -INT32_MAX};
  for (unsigned k = 0; k < sizeof(edges) / sizeof(edges[0]); ++k)
    EXPECT(ke_egru_emb_softsign_q15(edges[k]) == softsign_exact(edges[k]), "softsign(%ld)",
           (long)edges[k]);
  for (int k = 0; k < 100000; ++k) {
    const int32_t a = (int32_t)next_u32() >> (next_u32() % 16);
    EXPECT(ke_egru_emb_softsign_q15(a) == softsign_exact(a), "softsign(%ld)", (long)a);
  }
  EXPECT(ke_egru_emb_softsign_q15(32768) == 16384, "softsign(1.0) = 0.5");
}

/* x * code: 0 for e = 0, else +-floor(x / 2^(e-1)) (x clamped to -32767 first). */
static int32_t product(int32_t x, int code) {
  const int e = code & 7;
  if (x < -32767) x = -32767;
  if (e == 0) return 0;
  const int32_t v = x >> (e - 1);
  return (code & 8) ? -v : v;
}

/* codes[r][c] (c in [z | h~], 2U columns) into the layout of ke_egru_emb.h. */
static void pack(const uint8_t* codes, int rows, int units, uint8_t* out) {
  const int padded = rows + rows % 2, groups = (units + 3) / 4;
  memset(out, 0, (size_t)4 * groups * padded);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < units; ++j)
      for (int half = 0; half < 2; ++half) {
        const int nibble = 4 * half + j % 4;                  /* z: 0..3, h~: 4..7 */
        const int byte = 4 * ((j / 4) * padded + r) + nibble / 2;
        out[byte] |= (uint8_t)(codes[r * 2 * units + half * units + j] << (4 * (nibble % 2)));
      }
}

#define MAX_I 9
#define MAX_U 9

static void test_step(int inputs, int units, int steps) {
  uint8_t wc[MAX_I * 2 * MAX_U], uc[MAX_U * 2 * MAX_U];
  uint32_t wp[MAX_I + 1][4], up[MAX_U + 1][4]; /* word-aligned packed codes */
  int32_t bias[2 * MAX_U];
  int16_t tables[KE_EGRU_EMB_TABLE_ENTRIES(MAX_I, MAX_U)], h[MAX_U];
  int32_t ref[MAX_U];
  for (int k = 0; k < inputs * 2 * units; ++k) wc[k] = (uint8_t)(next_u32() % 16);
  for (int k = 0; k < units * 2 * units; ++k) uc[k] = (uint8_t)(next_u32() % 16);
  for (int k = 0; k < 2 * units; ++k) bias[k] = (int32_t)(next_u32() % 40000) - 20000;
  pack(wc, inputs, units, (uint8_t*)wp);
  pack(uc, units, units, (uint8_t*)up);
  const ke_egru_emb_q15_params p = {inputs, units, (const uint8_t*)wp, (const uint8_t*)up,
                                    bias};
  EXPECT(ke_egru_emb_check_sizes(inputs, units) == KE_OK, "sizes");
  for (int j = 0; j < units; ++j) h[j] = 0, ref[j] = 0;
  for (int t = 0; t < steps; ++t) {
    int16_t x[MAX_I];
    for (int i = 0; i < inputs; ++i)
      x[i] = (int16_t)(t == 1 && i == 0 ? -32768 : (int32_t)(next_u32() % 65535) - 32767);
    int32_t next[MAX_U];
    for (int j = 0; j < units; ++j) {
      int32_t a[2];
      for (int half = 0; half < 2; ++half) {
        const int col = half * units + j;
        a[half] = bias[col];
        for (int i = 0; i < inputs; ++i) a[half] += product(x[i], wc[i * 2 * units + col]);
        for (int i = 0; i < units; ++i) a[half] += product(ref[i], uc[i * 2 * units + col]);
      }
      const int32_t z = (softsign_exact(a[0]) + 32768) / 2; /* >= 0: floor */
      const int32_t cand = softsign_exact(a[1]);
      const int64_t delta = (int64_t)z * (ref[j] - cand) + (1 << 14);
      next[j] = cand + (int32_t)(delta >= 0 ? delta / 32768 : -((-delta + 32767) / 32768));
    }
    ke_egru_emb_q15_step(&p, x, h, tables);
    for (int j = 0; j < units; ++j) {
      ref[j] = next[j];
      EXPECT(h[j] == ref[j], "I=%d U=%d step %d h[%d] = %d, expected %ld", inputs, units, t,
             j, h[j], (long)ref[j]);
    }
  }
}

static void test_checks(void) {
  EXPECT(ke_egru_emb_check_sizes(0, 4) == KE_ERR_SIZE, "no inputs");
  EXPECT(ke_egru_emb_check_sizes(4, 0) == KE_ERR_SIZE, "no units");
  EXPECT(ke_egru_emb_check_sizes(KE_EGRU_EMB_MAX_ROWS, 1) == KE_ERR_SIZE, "I + U too big");
  EXPECT(ke_egru_emb_check_sizes(KE_EGRU_EMB_MAX_ROWS - 1, 1) == KE_OK, "I + U at the limit");
  const int32_t ok[2] = {KE_EGRU_EMB_MAX_BIAS, -KE_EGRU_EMB_MAX_BIAS};
  const int32_t bad[2] = {0, -KE_EGRU_EMB_MAX_BIAS - 1};
  EXPECT(ke_egru_emb_check_bias(ok, 2) == KE_OK, "bias at the limit");
  EXPECT(ke_egru_emb_check_bias(bad, 2) == KE_ERR_BIAS, "bias beyond the limit");
  EXPECT(KE_EGRU_EMB_CODE_BYTES(7, 5) == 4 * 2 * 8, "code bytes: 2 groups x 8 rows x 4");
}

int ke_test_egru_emb(void) {
  test_softsign();
  test_step(7, 5, 6); /* odd rows, a partial group */
  test_step(8, 8, 6); /* full groups */
  test_step(1, 1, 4);
  test_step(9, 4, 5);
  test_checks();
  return fails;
}
