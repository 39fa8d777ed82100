/* Out-of-line part of ke_fixed.h: the Prepare-time multiplier conversion. */
#include "ke_fixed.h"

int ke_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift) {
  int32_t e = 0;
  int64_t q;
  /* real != real catches NaN; the bounds reject inf and denormal-ish scales. */
  if (!(real > 0.0) || real != real || real > 1e30 || real < 1e-30) return KE_ERR_SCALE;
  while (real >= 1.0) { real *= 0.5; ++e; }   /* exact: powers of two */
  while (real < 0.5) { real *= 2.0; --e; }
  q = (int64_t)(real * 2147483648.0 + 0.5);
  if (q == ((int64_t)1 << 31)) { q >>= 1; ++e; }
  if (e > 30 || e < -31) return KE_ERR_SCALE;
  *multiplier = (int32_t)q;
  *shift = e;
  return KE_OK;
}
