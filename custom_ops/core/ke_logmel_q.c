/* KE_LOGMEL_Q: fixed-point log-mel front end (see ke_logmel_q.h). */
#include "ke_logmel_q.h"

#include <math.h>
#include <string.h>

#include "ke_dsp16.h"

#define KE_LOGMEL_Q_MAGIC 0x4b454c51u /* "KELQ" */
#define N (KE_LOGMEL_Q_FFT / 2)       /* size of the complex FFT: 256 = 4^4 */
#define PAIRS (KE_LOGMEL_Q_WINDOW / 2) /* complex input values that are not padding */
#define LN2_Q20 726817                 /* round(2^20 ln 2) */

static const double kPi = 3.14159265358979323846;

/* ln(1 + i / 32) in Q20 and its step to i + 1, i = 0..31: the mantissa table of
 * ln_frac_q20 (value and slope side by side: one LDRD per lookup). */
static const int32_t kLnTable[32][2] = {
    {0, 32266}, {32266, 31304}, {63570, 30395}, {93965, 29539},
    {123504, 28730}, {152234, 27964}, {180198, 27237}, {207435, 26548},
    {233983, 25892}, {259875, 25268}, {285143, 24674}, {309817, 24106},
    {333923, 23564}, {357487, 23047}, {380534, 22551}, {403085, 22076},
    {425161, 21621}, {446782, 21184}, {467966, 20765}, {488731, 20361},
    {509092, 19973}, {529065, 19600}, {548665, 19241}, {567906, 18894},
    {586800, 18559}, {605359, 18237}, {623596, 17924}, {641520, 17624},
    {659144, 17332}, {676476, 17051}, {693527, 16777}, {710304, 16513},
};

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
    s->band_bins[b] = (uint16_t)(s->band_start[b + 1] - s->band_start[b]);
  }
  for (b = 0; b <= c->num_mels; ++b) {
    const double f0 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * b / (c->num_mels + 1));
    const double f1 = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (b + 1) / (c->num_mels + 1));
    for (k = s->band_start[b]; k < s->band_start[b + 1]; ++k) {
      /* Q15 with 1.0 as 32767 (SMLAWB/SMLAWT take signed halves): 3e-5 relative. */
      const double f = (k * bin_hz - f0) / (f1 - f0);
      const int32_t rise = q15(f), fall = q15(1.0 - f);
      s->weight[k] = ke_pack16(rise < 0 ? 0 : rise, fall < 0 ? 0 : fall);
    }
  }
}

/* Periodic Hann (scipy.signal.get_window("hann", 480)) of the pair n, packed Q15. */
static uint32_t hann_pair(int32_t n) {
  return ke_pack16(q15(0.5 - 0.5 * cos(2.0 * kPi * (2 * n) / KE_LOGMEL_Q_WINDOW)),
                   q15(0.5 - 0.5 * cos(2.0 * kPi * (2 * n + 1) / KE_LOGMEL_Q_WINDOW)));
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
  for (n = 0; n < 16; ++n) { /* reverse the two base-4 digits of n */
    state->reverse[n] = (uint8_t)(((n & 3) << 2) | (n >> 2));
  }
  /* The window in the first FFT stage's reading order: butterfly g = 4 h + u takes
   * the pairs 16 u + reverse[h] + 64 q (see fft256). */
  for (n = 0; n < N; ++n) {
    const int32_t g = n >> 2, pair = 16 * (g & 3) + state->reverse[g >> 2] + 64 * (n & 3);
    state->window[n] = pair < PAIRS ? hann_pair(pair) : 0u;
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
  build_mel(state);
  /* The mel sums carry 2^(41 - 2b) and stay below 2^31 (see compute_frame); a large
   * log_eps at a small b is shifted right with the sum so that acc + eps < 2^32;
   * eps >= 1 keeps the log defined. */
  for (n = 0; n < 17; ++n) {
    int32_t sh = 0;
    double e = floor((double)state->config.log_eps * ldexp(1.0, 41 - 2 * n) + 0.5);
    while (e >= 2147483648.0) {
      ++sh;
      e = floor((double)state->config.log_eps * ldexp(1.0, 41 - 2 * n - sh) + 0.5);
    }
    state->eps[n] = e < 1.0 ? 1u : (uint32_t)e;
    state->eps_shift[n] = (uint8_t)sh;
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
 * values already multiplied by their twiddles, stored to p[k..k+3] as two STRD; each
 * of the two add levels halves, so outputs stay within the inputs' modulus bound. */
#define KE_RADIX4(p, k, a, b, c, d)                \
  do {                                             \
    const uint32_t t0 = ke_shadd16(a, c);          \
    const uint32_t t1 = ke_shsub16(a, c);          \
    const uint32_t t2 = ke_shadd16(b, d);          \
    const uint32_t t3 = ke_shsub16(b, d);          \
    /* t1 - j t3 and t1 + j t3 go to p[k + 1], p[k + 3] */ \
    KE_STORE2(p, k, ke_shadd16(t0, t2), ke_shsax(t1, t3));       \
    KE_STORE2(p, (k) + 2, ke_shsub16(t0, t2), ke_shasx(t1, t3)); \
  } while (0)

/* The windowed complex input pair n: (x[2n] w0, x[2n+1] w1) >> shift for the packed
 * window pair wn = (w0, w1) (n a constant offset from x: the load needs no address
 * arithmetic). */
static inline uint32_t windowed(const int16_t* x, int32_t n, uint32_t wn, int shift) {
  uint32_t v;
  memcpy(&v, x + 2 * n, sizeof v);
  return ke_pkhbt16((uint32_t)ke_asr32(ke_smulbb(v, wn), shift),
                    (uint32_t)ke_asr32(ke_smultt(v, wn), shift));
}

/* One radix-4 butterfly of a later stage, given a = p[0] and b, c, d: the twiddled
 * p[q], p[2q], p[3q], halved.  a is halved here, so the first add level needs no
 * halving (|a / 2| + |c w / 2| <= the inputs' bound, no saturation); o gets the four
 * outputs in the order they go to p[0], p[q], p[2q], p[3q]. */
static inline void stage_bfly(uint32_t o[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  const uint32_t a_ = ke_shadd16(a, 0);
  const uint32_t t0 = ke_qadd16(a_, c), t1 = ke_qsub16(a_, c);
  const uint32_t t2 = ke_qadd16(b, d), t3 = ke_qsub16(b, d);
  o[0] = ke_shadd16(t0, t2);
  o[1] = ke_shsax(t1, t3);
  o[2] = ke_shsub16(t0, t2);
  o[3] = ke_shasx(t1, t3);
}

/* The butterflies of two adjacent columns j, j + 1 of one group (p = its column j).
 * Their values are adjacent words, so every pair of loads and of stores is one
 * LDRD / STRD: what an always-on device pays is instructions, and this halves the
 * FFT's memory instructions.  w: the 6 twiddles of the two columns (3 per column);
 * first: column j is column 0 (W^0 = 1: halving only, no product). */
static KE_ALWAYS_INLINE void stage_pair(uint32_t* p, const int32_t q, const uint32_t* w,
                                        const int first) {
  uint32_t a0, a1, b0, b1, c0, c1, d0, d1, w0, w1, w2, w3, w4, w5;
  uint32_t o0[4], o1[4];
  KE_LOAD2(p, 0, a0, a1);
  KE_LOAD2(p, q, b0, b1);
  KE_LOAD2(p, 2 * q, c0, c1);
  KE_LOAD2(p, 3 * q, d0, d1);
  if (first) {
    stage_bfly(o0, a0, ke_shadd16(b0, 0), ke_shadd16(c0, 0), ke_shadd16(d0, 0));
    KE_LOAD2(w, 4, w4, w5);
    w3 = w[3];
  } else {
    KE_LOAD2(w, 0, w0, w1);
    KE_LOAD2(w, 2, w2, w3);
    KE_LOAD2(w, 4, w4, w5);
    stage_bfly(o0, a0, cmul_half(b0, w0), cmul_half(c0, w1), cmul_half(d0, w2));
  }
  stage_bfly(o1, a1, cmul_half(b1, w3), cmul_half(c1, w4), cmul_half(d1, w5));
  KE_STORE2(p, 0, o0[0], o1[0]);
  KE_STORE2(p, q, o0[1], o1[1]);
  KE_STORE2(p, 2 * q, o0[2], o1[2]);
  KE_STORE2(p, 3 * q, o0[3], o1[3]);
}

/* The stage that combines 4 DFTs of length q into one of length 4q, for every group
 * of 4q values (Cooley & Tukey 1965), group by group, two columns at a time
 * (stage_pair); column 0 (W^0 = 1) only halves.  Inlined per stage (forced: the
 * compiler otherwise keeps one copy for all three) so that q is a constant and every
 * LDRD / STRD offset an immediate. */
static KE_ALWAYS_INLINE void radix4_stage(uint32_t* z, const uint32_t* tw, const int32_t q) {
  uint32_t* const end = z + N;
  uint32_t* p;
  int32_t j;
  for (p = z; p < end; p += 4 * q) {
    stage_pair(p, q, tw, 1);
    for (j = 2; j < q; j += 2) stage_pair(p + j, q, tw + 3 * j, 0);
  }
}

/* 256-point complex FFT of the windowed frame, scaled by 1/256, in natural order.
 * The first (length-4, twiddle-free) stage reads its inputs straight from the
 * samples in base-4 digit-reversed order and windows them on the way, so there is
 * no separate windowing or reordering pass.  Its butterfly g = 4 h + u reads pairs
 * 16 u + reverse[h] + 64 q: one base per h and constant offsets, unrolled over u;
 * pairs 240..255 (u = 3, q = 3) are the zero padding. */
static void fft256(uint32_t* z, const uint32_t* tw, const int16_t* x, const uint32_t* w,
                   const uint8_t* reverse, int shift) {
  int32_t h;
  for (h = 0; h < 16; ++h, z += 16, w += 16) {
    const int16_t* xr = x + 2 * reverse[h];
#define KE_FIRST(u, has_d)                                                          \
  do {                                                                            \
    uint32_t w0, w1, w2, w3 = 0;                                                  \
    KE_LOAD2(w, 4 * (u), w0, w1);                                                 \
    if (has_d) {                                                                  \
      KE_LOAD2(w, 4 * (u) + 2, w2, w3);                                           \
    } else {                                                                      \
      w2 = w[4 * (u) + 2];                                                        \
    }                                                                             \
    {                                                                             \
      const uint32_t a = windowed(xr, 16 * (u), w0, shift);                       \
      const uint32_t b = windowed(xr, 16 * (u) + 64, w1, shift);                  \
      const uint32_t c = windowed(xr, 16 * (u) + 128, w2, shift);                 \
      const uint32_t d = (has_d) ? windowed(xr, 16 * (u) + 192, w3, shift) : 0;   \
      KE_RADIX4(z, 4 * (u), a, b, c, d);                                           \
    }                                                                             \
  } while (0)
    KE_FIRST(0, 1);
    KE_FIRST(1, 1);
    KE_FIRST(2, 1);
    KE_FIRST(3, 0);
#undef KE_FIRST
  }
  z -= N;
  radix4_stage(z, tw, 4);
  radix4_stage(z, tw + 3 * 4, 16);
  radix4_stage(z, tw + 3 * (4 + 16), 64);
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

/* ln(1 + f) in Q20 for the normalised mantissa m = v << clz(v) (top bit set,
 * f = m / 2^31 - 1), by linear interpolation in a 32-step table (error < 1.3e-4),
 * so that ln v = (31 - clz(v)) ln 2 + ln_frac_q20(m) / 2^20. */
static inline int32_t ln_frac_q20(uint32_t m) {
  const uint32_t i = (m >> 26) & 31, t = (m >> 10) & 0xFFFF;
  const int32_t* const e = kLnTable[i];
  int32_t e0, e1;
  KE_LOAD2(e, 0, e0, e1);
  return e0 + (int32_t)(((uint32_t)e1 * t) >> 16);
}

/* OR of |x| over one hop (two lanes at a time): its bit length bounds the hop.
 * The hop is also copied to `copy` and `mirror` when they are not NULL (one pass
 * for the streaming path); 8 samples per iteration (LDM/STM of four words). */
static uint32_t magnitude_bits(const int16_t* x, int16_t* copy, int16_t* mirror) {
  const int16_t* const end = x + KE_LOGMEL_Q_HOP;
  uint32_t acc = 0, v0, v1, v2, v3;
  for (; x < end; x += 8) {
    memcpy(&v0, x, sizeof v0);
    memcpy(&v1, x + 2, sizeof v1);
    memcpy(&v2, x + 4, sizeof v2);
    memcpy(&v3, x + 6, sizeof v3);
    if (copy != NULL) {
      memcpy(copy, &v0, sizeof v0);
      memcpy(copy + 2, &v1, sizeof v1);
      memcpy(copy + 4, &v2, sizeof v2);
      memcpy(copy + 6, &v3, sizeof v3);
      copy += 8;
    }
    if (mirror != NULL) {
      memcpy(mirror, &v0, sizeof v0);
      memcpy(mirror + 2, &v1, sizeof v1);
      memcpy(mirror + 4, &v2, sizeof v2);
      memcpy(mirror + 6, &v3, sizeof v3);
      mirror += 8;
    }
    acc |= ke_abs16x2(v0) | ke_abs16x2(v1) | ke_abs16x2(v2) | ke_abs16x2(v3);
  }
  return (acc | (acc >> 16)) & 0xFFFFu;
}

#ifdef KE_DSP16_NATIVE
/* The streaming hop: magnitude_bits with the copies, 8 samples per LDM and per STM (one
 * instruction per four words; LDM / STM need word-aligned addresses: the caller checks
 * the hop, the history is aligned).  The registers of the four words are fixed because
 * an LDM / STM register list is ascending. */
static KE_ALWAYS_INLINE uint32_t hop_bits_ldm(const int16_t* x, int16_t* copy,
                                               int16_t* mirror, const int has_mirror) {
  const uint32_t* src = (const uint32_t*)(const void*)x;
  const uint32_t* const end = src + KE_LOGMEL_Q_HOP / 2;
  uint32_t* dst = (uint32_t*)(void*)copy;
  uint32_t* dst2 = (uint32_t*)(void*)mirror;
  uint32_t acc = 0;
  do {
    register uint32_t v0 __asm__("r4");
    register uint32_t v1 __asm__("r5");
    register uint32_t v2 __asm__("r6");
    register uint32_t v3 __asm__("r8");
    __asm__("ldmia %4!, {%0, %1, %2, %3}"
            : "=r"(v0), "=r"(v1), "=r"(v2), "=r"(v3), "+r"(src)
            : "m"(*(const uint32_t(*)[4])src));
    __asm__("stmia %0!, {%2, %3, %4, %5}"
            : "+r"(dst), "=m"(*(uint32_t(*)[4])dst)
            : "r"(v0), "r"(v1), "r"(v2), "r"(v3));
    if (has_mirror) {
      __asm__("stmia %0!, {%2, %3, %4, %5}"
              : "+r"(dst2), "=m"(*(uint32_t(*)[4])dst2)
              : "r"(v0), "r"(v1), "r"(v2), "r"(v3));
    }
    acc |= ke_abs16x2(v0) | ke_abs16x2(v1) | ke_abs16x2(v2) | ke_abs16x2(v3);
  } while (src != end);
  return (acc | (acc >> 16)) & 0xFFFFu;
}
#endif

/* The OR of |x| of one streaming hop (see magnitude_bits), copied to `copy` and, if not
 * NULL, to `mirror` (both word-aligned). */
static uint32_t hop_bits(const int16_t* x, int16_t* copy, int16_t* mirror) {
#ifdef KE_DSP16_NATIVE
  if (((uintptr_t)(const void*)x & 3u) == 0) {
    return mirror != NULL ? hop_bits_ldm(x, copy, mirror, 1) : hop_bits_ldm(x, copy, NULL, 0);
  }
#endif
  return magnitude_bits(x, copy, mirror);
}

/* One bin pair of the real split step (see compute_frame): u = Z_k, v = Z_{256-k},
 * w = split[k]; *pk = |X_k|^2, *pn = |X_{256-k}|^2. */
static KE_ALWAYS_INLINE void split_bin(uint32_t* pk, uint32_t* pn, uint32_t u, uint32_t v,
                                       uint32_t w) {
  const uint32_t sum = ke_shadd16(u, v), diff = ke_shsub16(u, v);
  const uint32_t t = cmul(ke_pkhbt(diff, sum), w);
  const uint32_t e = ke_pkhbt(sum, diff);
  const uint32_t xp = ke_qadd16(e, t), xm = ke_qsub16(e, t);
  *pn = (uint32_t)ke_smuad(xm, xm);
  *pk = (uint32_t)ke_smuad(xp, xp);
}

/* Mel and log of one frame's power spectrum (s->power), block exponent b.
 *
 * Band by band, the falling side closes filter m - 1, the rising side opens filter m.
 * z scaled 2^(29 - b), FFT 2^-8 => |X|^2 carries 2^(42 - 2b) and sums below 2^31 over
 * all bins (Parseval: |windowed x| < 2^14 over 480 samples), the Q15 weights and the
 * >> 16 of SMLAWB give sums carrying 2^(41 - 2b), below 2^30.  Each filter's sum gets
 * (acc >> eps_shift[b]) + eps[b]; with no shift (`shifted` 0, the usual case) eps is
 * the sum's starting value instead (the same bits modulo 2^32), which saves the shift,
 * the add and two registers. */
static KE_ALWAYS_INLINE void mel_log(const ke_logmel_q_state* s, int32_t b, int16_t* out,
                                     const int shifted) {
  const int32_t sh = shifted ? s->eps_shift[b] : 0;
  const uint32_t eps = s->eps[b];
  const int32_t start = shifted ? 0 : (int32_t)eps;
  /* out = round(2^10 ln(acc 2^-(41 - 2b))): (31 - z + sh - 41 + 2b) ln 2 in Q20
   * plus the mantissa's ln, + 2^9 to round; the constant part once per frame. */
  const int32_t base = (sh - 10 + 2 * b) * LN2_Q20 + 512;
  const uint16_t* bins = s->band_bins;
  const int32_t mels = s->config.num_mels;
  /* bands are contiguous: power and weight step together, two bins per LDRD */
  const uint32_t* q = s->power + s->band_start[0];
  const uint32_t* wq = s->weight + s->band_start[0];
  int32_t lo = 0, hi = start, m;
  /* Band m: hi += rising side (filter m), lo += falling side (filter m - 1). */
#define KE_BAND(n_bins)                                   \
  do {                                                    \
    const uint32_t n = (n_bins);                          \
    const uint32_t* const end = q + n;                    \
    if (n & 1) { /* odd number of bins: one, then pairs */ \
      const int32_t p0 = (int32_t)*q++;                   \
      const uint32_t w0 = *wq++;                          \
      hi = ke_smlawb(p0, w0, hi);                         \
      lo = ke_smlawt(p0, w0, lo);                         \
    }                                                     \
    while (q != end) {                                    \
      uint32_t p0, p1, w0, w1;                            \
      KE_LOAD2_STEP(q, 2, p0, p1);                        \
      KE_LOAD2_STEP(wq, 2, w0, w1);                       \
      hi = ke_smlawb((int32_t)p0, w0, hi);                \
      lo = ke_smlawt((int32_t)p0, w0, lo);                \
      hi = ke_smlawb((int32_t)p1, w1, hi);                \
      lo = ke_smlawt((int32_t)p1, w1, lo);                \
    }                                                     \
  } while (0)
  KE_BAND(bins[0]); /* band 0 only opens filter 0 */
  for (m = 1; m <= mels; ++m) {
    lo = hi;
    hi = start;
    KE_BAND(bins[m]);
    {
      const uint32_t v = shifted ? ((uint32_t)lo >> sh) + eps : (uint32_t)lo;
      const int z = clz32(v);
      const int32_t ln = base - z * LN2_Q20 + ln_frac_q20(v << z);
      out[m - 1] = (int16_t)ke_ssat16(ln >= 0 ? ln >> 10 : ~(~ln >> 10));
    }
  }
#undef KE_BAND
}

/* One frame from 480 contiguous samples whose magnitude OR is `bits`. */
static void compute_frame(ke_logmel_q_state* s, const int16_t* x, uint32_t bits, int16_t* out) {
  uint32_t* z = s->fft;
  int32_t b = 0;
  if (bits != 0) b = 32 - clz32(bits); /* 0..16: every |x| < 2^b, so |z| < 2^14 */
  fft256(z, s->twiddle, x, s->window, s->reverse, 1 + b);
  z[N] = z[0]; /* periodic: the split step reads Z_{256 - k} for k = 0 too */
  /* Real split step: X_k = E_k + W^k O_k and X_{256-k} = conj(E_k - W^k O_k) with
   * E = (Z_k + conj Z_{256-k}) / 2, O = (Z_k - conj Z_{256-k}) / 2i (Sorensen et
   * al., IEEE TASSP 1987), so one twiddle product serves two bins.  O = -j O' with
   * O' = ((a - c) / 2, (b + d) / 2), folded into the table: split[k] = -j W^k. */
  {
    /* Bins k, k + 1 per iteration: Z_k, Z_{k+1}, Z_{255-k}, Z_{256-k} and the two
     * twiddles are three LDRD, the powers of k, k + 1 and 255 - k, 256 - k two STRD
     * (all post-indexed); bin 128 (its own mirror) after the loop. */
    const uint32_t* zk = z;
    const uint32_t* zn = z + N - 1; /* Z_{255-k}, Z_{256-k}; Z_256 is Z_0 */
    const uint32_t* tw = s->split;
    uint32_t* pk = s->power;
    uint32_t* pn = s->power + N - 1;
    uint32_t* const mid = s->power + N / 2;
    do {
      uint32_t u0, u1, v1, v0, w0, w1, pk0, pk1, pn0, pn1;
      KE_LOAD2_STEP(zk, 2, u0, u1);
      KE_LOAD2_STEP(zn, -2, v1, v0);
      KE_LOAD2_STEP(tw, 2, w0, w1);
      split_bin(&pk0, &pn0, u0, v0, w0);
      split_bin(&pk1, &pn1, u1, v1, w1);
      KE_STORE2_STEP(pk, 2, pk0, pk1);
      KE_STORE2_STEP(pn, -2, pn1, pn0);
    } while (pk != mid);
    {
      uint32_t p128, unused;
      split_bin(&p128, &unused, *zk, *zk, *tw);
      *pk = p128;
    }
  }
  if (s->eps_shift[b] == 0) {
    mel_log(s, b, out, 0);
  } else {
    mel_log(s, b, out, 1);
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
      hop_bits(hop_samples, dest, slot < 2 ? dest + KE_LOGMEL_Q_WINDOW : NULL);
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
