/* KE_LOGMEL_Q: the keyword-spotting log-mel front end in fixed point, portable C99.
 *
 * The features of ke_logmel.h (same framing, window, 512-point FFT, HTK mel
 * filters and natural log of mel + log_eps), computed with integers only per
 * frame so that an always-on Cortex-M4 pays ~12.0k instructions per 10 ms frame
 * instead of ~57k for the float path:
 *
 *   block floating point: b = bit length of max |sample| over the 480-sample
 *     window (0..16); windowed samples (x * hann_q15) >> (1 + b) fill +-2^14
 *   512-point real FFT = 256-point complex radix-4 FFT (packed int16 re/im,
 *     each stage halves twice so nothing overflows) + the real split step
 *   power |X_k|^2 in int32 (< 2^31 by Parseval), mel filters with packed Q15
 *     weight pairs in 32-bit sums of (power * weight) >> 16 (SMLAWB/SMLAWT)
 *   log: ln(mel + log_eps) = ln(acc + eps_b) - (41 - 2 b) ln 2, by leading-zero
 *     count plus a 33-entry ln(1 + f) table with linear interpolation
 *   out: int16, natural log in Q10 (value / 1024; KE_LOGMEL_Q_FRAC_BITS)
 *
 * Everything per frame is integer and the DSP helpers of ke_dsp16.h have a C
 * twin with the same bits, so host and board outputs are identical.  The float
 * path (ke_logmel.c, librosa-matched) stays the reference it is tested against.
 * Tables are built once by ke_logmel_q_init (floating point, once).
 *
 * The caller owns the ke_logmel_q_state (~7.9 KB: tables, streaming history,
 * scratch); one state must not be used by two threads at once.  Every entry
 * point validates its arguments and returns a negative ke_logmel_q_status on
 * bad input.  Streaming (ke_logmel_q_frame, one 160-sample hop per call) gives
 * the same frames as ke_logmel_q_clip on the whole clip.
 */
#ifndef KE_LOGMEL_Q_H_
#define KE_LOGMEL_Q_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_LOGMEL_Q_SAMPLE_RATE 16000
#define KE_LOGMEL_Q_WINDOW 480
#define KE_LOGMEL_Q_HOP 160
#define KE_LOGMEL_Q_FFT 512
#define KE_LOGMEL_Q_BINS (KE_LOGMEL_Q_FFT / 2 + 1)
#define KE_LOGMEL_Q_MAX_MELS 128
#define KE_LOGMEL_Q_FRAC_BITS 10 /* output = round(1024 * ln(mel + log_eps)) */

typedef enum {
  KE_LOGMEL_Q_OK = 0,
  KE_LOGMEL_Q_ERR_NULL = -1,   /* a required pointer is NULL                */
  KE_LOGMEL_Q_ERR_CONFIG = -2, /* num_mels / fmin / fmax / log_eps invalid  */
  KE_LOGMEL_Q_ERR_SIZE = -3,   /* output buffer too small / negative length */
  KE_LOGMEL_Q_ERR_QUANT = -4,  /* int8 multiplier or zero point invalid     */
  KE_LOGMEL_Q_ERR_UNINIT = -5  /* state not initialised by ke_logmel_q_init */
} ke_logmel_q_status;

typedef struct {
  int32_t num_mels; /* 1..KE_LOGMEL_Q_MAX_MELS, default 40 */
  float fmin_hz;    /* >= 0, default 20                    */
  float fmax_hz;    /* > fmin, <= 8000, default 8000       */
  float log_eps;    /* > 0, default 1e-6                   */
} ke_logmel_q_config;

typedef struct {
  uint32_t magic; /* set by ke_logmel_q_init */
  ke_logmel_q_config config;
  /* Periodic Hann in Q15, packed in pairs (w[2n], w[2n+1]), in the order the first FFT
   * stage reads them: its butterfly g = 4 h + u (see reverse) takes the pairs
   * 16 u + reverse[h] + 64 q, q = 0..3, from window[4 g + q] (two LDRD); the pairs
   * past the window (240..255, u = q = 3) are 0. */
  uint32_t window[KE_LOGMEL_Q_FFT / 2];
  /* Radix-4 twiddles (cos, -sin) in Q15 of the stages of length 16, 64, 256:
   * 3 per butterfly column j (W^j, W^2j, W^3j), 3 * (4 + 16 + 64) in all. */
  uint32_t twiddle[3 * 84];
  /* Split step: -j * W_512^k = (-sin, -cos)(2 pi k / 512), k = 0..128. */
  uint32_t split[KE_LOGMEL_Q_FFT / 4 + 1];
  /* Base-4 digit reversal of the two digits of 0..15: the first FFT stage's
   * butterfly g = 4 h + u reads the input pairs 16 u + reverse[h] + 64 q, q = 0..3
   * (the three-digit reversal of g; u is the digit that becomes the top one). */
  uint8_t reverse[16];
  /* Mel bands: band b holds the bins between edges b and b + 1, i.e. bins
   * [band_start[b], band_start[b + 1]); bin k adds the lo half of its packed
   * weight (weight[k], Q15) of its power to filter b (rising side) and the hi
   * half (Q15, the complement) to filter b - 1 (falling side). */
  int16_t band_start[KE_LOGMEL_Q_MAX_MELS + 2];
  uint16_t band_bins[KE_LOGMEL_Q_MAX_MELS + 1]; /* band_start[b + 1] - band_start[b] */
  /* log_eps in the mel accumulator's units for every block exponent b = 0..16,
   * after a right shift of eps_shift[b] that keeps acc + eps below 2^32. */
  uint32_t eps[17];
  uint8_t eps_shift[17];
  /* Streaming: three hop slots; slots 0 and 1 are also mirrored after slot 2, so
   * the last 480 samples are always contiguous (history + 160 ((slot + 1) % 3))
   * without moving old samples; the OR of |x| of each slot (no rescan per frame).
   * The history follows 32-bit fields: word-aligned, as the hop copy's STM needs. */
  uint32_t hop_bits[3];
  int32_t slot;
  int32_t history_fill;
  int16_t history[KE_LOGMEL_Q_WINDOW + 2 * KE_LOGMEL_Q_HOP];
  /* Scratch: 256 packed complex values (+ a copy of the first at 256, Z_256 = Z_0,
   * for the split step), then the power spectrum power[k] = |X_k|^2, k = 0..256
   * (bins k, k + 1 and 255 - k, 256 - k are one STRD each in the split step, two
   * bins one LDRD in the mel sum), then the constant packed mel weights of the bins
   * (written once by init). */
  uint32_t fft[KE_LOGMEL_Q_FFT / 2 + 1];
  uint32_t power[KE_LOGMEL_Q_BINS + 1];
  uint32_t weight[KE_LOGMEL_Q_BINS + 1];
} ke_logmel_q_state;

const char* ke_logmel_q_status_string(int status);

/* sizeof(ke_logmel_q_state), for bindings that allocate the state themselves. */
size_t ke_logmel_q_state_size(void);

/* 40 mels, 20..8000 Hz, eps 1e-6 (the float front end's defaults). */
void ke_logmel_q_default_config(ke_logmel_q_config* config);

/* Validates `config` (NULL = defaults), builds the tables, resets the stream. */
int ke_logmel_q_init(ke_logmel_q_state* state, const ke_logmel_q_config* config);

/* Forgets the streaming history (start of a new utterance). */
int ke_logmel_q_reset(ke_logmel_q_state* state);

/* Number of frames of a clip of `num_samples` samples (0 if < one window). */
int32_t ke_logmel_q_num_frames(int32_t num_samples);

/* Streaming: appends KE_LOGMEL_Q_HOP samples.  Returns 1 and writes num_mels
 * Q10 values to `out` when a frame is complete, 0 while the first window is
 * still filling, or a negative status. */
int ke_logmel_q_frame(ke_logmel_q_state* state, const int16_t* hop_samples, int16_t* out);

/* Whole clip: writes ke_logmel_q_num_frames(num_samples) frames, frame-major,
 * to `out` (capacity `max_frames` frames).  Returns the number of frames or a
 * negative status.  Leaves the streaming history alone. */
int32_t ke_logmel_q_clip(ke_logmel_q_state* state, const int16_t* samples,
                         int32_t num_samples, int16_t* out, int32_t max_frames);

/* Integer requantisation of Q10 features to a model's int8 input:
 *   out = clamp(zero_point + floor((in * multiplier + offset + 2^15) / 2^16), -128, 127)
 * with multiplier = round(2^16 / (1024 * std * scale)) and
 * offset = round(-2^16 * mean / (std * scale)) for standardised features
 * (recipes/kws/logmel_q.py computes both).  multiplier must be in (0, 2^16]. */
int ke_logmel_q_to_int8(const int16_t* in, int32_t count, int32_t multiplier,
                        int32_t offset, int32_t zero_point, int8_t* out);

#ifdef __cplusplus
}
#endif

#endif /* KE_LOGMEL_Q_H_ */
