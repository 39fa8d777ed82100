/* Delta encoding and delta-memory products shared by the delta ops (ke_delta.h). */
#include "ke_delta.h"

#include <math.h>

#include "ke_sparse.h"

const char* ke_delta_status_string(int status) {
  switch (status) {
    case KE_OK: return "ok";
    case KE_ERR_SIZE: return "units or input size out of range";
    case KE_ERR_BIAS: return "an int32 bias is outside +-2^30";
    case KE_ERR_SCALE:
      return "a quantization scale is not positive/finite or its multiplier is out of range";
    case KE_ERR_THRESHOLD: return "a threshold is negative, not finite, or (int8) above 255";
    case KE_ERR_RANGE:
      return "the int32 delta memory could exceed the range the requantization allows: the "
             "input/output scales are too coarse for the weights (re-quantize with a "
             "representative dataset)";
    default: return "unknown delta-op status";
  }
}

uint32_t ke_delta_update_f32(const float* v, float* v_hat, float theta, const ke_delta_matrix* w,
                             float* mem, int32_t* sent) {
  const float* values = (const float*)w->values;
  const int16_t* index = w->index;
  const int32_t* offsets = w->offsets;
  const int32_t cols = w->cols;
  uint32_t macs = 0;
  int32_t i, k, n, count = 0;
  for (i = 0; i < w->rows; ++i) {
    const float d = v[i] - v_hat[i];
    const int32_t begin = offsets[i], end = offsets[i + 1];
    if (!(d > theta || -d > theta)) continue;
    v_hat[i] = v[i];
    ++count;
    if (end - begin == cols) { /* dense row: contiguous, vectorizable */
      const float* row = values + begin;
      for (k = 0; k < cols; ++k) mem[k] += d * row[k];
    } else {
      for (n = begin; n < end; ++n) mem[ke_sparse_column(index, n)] += d * values[n];
    }
    macs += (uint32_t)(end - begin);
  }
  if (sent) *sent = count;
  return macs;
}

uint32_t ke_delta_update_i8(const int8_t* v, int8_t* v_hat, int32_t theta_q,
                            const ke_delta_matrix* w, int32_t* mem, int32_t* sent) {
  const int8_t* values = (const int8_t*)w->values;
  const int16_t* index = w->index;
  const int32_t* offsets = w->offsets;
  const int32_t cols = w->cols, rows = w->rows;
  const int block4 = ke_sparse_is_block4(index, offsets[rows]);
  uint32_t macs = 0;
  int32_t i, count = 0;
  for (i = 0; i < rows; ++i) {
    const int32_t d = (int32_t)v[i] - (int32_t)v_hat[i];
    if (d <= theta_q && d >= -theta_q) continue; /* most components: two compares */
    v_hat[i] = v[i];
    ++count;
    macs += (uint32_t)ke_sparse_row_mac_i8(mem, values, index, offsets, i, cols, d, block4);
  }
  if (sent) *sent = count;
  return macs;
}

int ke_delta_multipliers(int32_t units, int32_t gates, float a_scale, const float* w_scale,
                         float g_scale, const float* v_scale, int32_t* unit_consts, int32_t words,
                         int32_t* acc_shift) {
  const double pre = (double)(1 << KE_DELTA_PRE_FRAC_BITS);
  const int32_t cols = gates * units;
  double largest = 0.0, unit = 0.0;
  int32_t k, shift;
  if (units < 1 || gates * units > 32767) return KE_ERR_SIZE;
  if (!((double)a_scale > 1e-30 && (double)a_scale < 1e30) ||
      !((double)g_scale > 1e-30 && (double)g_scale < 1e30))
    return KE_ERR_SCALE;
  for (k = 0; k < cols; ++k) {
    /* float*float is exact in double, so NumPy reproduces these bit for bit. */
    const double a = (double)a_scale * (double)w_scale[k] * pre;
    const double g = (double)g_scale * (double)v_scale[k] * pre;
    if (!((double)w_scale[k] > 1e-30 && (double)w_scale[k] < 1e30) ||
        !((double)v_scale[k] > 1e-30 && (double)v_scale[k] < 1e30))
      return KE_ERR_SCALE;
    if (a > largest) largest = a;
    if (g > largest) largest = g;
  }
  /* The smallest L >= 0 that keeps every multiplier round(M 2^(32-L)) < 2^31. */
  for (shift = 0; shift <= KE_DELTA_MAX_ACC_SHIFT; ++shift) {
    unit = (double)((int64_t)1 << (32 - shift));
    if (largest * unit + 0.5 < 2147483648.0) break;
  }
  if (shift > KE_DELTA_MAX_ACC_SHIFT) return KE_ERR_SCALE;
  for (k = 0; k < cols; ++k) {
    int32_t* m = unit_consts + words * (k % units) + 2 * (k / units);
    m[0] = (int32_t)floor((double)a_scale * (double)w_scale[k] * pre * unit + 0.5);
    m[1] = (int32_t)floor((double)g_scale * (double)v_scale[k] * pre * unit + 0.5);
  }
  *acc_shift = shift;
  return KE_OK;
}

int ke_delta_output_multiplier(float y_scale, int32_t* m, int32_t* n) {
  const double real = 1.0 / ((double)(1 << KE_DELTA_STATE_FRAC_BITS) * (double)y_scale);
  double v;
  int32_t shift;
  if (!((double)y_scale > 0.0 && (double)y_scale < 1e30)) return KE_ERR_SCALE;
  for (shift = 1; shift <= 30; ++shift) {
    v = real * (double)((int64_t)1 << shift);
    if (v >= 16384.0 && v < 32768.0) break;
  }
  if (shift > 30) return KE_ERR_SCALE;
  *m = (int32_t)floor(v + 0.5);
  *n = shift;
  if (*m == 32768) { /* rounded up to 2^15: one bit less */
    if (shift == 1) return KE_ERR_SCALE;
    *m = 16384;
    *n = shift - 1;
  }
  return KE_OK;
}

int ke_delta_check_memory(const ke_delta_matrix* w, const int32_t* bias, int32_t zero_point,
                          int32_t acc_shift) {
  const int64_t limit = ((int64_t)1 << (31 - acc_shift)) - 1;
  static const int32_t kNoBias = 0;
  int32_t k;
  if (bias) {
    for (k = 0; k < w->cols; ++k)
      if (bias[k] > KE_DELTA_MAX_BIAS_I32 || bias[k] < -KE_DELTA_MAX_BIAS_I32) return KE_ERR_BIAS;
  }
  /* ke_sparse_acc_bound_i8 reads bias[0..cols-1]: without a bias, the largest of the weights'
   * contributions alone (one zero "bias" column is enough for the bound). */
  if (ke_sparse_acc_bound_i8(w->rows, (const int8_t*)w->values, w->offsets,
                             bias ? bias : &kNoBias, bias ? w->cols : 1, zero_point) > limit)
    return KE_ERR_RANGE;
  return KE_OK;
}

int ke_delta_i8_prepare(int32_t units, int32_t gates, int32_t max_units, int32_t words,
                        float x_scale, const float* w_scale, float y_scale, const float* v_scale,
                        int32_t* unit_consts, int32_t* acc_shift, int32_t* y_multiplier,
                        int32_t* y_shift) {
  int status;
  if (units < 1 || units > max_units) return KE_ERR_SIZE;
  status = ke_delta_multipliers(units, gates, x_scale, w_scale, y_scale, v_scale, unit_consts,
                                words, acc_shift);
  if (status != KE_OK) return status;
  return ke_delta_output_multiplier(y_scale, y_multiplier, y_shift);
}

int ke_delta_i8_check_constants(const ke_delta_i8_params* p, const int32_t* recurrent_bias) {
  int status;
  if (p->x_threshold < 0 || p->x_threshold > KE_DELTA_MAX_THRESHOLD_Q || p->h_threshold < 0 ||
      p->h_threshold > KE_DELTA_MAX_THRESHOLD_Q)
    return KE_ERR_THRESHOLD;
  if (p->acc_shift < 0 || p->acc_shift > KE_DELTA_MAX_ACC_SHIFT) return KE_ERR_SCALE;
  status = ke_delta_check_memory(&p->w, p->bias, p->x_zero_point, p->acc_shift);
  if (status == KE_OK)
    status = ke_delta_check_memory(&p->v, recurrent_bias, p->y_zero_point, p->acc_shift);
  return status;
}
