/* Dense int8 EGRU step with SMLAD dual MACs: the honest dense baseline of
 * benchmarks/micro_bench.py (issue 17).
 *
 * Same gates, tables, fused requantizations and state update as ke_egru_i8_step
 * (custom_ops/README.md, "Numerics of the int8 path"); only the two matrix products differ:
 * every weight stored, per output column (transposed: [3U][I4] and [3U][U4], rows padded with
 * zeros to a multiple of 4), inputs offset by their zero point once per step into int16
 * pairs, two output columns per pass and two MACs per SMLAD (the scheme of CMSIS-NN's
 * arm_nn_vec_mat_mult_t_s8, written here from the ACLE intrinsics __sxtb16 / __smlad).
 * Integer sums are exact in any order, so the outputs equal ke_egru_i8_step's with every
 * weight stored, bit for bit.  Without the DSP extension (hosts) the same arithmetic runs in
 * plain C. */
#ifndef KE_DENSE_SMLAD_H_
#define KE_DENSE_SMLAD_H_

#include <stdint.h>

#include "ke_egru.h"

#define KE_DENSE_PAD4(n) (((n) + 3) & ~3)

typedef struct {
  /* shapes, bias, unit constants, zero points (its sparse matrices are not read) */
  const ke_egru_i8_params* p;
  const int8_t* wt; /* [3U][KE_DENSE_PAD4(I)] input weights, one row per output column */
  const int8_t* vt; /* [3U][KE_DENSE_PAD4(U)] recurrent weights, one row per output column */
} ke_dense_i8_params;

/* int16 scratch for the offset inputs: KE_DENSE_PAD4(max(I, U)); int32 scratch: 6U. */
#define KE_DENSE_I16_SCRATCH(i, u) ((size_t)KE_DENSE_PAD4((i) > (u) ? (i) : (u)))

/* One step: y_t and chat_t in `s` (its active list is rebuilt as by ke_egru_i8_step). */
void ke_dense_i8_step(const ke_dense_i8_params* d, const int8_t* x, ke_egru_i8_state* s,
                      int16_t* xbuf, int32_t* scratch);

#endif  /* KE_DENSE_SMLAD_H_ */
