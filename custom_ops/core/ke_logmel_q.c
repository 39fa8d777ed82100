/* KE_LOGMEL_Q: fixed-point log-mel front end (see ke_logmel_q.h). */
#include "ke_logmel_q.h"

#include <math.h>
#include <string.h>

#include "ke_dsp16.h"

#define KE_LOGMEL_Q_MAGIC 0x4b454c51u /* "KELQ" */
#define N (KE_LOGMEL_Q_FFT / 2)       /* size of the complex FFT: 256 = 4^4 */
#define PAIRS (KE_LOGMEL_Q_WINDOW / 2) /* complex input values that are not padding */
#define LN2_Q16 45426                  /* round(2^16 ln 2) */

static const double kPi = 3.14159265358979323846;

/* log2(1 + i / 32) in Q16, i = 0..32: the mantissa table of ke_log2_q16. */
static const uint32_t kLog2Table[33] = {
    0,     2909,  5732,  8473,  11136, 13727, 16248, 18704, 21098, 23433, 25711,
    27936, 30109, 32234, 34312, 36346, 38336, 40286, 42196, 44068, 45904, 47705,
    49472, 51207, 52911, 54584, 56229, 57845, 59434, 60997, 62534, 64047, 65536};

const char* ke_logmel_q_status_string(int status) {
  switch (status) {
    case KE_LOGMEL_Q_OK: return "ok";
    case KE_LOGMEL_Q_ERR_NULL: return "a required pointer is NULL";
    case KE_LOGMEL_Q_ERR_CONFIG:
      return "invalid config: need 1 <= num_mels <= 128, 0 <= fmin < fmax <= 8000, "
             "finite log_eps > 0";
    case KE_LOGMEL_Q_ERR_SIZE: return "output buffer too small or negative length";
    case KE_LOGMEL_Q_ERR_QUANT:
      return "invalid int8 requantisation: need 0 < multiplier <= 65536, "
             "-128 <= zero_point <= 127";
    case KE_LOGMEL_Q_ERR_UNINIT: return "state not initialised: call ke_logmel_q_init first";
    default: return "unknown status";
  }
}

size_t ke_logmel_q_state_size(void) { return sizeof(ke_logmel_q_state); }

void ke_logmel_q_default_config(ke_logmel_q_config* config) {
  if (config == NULL) return;
  config->num_mels = 40;
  config->fmin_hz = 20.0f;
  config->fmax_hz = 8000.0f;
  config->log_eps = 1e-6f;
}

static int is_finite(float x) { return x == x && x - x == 0.0f; }

static int check_config(const ke_logmel_q_config* c) {
  if (c->num_mels < 1 || c->num_mels > KE_LOGMEL_Q_MAX_MELS) return 0;
  if (!is_finite(c->fmin_hz) || !is_finite(c->fmax_hz) || !is_finite(c->log_eps)) return 0;
  if (c->fmin_hz < 0.0f || c->fmin_hz >= c->fmax_hz) return 0;
  if (c->fmax_hz > 0.5f * KE_LOGMEL_Q_SAMPLE_RATE) return 0;
  return c->log_eps > 0.0f;
}

static int32_t q15(double v) {
  const double r = floor(v * 32768.0 + 0.5);
  return r > 32767.0 ? 32767 : (r < -32768.0 ? -32768 : (int32_t)r);
}

/* exp(-2 pi i k / n) as packed Q15 (cos, -sin). */
static uint32_t twiddle(int32_t k, int32_t n) {
  const double a = 2.0 * kPi * k / n;
  return ke_pack16(q15(cos(a)), q15(-sin(a)));
}

/* HTK mel scale (Young et al., The HTK Book, 2006), as ke_logmel.c. */
static double hz_to_mel(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }
static double mel_to_hz(double mel) { return 700.0 * (pow(10.0, mel / 2595.0) - 1.0); }

/* Bands between consecutive mel edges f_0 < ... < f_{M+1} (librosa.filters.mel,
 * htk=True, norm=None): in band b a bin at f has rising weight
 * (f - f_b) / (f_{b+1} - f_b) for filter b and falling weight 1 - that for filter
 * b - 1, so one Q15 weight per bin describes the whole filter bank. */
static void build_mel(ke_logmel_q_state* s) {
  const ke_logmel_q_config* c = &s->config;
  const double mel_lo = hz_to_mel(c->fmin_hz), mel_hi = hz_to_mel(c->fmax_hz);
  const double bin_hz = (double)KE_LOGMEL_Q_SAMPLE_RATE / KE_LOGMEL_Q_FFT;
  int32_t b, k;
  memset(s->weight, 0, sizeof(s->weight));
  for (b = 0; b <= c->num_mels + 1; ++b) {
    const double f = mel_to_hz(mel_lo + (mel_hi - mel_lo) * b / (c->num_mels + 1));
    k = (int32_t)ceil(f / bin_hz);
    s->band_start[b] = (int16_t)(k > KE_LOGMEL_Q_BINS ? KE_LOGMEL_Q_BINS : k);
  }
  for (b = 0; b <= c->num_mels; ++b) {
    const double f0 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * b / (c->num_mels + 1));
    const double f1 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (b + 1) / (c->num_mels + 1));
    for (k = s->band_start[b]; k < s->band_start[b + 1]; ++k) {
      const int32_t w = q15((k * bin_hz - f0) / (f1 - f0));
      s->weight[k] = (uint16_t)(w < 0 ? 0 : w);
    }
  }
}

int ke_logmel_q_init(ke_logmel_q_state* state, const ke_logmel_q_config* config) {
  int32_t n, len, j, q, used = 0;
  if (state == NULL) return KE_LOGMEL_Q_ERR_NULL;
  state->magic = 0;
  if (config == NULL) {
    ke_logmel_q_default_config(&state->config);
  } else {
    state->config = *config;
  }
  if (!check_config(&state->config)) return KE_LOGMEL_Q_ERR_CONFIG;
  /* Periodic Hann (scipy.signal.get_window("hann", 480)), Q15. */
  for (n = 0; n < PAIRS; ++n) {
    state->window[n] = ke_pack16(
        q15(0.5 - 0.5 * cos(2.0 * kPi * (2 * n) / KE_LOGMEL_Q_WINDOW)),
        q15(0.5 - 0.5 * cos(2.0 * kPi * (2 * n + 1) / KE_LOGMEL_Q_WINDOW)));
  }
  for (len = 16; len <= N; len *= 4) {
    for (j = 0; j < len / 4; ++j) {
      for (q = 1; q <= 3; ++q) state->twiddle[used++] = twiddle(q * j, len);
    }
  }
  for (n = 0; n <= N / 2; ++n) {
    const double a = 2.0 * kPi * n / KE_LOGMEL_Q_FFT;
    state->split[n] = ke_pack16(q15(-sin(a)), q15(-cos(a)));
  }
  for (n = 0; n < N / 4; ++n) { /* reverse the three base-4 digits of n */
    state->reverse[n] = (uint8_t)(((n & 3) << 4) | (n & 12) | (n >> 4));
  }
  build_mel(state);
  /* The mel sums carry 2^(57 - 2b) (see compute_frame); eps >= 1 keeps log2 defined. */
  for (n = 0; n < 17; ++n) {
    const double e = floor((double)state->config.log_eps * ldexp(1.0, 57 - 2 * n) + 0.5);
    state->eps[n] = e < 1.0 ? 1u : (e > 1.8e19 ? (uint64_t)1 << 63 : (uint64_t)e);
  }
  state->magic = KE_LOGMEL_Q_MAGIC;
  return ke_logmel_q_reset(state);
}

int ke_logmel_q_reset(ke_logmel_q_state* state) {
  if (state == NULL) return KE_LOGMEL_Q_ERR_NULL;
  if (state->magic != KE_LOGMEL_Q_MAGIC) return KE_LOGMEL_Q_ERR_UNINIT;
  memset(state->history, 0, sizeof(state->history));
  memset(state->hop_bits, 0, sizeof(state->hop_bits));
  state->slot = 0;
  state->history_fill = 0;
  return KE_LOGMEL_Q_OK;
}

int32_t ke_logmel_q_num_frames(int32_t num_samples) {
  if (num_samples < KE_LOGMEL_Q_WINDOW) return 0;
  return 1 + (num_samples - KE_LOGMEL_Q_WINDOW) / KE_LOGMEL_Q_HOP;
}

/* Complex multiply by a Q15 twiddle w = (c, s): (xr c - xi s, xr s + xi c) >> 15
 * (|x| <= 2^14.5 keeps the imaginary product below 2^30, as ke_pack_q30 needs). */
static inline uint32_t cmul(uint32_t x, uint32_t w) {
  return ke_pack_q30(ke_smusd(x, w), ke_smuadx(x, w));
}

/* The same product halved, (x w) >> 16: one instruction less (no doubling of the
 * imaginary part); the FFT stages take the halving of their first add level here. */
static inline uint32_t cmul_half(uint32_t x, uint32_t w) {
  return ke_pack_hi(ke_smusd(x, w), ke_smuadx(x, w));
}

/* Radix-4 decimation-in-time butterfly (Cooley & Tukey 1965) on four packed
 * values already multiplied by their twiddles; each of the two add levels halves,
 * so outputs stay within the inputs' modulus bound. */
#define KE_RADIX4(p0, p1, p2, p3, a, b, c, d)      \
  do {                                             \
    const uint32_t t0 = ke_shadd16(a, c);          \
    const uint32_t t1 = ke_shsub16(a, c);          \
    const uint32_t t2 = ke_shadd16(b, d);          \
    const uint32_t t3 = ke_shsub16(b, d);          \
    *(p0) = ke_shadd16(t0, t2);                    \
    *(p1) = ke_shsax(t1, t3); /* t1 - j t3 */      \
    *(p2) = ke_shsub16(t0, t2);                    \
    *(p3) = ke_shasx(t1, t3); /* t1 + j t3 */      \
  } while (0)

/* The windowed complex input pair n: (x[2n] w[2n], x[2n+1] w[2n+1]) >> shift
 * (n a constant offset from x and w, so the loads need no address arithmetic). */
static inline uint32_t windowed(const int16_t* x, const uint32_t* w, int32_t n, int shift) {
  uint32_t v;
  const uint32_t wn = w[n];
  memcpy(&v, x + 2 * n, sizeof v);
  return ke_pkhbt16((uint32_t)ke_asr32(ke_smulbb(v, wn), shift),
                    (uint32_t)ke_asr32(ke_smultt(v, wn), shift));
}

/* 256-point complex FFT of the windowed frame, scaled by 1/256, in natural order.
 * The first (length-4, twiddle-free) stage reads its inputs straight from the
 * samples in base-4 digit-reversed order and windows them on the way, so there is
 * no separate windowing or reordering pass; pairs 240..255 are the zero padding. */
static void fft256(uint32_t* z, const uint32_t* tw, const int16_t* x, const uint32_t* w,
                   const uint8_t* reverse, int shift) {
  int32_t g, q;
  for (g = 0; g < N / 4; ++g) {
    const int32_t r = reverse[g];
    const int16_t* xr = x + 2 * r;
    const uint32_t* wr = w + r;
    uint32_t* p = z + 4 * g;
    const uint32_t a = windowed(xr, wr, 0, shift);
    const uint32_t b = windowed(xr, wr, 64, shift);
    const uint32_t c = windowed(xr, wr, 128, shift);
    const uint32_t d = r + 192 < PAIRS ? windowed(xr, wr, 192, shift) : 0;
    KE_RADIX4(p, p + 1, p + 2, p + 3, a, b, c, d);
  }
  for (q = 4; q < N; q *= 4) { /* lengths 16, 64, 256 */
    for (g = 0; g < N; g += 4 * q) {
      uint32_t* p = z + g;
      uint32_t* const end = p + q;
      const uint32_t* t = tw;
      for (; p < end; ++p, t += 3) {
        /* a / 2 and the halved twiddle products: the first add level then needs no
         * halving (|a / 2| + |c w / 2| <= the inputs' bound, no saturation). */
        const uint32_t a = ke_shadd16(p[0], 0);
        const uint32_t b = cmul_half(p[q], t[0]);
        const uint32_t c = cmul_half(p[2 * q], t[1]);
        const uint32_t d = cmul_half(p[3 * q], t[2]);
        const uint32_t t0 = ke_qadd16(a, c), t1 = ke_qsub16(a, c);
        const uint32_t t2 = ke_qadd16(b, d), t3 = ke_qsub16(b, d);
        p[0] = ke_shadd16(t0, t2);
        p[q] = ke_shsax(t1, t3);
        p[2 * q] = ke_shsub16(t0, t2);
        p[3 * q] = ke_shasx(t1, t3);
      }
    }
    tw += 3 * q;
  }
}

/* Leading zeros of v > 0 (CLZ on Arm). */
static inline int clz32(uint32_t v) {
#if defined(__GNUC__)
  return __builtin_clz(v);
#else
  int n = 0;
  while (!(v & 0x80000000u)) { v <<= 1; ++n; }
  return n;
#endif
}

/* log2(v) in Q16 for v > 0: exponent from the leading-zero count, mantissa
 * log2(1 + f) by linear interpolation in a 33-entry table (error < 2e-4). */
static int32_t log2_q16(uint64_t v) {
  const uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
  int32_t e;
  uint32_t m, i, t;
  if (hi != 0) {
    const int z = clz32(hi);
    e = 63 - z;
    m = z == 0 ? hi : (hi << z) | (lo >> (32 - z));
  } else {
    const int z = clz32(lo);
    e = 31 - z;
    m = lo << z;
  }
  i = (m >> 26) & 31;
  t = (m >> 10) & 0xFFFF;
  return e * 65536 + (int32_t)kLog2Table[i] +
         (int32_t)(((kLog2Table[i + 1] - kLog2Table[i]) * t) >> 16);
}

/* OR of |x| over one hop (two lanes at a time): its bit length bounds the hop.
 * The hop is also copied to `copy` and `mirror` when they are not NULL (one pass
 * for the streaming path). */
static uint32_t magnitude_bits(const int16_t* x, int16_t* copy, int16_t* mirror) {
  uint32_t acc = 0, v0, v1;
  int32_t n;
  for (n = 0; n < KE_LOGMEL_Q_HOP; n += 4) {
    memcpy(&v0, x + n, sizeof v0);
    memcpy(&v1, x + n + 2, sizeof v1);
    if (copy != NULL) {
      memcpy(copy + n, &v0, sizeof v0);
      memcpy(copy + n + 2, &v1, sizeof v1);
    }
    if (mirror != NULL) {
      memcpy(mirror + n, &v0, sizeof v0);
      memcpy(mirror + n + 2, &v1, sizeof v1);
    }
    acc |= ke_abs16x2(v0) | ke_abs16x2(v1);
  }
  return (acc | (acc >> 16)) & 0xFFFFu;
}

/* One frame from 480 contiguous samples whose magnitude OR is `bits`. */
static void compute_frame(ke_logmel_q_state* s, const int16_t* x, uint32_t bits, int16_t* out) {
  uint32_t* z = s->fft;
  uint32_t* p = s->power;
  int32_t b = 0, k, m;
  uint64_t lo_acc = 0, hi_acc = 0;
  while (bits >> b) ++b; /* 0..16: every |x| < 2^b, so |z| < 2^14 per component */
  fft256(z, s->twiddle, x, s->window, s->reverse, 1 + b);
  z[N] = z[0]; /* periodic: the split step reads Z_{256 - k} for k = 0 too */
  /* Real split step: X_k = E_k + W^k O_k and X_{256-k} = conj(E_k - W^k O_k) with
   * E = (Z_k + conj Z_{256-k}) / 2, O = (Z_k - conj Z_{256-k}) / 2i (Sorensen et
   * al., IEEE TASSP 1987), so one twiddle product serves two bins.  O = -j O' with
   * O' = ((a - c) / 2, (b + d) / 2), folded into the table: split[k] = -j W^k. */
  {
    const uint32_t* zk = z;
    const uint32_t* zn = z + N; /* Z_{256-k}; Z_256 is Z_0 */
    const uint32_t* tw = s->split;
    uint32_t* pk = p;
    uint32_t* pn = p + N;
    for (k = 0; k <= N / 2; ++k, ++zk, --zn, ++tw, ++pk, --pn) {
      const uint32_t u = *zk, v = *zn;
      const uint32_t sum = ke_shadd16(u, v), diff = ke_shsub16(u, v);
      const uint32_t t = cmul(ke_pkhbt(diff, sum), *tw);
      const uint32_t e = ke_pkhbt(sum, diff);
      const uint32_t xp = ke_qadd16(e, t), xm = ke_qsub16(e, t);
      *pn = (uint32_t)ke_smuad(xm, xm);
      *pk = (uint32_t)ke_smuad(xp, xp);
    }
  }
  /* Mel: band by band, the falling side closes filter b - 1, the rising side opens
   * filter b.  z scaled 2^(29 - b), FFT 2^-8 => |X|^2 carries 2^(42 - 2b), Q15
   * weights 2^15: the sums carry 2^(57 - 2b). */
  {
    const int32_t offset = (57 - 2 * b) * 65536;
    const uint64_t eps = s->eps[b];
    const int16_t* band = s->band_start;
    const uint16_t* weight = s->weight;
    for (m = 0; m <= s->config.num_mels; ++m) {
      const int32_t end = band[m + 1];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 2
#endif
      for (k = band[m]; k < end; ++k) {
        const uint32_t wk = weight[k], pk = p[k];
        hi_acc += (uint64_t)pk * wk;
        lo_acc += (uint64_t)pk * (32768u - wk);
      }
      if (m > 0) {
        /* ln = ln 2 * log2, Q16 * Q16 -> Q32, rounded to Q10. */
        const int64_t ln = (int64_t)(log2_q16(lo_acc + eps) - offset) * LN2_Q16 +
                           ((int64_t)1 << 21);
        out[m - 1] = (int16_t)ke_ssat16((int32_t)(ln >= 0 ? ln >> 22 : ~(~ln >> 22)));
      }
      lo_acc = hi_acc;
      hi_acc = 0;
    }
  }
}

int ke_logmel_q_frame(ke_logmel_q_state* state, const int16_t* hop_samples, int16_t* out) {
  int32_t slot;
  int16_t* dest;
  if (state == NULL || hop_samples == NULL || out == NULL) return KE_LOGMEL_Q_ERR_NULL;
  if (state->magic != KE_LOGMEL_Q_MAGIC) return KE_LOGMEL_Q_ERR_UNINIT;
  slot = state->slot;
  dest = state->history + slot * KE_LOGMEL_Q_HOP;
  state->hop_bits[slot] =
      magnitude_bits(hop_samples, dest, slot < 2 ? dest + KE_LOGMEL_Q_WINDOW : NULL);
  state->slot = slot == 2 ? 0 : slot + 1;
  if (state->history_fill < KE_LOGMEL_Q_WINDOW) state->history_fill += KE_LOGMEL_Q_HOP;
  if (state->history_fill < KE_LOGMEL_Q_WINDOW) return 0;
  compute_frame(state, state->history + state->slot * KE_LOGMEL_Q_HOP,
                state->hop_bits[0] | state->hop_bits[1] | state->hop_bits[2], out);
  return 1;
}

int32_t ke_logmel_q_clip(ke_logmel_q_state* state, const int16_t* samples,
                         int32_t num_samples, int16_t* out, int32_t max_frames) {
  int32_t frames, t;
  if (state == NULL || (samples == NULL && num_samples > 0)) return KE_LOGMEL_Q_ERR_NULL;
  if (state->magic != KE_LOGMEL_Q_MAGIC) return KE_LOGMEL_Q_ERR_UNINIT;
  if (num_samples < 0 || max_frames < 0) return KE_LOGMEL_Q_ERR_SIZE;
  frames = ke_logmel_q_num_frames(num_samples);
  if (frames > max_frames) return KE_LOGMEL_Q_ERR_SIZE;
  if (frames > 0 && out == NULL) return KE_LOGMEL_Q_ERR_NULL;
  for (t = 0; t < frames; ++t) {
    const int16_t* x = samples + (size_t)t * KE_LOGMEL_Q_HOP;
    compute_frame(state, x,
                  magnitude_bits(x, NULL, NULL) |
                      magnitude_bits(x + KE_LOGMEL_Q_HOP, NULL, NULL) |
                      magnitude_bits(x + 2 * KE_LOGMEL_Q_HOP, NULL, NULL),
                  out + (size_t)t * (size_t)state->config.num_mels);
  }
  return frames;
}

int ke_logmel_q_to_int8(const int16_t* in, int32_t count, int32_t multiplier,
                        int32_t offset, int32_t zero_point, int8_t* out) {
  int32_t i;
  if (count < 0) return KE_LOGMEL_Q_ERR_SIZE;
  if (count > 0 && (in == NULL || out == NULL)) return KE_LOGMEL_Q_ERR_NULL;
  if (multiplier <= 0 || multiplier > 65536 || zero_point < -128 || zero_point > 127) {
    return KE_LOGMEL_Q_ERR_QUANT;
  }
  for (i = 0; i < count; ++i) {
    /* |in * multiplier| <= 2^31 and offset is bounded by the caller; int64 keeps
     * any offset free of overflow. */
    const int64_t acc = (int64_t)in[i] * multiplier + offset + 32768;
    int64_t q = (acc >= 0 ? acc >> 16 : ~(~acc >> 16)) + zero_point;
    if (q < -128) q = -128;
    if (q > 127) q = 127;
    out[i] = (int8_t)q;
  }
  return KE_LOGMEL_Q_OK;
}
