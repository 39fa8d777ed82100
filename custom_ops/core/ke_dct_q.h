/* KE_DCT_Q: the MFCC step of a keyword front end in fixed point, portable C99.
 *
 * MFCCs are an orthonormal DCT-II over the log-mel bands (as scipy.fft.dct(norm="ortho"),
 * keeping coefficients 0..num_coeffs-1; Davis & Mermelstein, IEEE TASSP 1980): the DS-CNN
 * baseline of the keyword recipe (recipes/kws/dscnn.py) runs it on every other frame of
 * ke_logmel_q, so its cost on the board belongs to that model's always-on cost.
 *
 *   in:  int16 log-mel in Q10 (ke_logmel_q's output), num_mels values
 *   basis: int16 Q15, num_coeffs rows of num_mels (built once by ke_dct_q_basis)
 *   out: int32 MFCC in Q10, round(sum in * basis / 2^15), exact 64-bit sums (SMLALD
 *        on a core with the DSP extension: two MACs per instruction)
 *
 * Host and board give the same bits (ke_dsp16.h).  Bad arguments give a negative
 * ke_dct_q_status and write nothing. */
#ifndef KE_DCT_Q_H_
#define KE_DCT_Q_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_DCT_Q_MAX_MELS 128

typedef enum {
  KE_DCT_Q_OK = 0,
  KE_DCT_Q_ERR_NULL = -1, /* a required pointer is NULL                             */
  KE_DCT_Q_ERR_SIZE = -2  /* need 1 <= num_mels <= 128, 1 <= num_coeffs <= num_mels */
} ke_dct_q_status;

/* The orthonormal DCT-II rows 0..num_coeffs-1 for num_mels bands, Q15 (row k at
 * basis + k * num_mels). */
int ke_dct_q_basis(int32_t num_mels, int32_t num_coeffs, int16_t* basis);

/* out[k] = round(sum_n in[n] basis[k][n] / 2^15), k < num_coeffs. */
int ke_dct_q(const int16_t* in, int32_t num_mels, const int16_t* basis, int32_t num_coeffs,
             int32_t* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_DCT_Q_H_ */
