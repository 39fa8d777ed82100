/* KE_LOGMEL: the keyword-spotting log-mel front end, portable C99.
 *
 * The same features as recipes/kws/features.py (librosa), so a board computes
 * from raw audio exactly what the model was trained on:
 *
 *   16 kHz int16 audio, x = sample / 32768
 *   frames of 480 samples (30 ms) every 160 samples (10 ms), no centering:
 *     a clip of n samples gives 1 + (n - 480) / 160 frames (98 for 1 s)
 *   periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / 480), zero-padded to a
 *     512-point real FFT, power |X_k|^2 for k = 0..256
 *   num_mels triangular filters on the HTK mel scale mel(f) = 2595 log10(1 + f/700),
 *     edges equally spaced in mel between fmin and fmax, unnormalised (peak 1),
 *     i.e. librosa.filters.mel(htk=True, norm=None); computed here at init
 *   out = (logf(mel + log_eps) - norm_mean) * norm_scale
 *     (norm_mean = 0, norm_scale = 1 by default; the recipe stores the training
 *     set's mean and 1/std so the board feeds the model standardised features)
 *
 * No allocation, no dependencies beyond <math.h>: the caller owns the
 * ke_logmel_state (about 10 KB; it holds the tables, the streaming history and
 * the FFT scratch, so one state must not be used by two threads at once).
 * Every entry point validates its arguments and returns a negative
 * ke_logmel_status on bad input instead of crashing.
 *
 * Streaming: ke_logmel_frame() takes one hop (160 new samples) per call and
 * emits a frame once 480 samples have been seen (from the 3rd call on), so the
 * frames of a stream equal the frames of ke_logmel_clip() on the whole clip.
 */
#ifndef KE_LOGMEL_H_
#define KE_LOGMEL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_LOGMEL_SAMPLE_RATE 16000
#define KE_LOGMEL_WINDOW 480
#define KE_LOGMEL_HOP 160
#define KE_LOGMEL_FFT 512
#define KE_LOGMEL_BINS (KE_LOGMEL_FFT / 2 + 1)
#define KE_LOGMEL_MAX_MELS 128
/* Adjacent triangles overlap only their neighbours, so every FFT bin carries at
 * most two non-zero weights. */
#define KE_LOGMEL_MAX_WEIGHTS (2 * KE_LOGMEL_BINS)

typedef enum {
  KE_LOGMEL_OK = 0,
  KE_LOGMEL_ERR_NULL = -1,      /* a required pointer is NULL                 */
  KE_LOGMEL_ERR_CONFIG = -2,    /* num_mels / fmin / fmax / log_eps invalid   */
  KE_LOGMEL_ERR_SIZE = -3,      /* output buffer too small / negative length  */
  KE_LOGMEL_ERR_QUANT = -4,     /* scale not positive+finite / zero point     */
  KE_LOGMEL_ERR_UNINIT = -5     /* state not initialised by ke_logmel_init    */
} ke_logmel_status;

typedef struct {
  int32_t num_mels; /* 1..KE_LOGMEL_MAX_MELS, default 40 */
  float fmin_hz;    /* >= 0, default 20                  */
  float fmax_hz;    /* > fmin, <= 8000, default 8000     */
  float log_eps;    /* > 0, default 1e-6                 */
  float norm_mean;  /* finite, default 0                 */
  float norm_scale; /* finite, > 0, default 1            */
} ke_logmel_config;

typedef struct {
  uint32_t magic; /* set by ke_logmel_init */
  ke_logmel_config config;
  float window[KE_LOGMEL_WINDOW];
  /* cos / sin of 2 pi k / 512, k = 0..255: twiddles of both FFT stages. */
  float cos_table[KE_LOGMEL_FFT / 2];
  float sin_table[KE_LOGMEL_FFT / 2];
  /* Filter m covers bins [mel_start[m], mel_start[m] + mel_len[m]) with
   * weights mel_weights[mel_offset[m] ...]. */
  int16_t mel_start[KE_LOGMEL_MAX_MELS];
  int16_t mel_len[KE_LOGMEL_MAX_MELS];
  int16_t mel_offset[KE_LOGMEL_MAX_MELS];
  float mel_weights[KE_LOGMEL_MAX_WEIGHTS];
  /* Streaming: the last KE_LOGMEL_WINDOW samples, oldest first. */
  int16_t history[KE_LOGMEL_WINDOW];
  int32_t history_fill;
  /* Scratch: 256 complex values (re, im interleaved), then the power spectrum. */
  float fft[KE_LOGMEL_FFT];
  float power[KE_LOGMEL_BINS];
} ke_logmel_state;

/* Static text for a status code. */
const char* ke_logmel_status_string(int status);

/* sizeof(ke_logmel_state), for bindings that allocate the state themselves. */
size_t ke_logmel_state_size(void);

/* Fills *config with the defaults above (40 mels, 20..8000 Hz, eps 1e-6,
 * no normalisation). */
void ke_logmel_default_config(ke_logmel_config* config);

/* Validates `config` (NULL = defaults), builds the tables and resets the
 * stream.  Returns KE_LOGMEL_OK or a negative status. */
int ke_logmel_init(ke_logmel_state* state, const ke_logmel_config* config);

/* Forgets the streaming history (start of a new utterance). */
int ke_logmel_reset(ke_logmel_state* state);

/* Number of frames of a clip of `num_samples` samples (0 if < one window). */
int32_t ke_logmel_num_frames(int32_t num_samples);

/* Streaming: appends KE_LOGMEL_HOP samples.  Returns 1 and writes num_mels
 * values to `out` when a frame is complete, 0 while the first window is still
 * filling, or a negative status. */
int ke_logmel_frame(ke_logmel_state* state, const int16_t* hop_samples, float* out);

/* Whole clip: writes ke_logmel_num_frames(num_samples) frames of num_mels
 * values, frame-major, to `out` (capacity `max_frames` frames).  Returns the
 * number of frames or a negative status.  Leaves the streaming history alone. */
int32_t ke_logmel_clip(ke_logmel_state* state, const int16_t* samples,
                       int32_t num_samples, float* out, int32_t max_frames);

/* int8 quantisation q = clamp(roundf(x / scale) + zero_point, -128, 127)
 * (roundf: half away from zero).  Returns KE_LOGMEL_OK or a negative status. */
int ke_logmel_quantize(const float* in, int32_t count, float scale,
                       int32_t zero_point, int8_t* out);

#ifdef __cplusplus
}
#endif

#endif /* KE_LOGMEL_H_ */
