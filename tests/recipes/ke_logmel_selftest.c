/* Stand-alone C test of custom_ops/core/ke_logmel.c, built with ASan/UBSan by
 * test_logmel_sanitized.py: bad arguments return errors (never crash), streaming
 * equals whole-clip, no out-of-bounds access.  Exit code 0 = pass. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ke_logmel.h"

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                       \
    }                                                                 \
  } while (0)

static ke_logmel_state state, other;
static int16_t clip[16000];
static float whole[98 * 40], frame[40];

int main(void) {
  ke_logmel_config config;
  int8_t q[4];
  const float bad[4] = {NAN, INFINITY, -INFINITY, 0.0f};
  uint32_t seed = 12345u;
  int32_t i, frames = 0;

  /* Uninitialised state and NULL pointers. */
  memset(&other, 0xA5, sizeof other);
  CHECK(ke_logmel_frame(&other, clip, frame) == KE_LOGMEL_ERR_UNINIT);
  CHECK(ke_logmel_clip(&other, clip, 16000, whole, 98) == KE_LOGMEL_ERR_UNINIT);
  CHECK(ke_logmel_init(NULL, NULL) == KE_LOGMEL_ERR_NULL);
  CHECK(ke_logmel_reset(NULL) == KE_LOGMEL_ERR_NULL);

  /* Bad configs. */
  ke_logmel_default_config(&config);
  config.num_mels = KE_LOGMEL_MAX_MELS + 1;
  CHECK(ke_logmel_init(&state, &config) == KE_LOGMEL_ERR_CONFIG);
  ke_logmel_default_config(&config);
  config.fmin_hz = 9000.0f;
  CHECK(ke_logmel_init(&state, &config) == KE_LOGMEL_ERR_CONFIG);
  ke_logmel_default_config(&config);
  config.log_eps = NAN;
  CHECK(ke_logmel_init(&state, &config) == KE_LOGMEL_ERR_CONFIG);
  ke_logmel_default_config(&config);
  config.num_mels = KE_LOGMEL_MAX_MELS; /* the largest filterbank fits the weight buffer */
  CHECK(ke_logmel_init(&state, &config) == KE_LOGMEL_OK);

  CHECK(ke_logmel_init(&state, NULL) == KE_LOGMEL_OK);
  CHECK(ke_logmel_frame(&state, NULL, frame) == KE_LOGMEL_ERR_NULL);
  CHECK(ke_logmel_clip(&state, clip, -1, whole, 98) == KE_LOGMEL_ERR_SIZE);
  CHECK(ke_logmel_clip(&state, clip, 16000, whole, 97) == KE_LOGMEL_ERR_SIZE);
  CHECK(ke_logmel_clip(&state, clip, 16000, NULL, 98) == KE_LOGMEL_ERR_NULL);
  CHECK(ke_logmel_clip(&state, NULL, 0, NULL, 0) == 0);
  CHECK(ke_logmel_num_frames(479) == 0 && ke_logmel_num_frames(16000) == 98);
  CHECK(ke_logmel_quantize(bad, 4, 0.0f, 0, q) == KE_LOGMEL_ERR_QUANT);
  CHECK(ke_logmel_quantize(bad, 4, 0.1f, -129, q) == KE_LOGMEL_ERR_QUANT);
  CHECK(ke_logmel_quantize(bad, -1, 0.1f, 0, q) == KE_LOGMEL_ERR_SIZE);
  CHECK(ke_logmel_quantize(bad, 4, 0.1f, 0, q) == KE_LOGMEL_OK);
  CHECK(q[0] == -128 && q[1] == 127 && q[2] == -128 && q[3] == 0);
  CHECK(strlen(ke_logmel_status_string(-99)) > 0);

  /* Full-scale random audio: streaming == whole clip, all values finite. */
  for (i = 0; i < 16000; ++i) {
    seed = seed * 1664525u + 1013904223u;
    clip[i] = (int16_t)(seed >> 16);
  }
  CHECK(ke_logmel_clip(&state, clip, 16000, whole, 98) == 98);
  for (i = 0; i < 16000; i += KE_LOGMEL_HOP) {
    int r = ke_logmel_frame(&state, clip + i, frame);
    CHECK(r == (i >= 2 * KE_LOGMEL_HOP ? 1 : 0));
    if (r == 1) {
      CHECK(memcmp(frame, whole + frames * 40, sizeof frame) == 0);
      ++frames;
    }
  }
  CHECK(frames == 98);
  for (i = 0; i < 98 * 40; ++i) CHECK(isfinite(whole[i]));
  printf("ke_logmel selftest passed\n");
  return 0;
}
