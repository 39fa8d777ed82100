/* KE_DCT_Q: fixed-point MFCC step (see ke_dct_q.h). */
#include "ke_dct_q.h"

#include <math.h>
#include <string.h>

#include "ke_dsp16.h"

static int bad_size(int32_t num_mels, int32_t num_coeffs) {
  return num_mels < 1 || num_mels > KE_DCT_Q_MAX_MELS || num_coeffs < 1 || num_coeffs > num_mels;
}

int ke_dct_q_basis(int32_t num_mels, int32_t num_coeffs, int16_t* basis) {
  const double pi = 3.14159265358979323846;
  int32_t k, n;
  if (basis == NULL) return KE_DCT_Q_ERR_NULL;
  if (bad_size(num_mels, num_coeffs)) return KE_DCT_Q_ERR_SIZE;
  for (k = 0; k < num_coeffs; ++k) {
    /* X_k = s_k sum_n x_n cos(pi k (2n + 1) / 2N), s_0 = sqrt(1/N), s_k = sqrt(2/N). */
    const double s = sqrt((k == 0 ? 1.0 : 2.0) / num_mels);
    for (n = 0; n < num_mels; ++n) {
      const double v = floor(s * cos(pi * k * (2 * n + 1) / (2.0 * num_mels)) * 32768.0 + 0.5);
      basis[k * num_mels + n] = (int16_t)(v > 32767.0 ? 32767 : (v < -32768.0 ? -32768 : v));
    }
  }
  return KE_DCT_Q_OK;
}

int ke_dct_q(const int16_t* in, int32_t num_mels, const int16_t* basis, int32_t num_coeffs,
             int32_t* out) {
  int32_t k, n;
  if (in == NULL || basis == NULL || out == NULL) return KE_DCT_Q_ERR_NULL;
  if (bad_size(num_mels, num_coeffs)) return KE_DCT_Q_ERR_SIZE;
  for (k = 0; k < num_coeffs; ++k) {
    const int16_t* b = basis + k * num_mels;
    int64_t acc = (int64_t)1 << 14; /* rounding */
    uint32_t xv, bv;
    /* Pairs: one dual 16 x 16 multiply-accumulate into 64 bits per two bands (the
     * sum of 128 products of 2^15 x 2^15 can exceed 32 bits). */
    for (n = 0; n + 1 < num_mels; n += 2) {
      memcpy(&xv, in + n, sizeof xv);
      memcpy(&bv, b + n, sizeof bv);
      acc = ke_smlald(xv, bv, acc);
    }
    if (n < num_mels) acc += (int64_t)in[n] * b[n];
    /* |acc| < 2^37: the Q10 result fits in int32; floor shift spelled portably. */
    out[k] = (int32_t)(acc >= 0 ? acc >> 15 : ~(~acc >> 15));
  }
  return KE_DCT_Q_OK;
}
