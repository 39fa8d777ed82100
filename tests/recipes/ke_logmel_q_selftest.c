/* Self-test of custom_ops/core/ke_logmel_q.c, run under AddressSanitizer/UBSan by
 * tests/recipes/test_logmel_q_sanitized.py: every bad argument is a negative status (no
 * crash, no undefined behaviour), and extreme inputs (silence, full-scale square wave,
 * -32768 everywhere, every block exponent 0..16) stream through without a sanitizer report
 * and give the same frames as the whole-clip call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_logmel_q.h"

#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                  \
    }                                                            \
  } while (0)

static ke_logmel_q_state g_state;
static int16_t g_clip[16000];
static int16_t g_whole[98 * 40];
static int16_t g_frame[40];

static int stream_equals_clip(void) {
  int32_t h, frames = 0;
  CHECK(ke_logmel_q_clip(&g_state, g_clip, 16000, g_whole, 98) == 98);
  CHECK(ke_logmel_q_reset(&g_state) == KE_LOGMEL_Q_OK);
  for (h = 0; h + 160 <= 16000; h += 160) {
    const int status = ke_logmel_q_frame(&g_state, g_clip + h, g_frame);
    CHECK(status >= 0);
    if (status == 1) {
      CHECK(memcmp(g_frame, g_whole + 40 * frames, sizeof g_frame) == 0);
      ++frames;
    }
  }
  CHECK(frames == 98);
  return 0;
}

int main(void) {
  ke_logmel_q_config config;
  int8_t q8[4];
  int32_t i, bits;
  /* Bad arguments. */
  CHECK(ke_logmel_q_init(NULL, NULL) == KE_LOGMEL_Q_ERR_NULL);
  ke_logmel_q_default_config(&config);
  config.num_mels = 0;
  CHECK(ke_logmel_q_init(&g_state, &config) == KE_LOGMEL_Q_ERR_CONFIG);
  config.num_mels = 40;
  config.fmax_hz = 9000.0f;
  CHECK(ke_logmel_q_init(&g_state, &config) == KE_LOGMEL_Q_ERR_CONFIG);
  config.fmax_hz = 8000.0f;
  config.log_eps = 0.0f;
  CHECK(ke_logmel_q_init(&g_state, &config) == KE_LOGMEL_Q_ERR_CONFIG);
  memset(&g_state, 0, sizeof g_state);
  CHECK(ke_logmel_q_frame(&g_state, g_clip, g_frame) == KE_LOGMEL_Q_ERR_UNINIT);
  CHECK(ke_logmel_q_init(&g_state, NULL) == KE_LOGMEL_Q_OK);
  CHECK(ke_logmel_q_frame(&g_state, NULL, g_frame) == KE_LOGMEL_Q_ERR_NULL);
  CHECK(ke_logmel_q_clip(&g_state, g_clip, -1, g_whole, 98) == KE_LOGMEL_Q_ERR_SIZE);
  CHECK(ke_logmel_q_clip(&g_state, g_clip, 16000, g_whole, 97) == KE_LOGMEL_Q_ERR_SIZE);
  CHECK(ke_logmel_q_clip(&g_state, g_clip, 100, NULL, 0) == 0);
  CHECK(ke_logmel_q_to_int8(g_frame, 4, 0, 0, 0, q8) == KE_LOGMEL_Q_ERR_QUANT);
  CHECK(ke_logmel_q_to_int8(g_frame, 4, 100, 0, 200, q8) == KE_LOGMEL_Q_ERR_QUANT);
  CHECK(ke_logmel_q_to_int8(NULL, 4, 100, 0, 0, q8) == KE_LOGMEL_Q_ERR_NULL);
  CHECK(strlen(ke_logmel_q_status_string(-99)) > 0);
  /* Extreme inputs: silence, full-scale square, -32768 everywhere, then every block
   * exponent (a single sample of each magnitude per clip). */
  CHECK(stream_equals_clip() == 0);
  for (i = 0; i < 16000; ++i) g_clip[i] = (int16_t)((i / 32) % 2 ? 32767 : -32768);
  CHECK(stream_equals_clip() == 0);
  for (i = 0; i < 16000; ++i) g_clip[i] = -32768;
  CHECK(stream_equals_clip() == 0);
  for (bits = 0; bits <= 15; ++bits) {
    memset(g_clip, 0, sizeof g_clip);
    for (i = 0; i < 16000; i += 97) g_clip[i] = (int16_t)(((1 << bits) - 1) * (i % 2 ? -1 : 1));
    CHECK(stream_equals_clip() == 0);
  }
  /* Requantisation saturates instead of wrapping. */
  g_frame[0] = 32767;
  g_frame[1] = -32768;
  CHECK(ke_logmel_q_to_int8(g_frame, 2, 65536, 0, 0, q8) == KE_LOGMEL_Q_OK);
  CHECK(q8[0] == 127 && q8[1] == -128);
  printf("ke_logmel_q selftest passed\n");
  return 0;
}
