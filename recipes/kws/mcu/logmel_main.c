/* Firmware main: runs the log-mel front end (custom_ops/core/ke_logmel.c) on the
 * emulated Cortex-M4 over an embedded clip, one 160-sample hop per call, as an
 * always-on detector would, and prints every frame over semihosting in the
 * micro harness's KE_OUT format (float bits in hex) so the host can compare
 * them with librosa.  Instruction-count regions (micro/qemu_plugin): region 0 is
 * ke_logmel_init, region 1 + h is the h-th ke_logmel_frame call.
 *
 * The clip comes from the generated header ke_logmel_clip.h (recipes/kws/mcu_frontend.py):
 *   static const int16_t ke_clip[KE_CLIP_SAMPLES];  and  KE_NORM_MEAN, KE_NORM_SCALE. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ke_counters.h"
#include "ke_logmel.h"
#include "ke_logmel_clip.h"
#include "semihost.h"

static ke_logmel_state g_state; /* ~10 KB of RAM, statically allocated */

static void print_frame(int index, const float* out, int count) {
  char line[24];
  int i;
  snprintf(line, sizeof line, "KE_OUT %d 0 1 %d", index, count);
  ke_semihost_write(line);
  for (i = 0; i < count; ++i) {
    uint32_t bits;
    memcpy(&bits, &out[i], sizeof bits);
    snprintf(line, sizeof line, " %08lx", (unsigned long)bits);
    ke_semihost_write(line);
  }
  ke_semihost_write("\n");
}

int main(void) {
  ke_logmel_config config;
  float out[KE_LOGMEL_MAX_MELS];
  char line[96];
  int status, frames = 0;
  int32_t h;

  ke_logmel_default_config(&config);
  config.norm_mean = KE_NORM_MEAN;
  config.norm_scale = KE_NORM_SCALE;
  ke_count_begin();
  status = ke_logmel_init(&g_state, &config);
  ke_count_end();
  if (status != KE_LOGMEL_OK) {
    snprintf(line, sizeof line, "KE_ERROR ke_logmel_init: %s\n", ke_logmel_status_string(status));
    ke_semihost_write(line);
    return 1;
  }
  for (h = 0; h + KE_LOGMEL_HOP <= KE_CLIP_SAMPLES; h += KE_LOGMEL_HOP) {
    ke_count_begin();
    status = ke_logmel_frame(&g_state, ke_clip + h, out);
    ke_count_end();
    if (status < 0) {
      snprintf(line, sizeof line, "KE_ERROR ke_logmel_frame: %s\n",
               ke_logmel_status_string(status));
      ke_semihost_write(line);
      return 1;
    }
    if (status == 1) print_frame(frames++, out, config.num_mels);
  }
  snprintf(line, sizeof line, "KE_STATE_BYTES %lu\n", (unsigned long)sizeof g_state);
  ke_semihost_write(line);
  ke_semihost_write("KE_DONE\n");
  return 0;
}
