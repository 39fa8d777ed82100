/* Firmware main: runs the fixed-point log-mel front end (custom_ops/core/ke_logmel_q.c)
 * on the emulated Cortex-M4 over an embedded clip, one 160-sample hop per call, as an
 * always-on detector would, and prints every frame (int16 Q10) over semihosting in the
 * micro harness's KE_OUT format (type 7 = int16, decimal) so the host can compare it
 * bit for bit with the same C file built for the host.  Instruction-count regions
 * (micro/qemu_plugin): region 0 is ke_logmel_q_init, region 1 + h is the h-th
 * ke_logmel_q_frame call.
 *
 * The clip comes from the generated header ke_logmel_clip.h (recipes/kws/mcu_frontend.py):
 *   static const int16_t ke_clip[KE_CLIP_SAMPLES]; */
#include <stdint.h>
#include <stdio.h>

#include "ke_counters.h"
#include "ke_logmel_clip.h"
#include "ke_dct_q.h"
#include "ke_logmel_q.h"
#include "semihost.h"

static ke_logmel_q_state g_state; /* ~7.9 KB of RAM, statically allocated */
#define KE_MFCC 10 /* the DS-CNN baseline's MFCCs (recipes/kws/dscnn.py) */
static int16_t g_dct_basis[KE_MFCC * KE_LOGMEL_Q_MAX_MELS];

static void print_frame(int index, const int16_t* out, int count) {
  char line[24];
  int i;
  snprintf(line, sizeof line, "KE_OUT %d 0 7 %d", index, count);
  ke_semihost_write(line);
  for (i = 0; i < count; ++i) {
    snprintf(line, sizeof line, " %d", (int)out[i]);
    ke_semihost_write(line);
  }
  ke_semihost_write("\n");
}

int main(void) {
  int16_t out[KE_LOGMEL_Q_MAX_MELS];
  char line[96];
  int status, frames = 0;
  int32_t h;

  ke_count_begin();
  status = ke_logmel_q_init(&g_state, NULL);
  ke_count_end();
  if (status != KE_LOGMEL_Q_OK) {
    snprintf(line, sizeof line, "KE_ERROR ke_logmel_q_init: %s\n",
             ke_logmel_q_status_string(status));
    ke_semihost_write(line);
    return 1;
  }
  for (h = 0; h + KE_LOGMEL_Q_HOP <= KE_CLIP_SAMPLES; h += KE_LOGMEL_Q_HOP) {
    ke_count_begin();
    status = ke_logmel_q_frame(&g_state, ke_clip + h, out);
    ke_count_end();
    if (status < 0) {
      snprintf(line, sizeof line, "KE_ERROR ke_logmel_q_frame: %s\n",
               ke_logmel_q_status_string(status));
      ke_semihost_write(line);
      return 1;
    }
    if (status == 1) print_frame(frames++, out, g_state.config.num_mels);
  }
  /* Last counted region: the MFCC step of the DS-CNN baseline (10-coefficient DCT-II)
   * on the last frame; mcu_frontend reads it from the KE_DCT line's presence. */
  if (frames > 0) {
    int32_t mfcc[KE_MFCC];
    const int mels = g_state.config.num_mels;
    if (ke_dct_q_basis(mels, KE_MFCC, g_dct_basis) != KE_DCT_Q_OK) return 1;
    ke_count_begin();
    status = ke_dct_q(out, mels, g_dct_basis, KE_MFCC, mfcc);
    ke_count_end();
    snprintf(line, sizeof line, "KE_DCT %d %ld\n", status, (long)mfcc[0]);
    ke_semihost_write(line);
  }
  snprintf(line, sizeof line, "KE_STATE_BYTES %lu\n", (unsigned long)sizeof g_state);
  ke_semihost_write(line);
  ke_semihost_write("KE_DONE\n");
  return 0;
}
