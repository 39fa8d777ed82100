/* KE_LOGMEL: log-mel front end (see ke_logmel.h for the definition). */
#include "ke_logmel.h"

#include <math.h>
#include <string.h>

#define KE_LOGMEL_MAGIC 0x4b454c4du /* "KELM" */
#define HALF (KE_LOGMEL_FFT / 2)    /* size of the complex FFT */

static const double kPi = 3.14159265358979323846;

const char* ke_logmel_status_string(int status) {
  switch (status) {
    case KE_LOGMEL_OK: return "ok";
    case KE_LOGMEL_ERR_NULL: return "a required pointer is NULL";
    case KE_LOGMEL_ERR_CONFIG:
      return "invalid config: need 1 <= num_mels <= 128, 0 <= fmin < fmax <= 8000, "
             "log_eps > 0, finite norm_mean, finite norm_scale > 0";
    case KE_LOGMEL_ERR_SIZE: return "output buffer too small or negative length";
    case KE_LOGMEL_ERR_QUANT:
      return "invalid quantization: need finite scale > 0, -128 <= zero_point <= 127";
    case KE_LOGMEL_ERR_UNINIT: return "state not initialised: call ke_logmel_init first";
    default: return "unknown status";
  }
}

size_t ke_logmel_state_size(void) { return sizeof(ke_logmel_state); }

void ke_logmel_default_config(ke_logmel_config* config) {
  if (config == NULL) return;
  config->num_mels = 40;
  config->fmin_hz = 20.0f;
  config->fmax_hz = 8000.0f;
  config->log_eps = 1e-6f;
  config->norm_mean = 0.0f;
  config->norm_scale = 1.0f;
}

/* HTK mel scale (Young et al., The HTK Book, 2006). */
static double hz_to_mel(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }
static double mel_to_hz(double mel) { return 700.0 * (pow(10.0, mel / 2595.0) - 1.0); }

static int is_finite(float x) { return x == x && x - x == 0.0f; }

static int check_config(const ke_logmel_config* c) {
  if (c->num_mels < 1 || c->num_mels > KE_LOGMEL_MAX_MELS) return 0;
  if (!is_finite(c->fmin_hz) || !is_finite(c->fmax_hz) || !is_finite(c->log_eps)) return 0;
  if (!is_finite(c->norm_mean) || !is_finite(c->norm_scale) || !(c->norm_scale > 0.0f)) return 0;
  if (c->fmin_hz < 0.0f || c->fmin_hz >= c->fmax_hz) return 0;
  if (c->fmax_hz > 0.5f * KE_LOGMEL_SAMPLE_RATE) return 0;
  return c->log_eps > 0.0f;
}

/* Triangular filters exactly as librosa.filters.mel(htk=True, norm=None):
 * band edges f_0 < ... < f_{M+1} equally spaced in mel; filter m rises
 * linearly from f_m to f_{m+1} and falls to f_{m+2}.  Computed in double and
 * rounded to float once, like librosa's float64 -> float32. */
static int build_mel(ke_logmel_state* s) {
  const ke_logmel_config* c = &s->config;
  const int32_t edges = c->num_mels + 2;
  const double mel_lo = hz_to_mel(c->fmin_hz), mel_hi = hz_to_mel(c->fmax_hz);
  const double bin_hz = (double)KE_LOGMEL_SAMPLE_RATE / KE_LOGMEL_FFT;
  int32_t used = 0, m, k;
  for (m = 0; m < c->num_mels; ++m) {
    const double f0 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * m / (edges - 1));
    const double f1 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (m + 1) / (edges - 1));
    const double f2 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (m + 2) / (edges - 1));
    int32_t first = -1, last = -1;
    /* Only bins strictly between f0 and f2 can have a non-zero weight. */
    const int32_t k_lo = (int32_t)(f0 / bin_hz), k_hi = (int32_t)(f2 / bin_hz) + 1;
    for (k = k_lo; k <= k_hi && k < KE_LOGMEL_BINS; ++k) {
      const double f = k * bin_hz;
      const double lower = (f - f0) / (f1 - f0), upper = (f2 - f) / (f2 - f1);
      const double w = lower < upper ? lower : upper;
      if ((float)w > 0.0f) {
        if (first < 0) first = k;
        last = k;
      }
    }
    s->mel_start[m] = (int16_t)(first < 0 ? 0 : first);
    s->mel_len[m] = (int16_t)(first < 0 ? 0 : last - first + 1);
    s->mel_offset[m] = (int16_t)used;
    if (used + s->mel_len[m] > KE_LOGMEL_MAX_WEIGHTS) return 0;
    for (k = 0; k < s->mel_len[m]; ++k) {
      const double f = (first + k) * bin_hz;
      const double lower = (f - f0) / (f1 - f0), upper = (f2 - f) / (f2 - f1);
      const double w = lower < upper ? lower : upper;
      s->mel_weights[used + k] = w > 0.0 ? (float)w : 0.0f;
    }
    used += s->mel_len[m];
  }
  return 1;
}

int ke_logmel_init(ke_logmel_state* state, const ke_logmel_config* config) {
  int32_t n;
  if (state == NULL) return KE_LOGMEL_ERR_NULL;
  state->magic = 0;
  if (config == NULL) {
    ke_logmel_default_config(&state->config);
  } else {
    state->config = *config;
  }
  if (!check_config(&state->config)) return KE_LOGMEL_ERR_CONFIG;
  /* Periodic Hann, as scipy.signal.get_window("hann", 480) used by librosa.
   * Trigonometry runs in software double precision on a Cortex-M4, so the
   * tables use quarter-wave symmetry: 121 + 128 cos() calls instead of 992. */
  for (n = 0; n <= KE_LOGMEL_WINDOW / 4; ++n) {
    const double c = cos(2.0 * kPi * n / KE_LOGMEL_WINDOW);
    state->window[n] = (float)(0.5 - 0.5 * c);                         /* cos(a)        */
    state->window[KE_LOGMEL_WINDOW / 2 - n] = (float)(0.5 + 0.5 * c);  /* cos(pi - a)   */
    if (n > 0) {
      state->window[KE_LOGMEL_WINDOW - n] = state->window[n];          /* cos(2 pi - a) */
      state->window[KE_LOGMEL_WINDOW / 2 + n] = state->window[KE_LOGMEL_WINDOW / 2 - n];
    }
  }
  for (n = 0; n < KE_LOGMEL_FFT / 4; ++n) {
    const float c = (float)cos(2.0 * kPi * n / KE_LOGMEL_FFT);
    state->cos_table[n] = c;                                /* cos(a)        */
    state->sin_table[KE_LOGMEL_FFT / 4 - n] = c;            /* sin(pi/2 - a) */
    if (n > 0) {
      state->cos_table[HALF - n] = -c;                      /* cos(pi - a)   */
      state->sin_table[KE_LOGMEL_FFT / 4 + n] = c;          /* sin(pi/2 + a) */
    }
  }
  state->cos_table[KE_LOGMEL_FFT / 4] = 0.0f; /* exact at a = pi/2 and a = 0 */
  state->sin_table[0] = 0.0f;
  if (!build_mel(state)) return KE_LOGMEL_ERR_CONFIG;
  state->magic = KE_LOGMEL_MAGIC;
  return ke_logmel_reset(state);
}

int ke_logmel_reset(ke_logmel_state* state) {
  if (state == NULL) return KE_LOGMEL_ERR_NULL;
  if (state->magic != KE_LOGMEL_MAGIC) return KE_LOGMEL_ERR_UNINIT;
  memset(state->history, 0, sizeof(state->history));
  state->history_fill = 0;
  return KE_LOGMEL_OK;
}

int32_t ke_logmel_num_frames(int32_t num_samples) {
  if (num_samples < KE_LOGMEL_WINDOW) return 0;
  return 1 + (num_samples - KE_LOGMEL_WINDOW) / KE_LOGMEL_HOP;
}

/* In-place iterative radix-2 complex FFT of HALF points (Cooley & Tukey 1965),
 * z interleaved (re, im).  Twiddle W_len^j = exp(-2 pi i j / len) is entry
 * j * (FFT / len) of the 512-point tables. */
static void complex_fft(const ke_logmel_state* s, float* z) {
  int32_t i, j, len, bit;
  for (i = 1, j = 0; i < HALF; ++i) { /* bit-reversal permutation */
    for (bit = HALF >> 1; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      float t = z[2 * i]; z[2 * i] = z[2 * j]; z[2 * j] = t;
      t = z[2 * i + 1]; z[2 * i + 1] = z[2 * j + 1]; z[2 * j + 1] = t;
    }
  }
  for (len = 2; len <= HALF; len <<= 1) {
    const int32_t half = len >> 1, step = KE_LOGMEL_FFT / len;
    for (i = 0; i < HALF; i += len) {
      for (j = 0; j < half; ++j) {
        const float wr = s->cos_table[j * step], wi = -s->sin_table[j * step];
        float* a = z + 2 * (i + j);
        float* b = z + 2 * (i + j + half);
        const float vr = b[0] * wr - b[1] * wi, vi = b[0] * wi + b[1] * wr;
        b[0] = a[0] - vr;
        b[1] = a[1] - vi;
        a[0] += vr;
        a[1] += vi;
      }
    }
  }
}

/* One frame from 480 contiguous samples.  The 512-point real FFT is a 256-point
 * complex FFT of z[n] = x[2n] + i x[2n+1] followed by the split step
 *   X_k = E_k + W_512^k O_k,  E_k = (Z_k + conj Z_{256-k}) / 2,
 *                             O_k = (Z_k - conj Z_{256-k}) / (2i)
 * (e.g. Sorensen et al., "Real-valued fast Fourier transform algorithms",
 * IEEE TASSP 1987). */
static void compute_frame(ke_logmel_state* s, const int16_t* x, float* out) {
  float* z = s->fft;
  float* p = s->power;
  int32_t n, k, m;
  for (n = 0; n < KE_LOGMEL_WINDOW; ++n) {
    z[n] = ((float)x[n] * (1.0f / 32768.0f)) * s->window[n];
  }
  for (; n < KE_LOGMEL_FFT; ++n) z[n] = 0.0f; /* zero padding 480 -> 512 */
  complex_fft(s, z);
  p[0] = (z[0] + z[1]) * (z[0] + z[1]);
  p[HALF] = (z[0] - z[1]) * (z[0] - z[1]);
  for (k = 1; k < HALF; ++k) {
    const float a = z[2 * k], b = z[2 * k + 1];
    const float c = z[2 * (HALF - k)], d = z[2 * (HALF - k) + 1];
    const float er = 0.5f * (a + c), ei = 0.5f * (b - d);
    const float or_ = 0.5f * (b + d), oi = -0.5f * (a - c);
    const float wr = s->cos_table[k], wi = -s->sin_table[k];
    const float xr = er + wr * or_ - wi * oi, xi = ei + wr * oi + wi * or_;
    p[k] = xr * xr + xi * xi;
  }
  for (m = 0; m < s->config.num_mels; ++m) {
    const float* w = s->mel_weights + s->mel_offset[m];
    const float* pk = p + s->mel_start[m];
    float acc = 0.0f;
    for (k = 0; k < s->mel_len[m]; ++k) acc += w[k] * pk[k];
    out[m] = (logf(acc + s->config.log_eps) - s->config.norm_mean) * s->config.norm_scale;
  }
}

int ke_logmel_frame(ke_logmel_state* state, const int16_t* hop_samples, float* out) {
  if (state == NULL || hop_samples == NULL || out == NULL) return KE_LOGMEL_ERR_NULL;
  if (state->magic != KE_LOGMEL_MAGIC) return KE_LOGMEL_ERR_UNINIT;
  /* Shift the window by one hop; 320 int16 moves per 10 ms is negligible. */
  memmove(state->history, state->history + KE_LOGMEL_HOP,
          (KE_LOGMEL_WINDOW - KE_LOGMEL_HOP) * sizeof(int16_t));
  memcpy(state->history + KE_LOGMEL_WINDOW - KE_LOGMEL_HOP, hop_samples,
         KE_LOGMEL_HOP * sizeof(int16_t));
  if (state->history_fill < KE_LOGMEL_WINDOW) state->history_fill += KE_LOGMEL_HOP;
  if (state->history_fill < KE_LOGMEL_WINDOW) return 0;
  compute_frame(state, state->history, out);
  return 1;
}

int32_t ke_logmel_clip(ke_logmel_state* state, const int16_t* samples,
                       int32_t num_samples, float* out, int32_t max_frames) {
  int32_t frames, t;
  if (state == NULL || (samples == NULL && num_samples > 0)) return KE_LOGMEL_ERR_NULL;
  if (state->magic != KE_LOGMEL_MAGIC) return KE_LOGMEL_ERR_UNINIT;
  if (num_samples < 0 || max_frames < 0) return KE_LOGMEL_ERR_SIZE;
  frames = ke_logmel_num_frames(num_samples);
  if (frames > max_frames) return KE_LOGMEL_ERR_SIZE;
  if (frames > 0 && out == NULL) return KE_LOGMEL_ERR_NULL;
  for (t = 0; t < frames; ++t) {
    compute_frame(state, samples + (size_t)t * KE_LOGMEL_HOP,
                  out + (size_t)t * (size_t)state->config.num_mels);
  }
  return frames;
}

int ke_logmel_quantize(const float* in, int32_t count, float scale,
                       int32_t zero_point, int8_t* out) {
  int32_t i;
  if (count < 0) return KE_LOGMEL_ERR_SIZE;
  if (count > 0 && (in == NULL || out == NULL)) return KE_LOGMEL_ERR_NULL;
  if (!is_finite(scale) || !(scale > 0.0f) || zero_point < -128 || zero_point > 127) {
    return KE_LOGMEL_ERR_QUANT;
  }
  for (i = 0; i < count; ++i) {
    float q = roundf(in[i] / scale) + (float)zero_point;
    /* NaN fails every comparison and lands on -128 instead of an undefined cast. */
    if (!(q >= -128.0f)) q = -128.0f;
    if (q > 127.0f) q = 127.0f;
    out[i] = (int8_t)q;
  }
  return KE_LOGMEL_OK;
}
