/* KE_EGRU_EMB as a TFLite custom op (ke_op.h): options, inputs, checks, memory and the
 * step loop over batch and time, for both generic glues.  The math is in ke_egru_emb.c.
 *
 * Inputs (float model):  x float32 [B, T, I], kernel [I, 2U], recurrent_kernel [U, 2U],
 *                        bias [2U] (float32, the power-of-two weights as floats).
 * Inputs (int8 model):   x int8 [B, T, I], w_codes int8 [ceil(U/4), 4 * PADDED_ROWS(I)],
 *                        u_codes int8 [ceil(U/4), 4 * PADDED_ROWS(U)] (shift codes in
 *                        the layout of ke_egru_emb.h),
 *                        bias int32 [2U] (Q15).
 * The int8 model runs the Q15 kernel: x is requantized to Q15 (saturating at +-1) and
 * h (Q15) to the int8 output's scale; the state h stays Q15 between steps.
 * Streaming as KE_EGRU: option `streaming`, or when absent time == 1, keeps h between
 * invokes (batch 1). */
#include "ke_egru_emb.h"
#include "ke_fixed.h"
#include "ke_op.h"

enum { OPT_UNITS = 0, OPT_RETURN_SEQUENCES, OPT_STREAMING };

static const ke_option kOptions[] = {
    {"units", 0, 1, 1, KE_EGRU_EMB_MAX_UNITS, 0},
    {"return_sequences", 1, 0, 0, 1, 0},
    {"streaming", 1, 0, 0, 1, -1},
};

enum { IN_X = 0, IN_KERNEL, IN_RECURRENT, IN_BIAS, NUM_INPUTS };
static const char* const kFloatNames[] = {"x", "kernel", "recurrent_kernel", "bias"};
static const char* const kInt8Names[] = {"x", "w_codes", "u_codes", "bias"};

enum { INFO_INT8 = 0, INFO_STREAMING, INFO_BATCH, INFO_TIME, INFO_FEATURES };

typedef struct {
  int32_t x_zero_point, x_multiplier, x_shift;
  int32_t y_zero_point, y_multiplier, y_shift;
} emb_header;

static size_t layout(int32_t units, int is_int8, void* base, emb_header** h, void** state) {
  size_t offset = 0;
  *h = (emb_header*)ke_carve(base, &offset, sizeof(emb_header));
  *state = ke_carve(base, &offset, (size_t)units * (is_int8 ? sizeof(int16_t) : sizeof(float)));
  return offset;
}

static int check(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 int32_t num_inputs, const ke_tensor* out, ke_plan* plan) {
  const int32_t units = opt[OPT_UNITS];
  const ke_tensor* x = &in[IN_X];
  ke_sequence_io io;
  if (!ke_check_sequence_io(r, x, out, units, opt[OPT_RETURN_SEQUENCES], opt[OPT_STREAMING],
                            KE_EGRU_EMB_MAX_ROWS, plan, &io))
    return 0;
  const int is_int8 = x->type == KE_DTYPE_INT8;
  if (num_inputs != NUM_INPUTS)
    return ke_fail(r, "needs %d inputs (x, %s), got %d.", NUM_INPUTS,
                   is_int8 ? "w_codes, u_codes, bias" : "kernel, recurrent_kernel, bias",
                   (int)num_inputs);
  const int32_t batch = io.batch, time = io.time, features = io.features;
  const int streaming = io.streaming;
  if (ke_egru_emb_check_sizes(features, units) != 0)
    return ke_fail(r, "input shape [%d, %d, %d] with units %d unsupported (features + units "
                   "<= %d).", (int)batch, (int)time, (int)features, (int)units,
                   KE_EGRU_EMB_MAX_ROWS);
  if (is_int8) {
    if (!ke_check_const(r, &in[IN_KERNEL], IN_KERNEL, kInt8Names[IN_KERNEL], KE_DTYPE_INT8,
                        KE_EGRU_EMB_GROUPS(units), 4 * KE_EGRU_EMB_PADDED_ROWS(features)) ||
        !ke_check_const(r, &in[IN_RECURRENT], IN_RECURRENT, kInt8Names[IN_RECURRENT],
                        KE_DTYPE_INT8, KE_EGRU_EMB_GROUPS(units),
                        4 * KE_EGRU_EMB_PADDED_ROWS(units)) ||
        !ke_check_const(r, &in[IN_BIAS], IN_BIAS, kInt8Names[IN_BIAS], KE_DTYPE_INT32,
                        2 * units, -1) ||
        !ke_check_int8_activation(r, x, "input `x`") ||
        !ke_check_int8_activation(r, out, "output"))
      return 0;
    if (ke_egru_emb_check_bias((const int32_t*)in[IN_BIAS].data, 2 * units) != 0)
      return ke_fail(r, "input 3 `bias` has a Q15 value beyond +-%d (|bias| < 2^14).",
                     KE_EGRU_EMB_MAX_BIAS);
    plan->scratch_bytes =
        sizeof(int16_t) * ((size_t)KE_EGRU_EMB_TABLE_ENTRIES(features, units) + features);
  } else {
    if (!ke_check_const(r, &in[IN_KERNEL], IN_KERNEL, kFloatNames[IN_KERNEL],
                        KE_DTYPE_FLOAT32, features, 2 * units) ||
        !ke_check_const(r, &in[IN_RECURRENT], IN_RECURRENT, kFloatNames[IN_RECURRENT],
                        KE_DTYPE_FLOAT32, units, 2 * units) ||
        !ke_check_const(r, &in[IN_BIAS], IN_BIAS, kFloatNames[IN_BIAS], KE_DTYPE_FLOAT32,
                        2 * units, -1))
      return 0;
    plan->scratch_bytes = sizeof(float) * 2 * (size_t)units;
  }
  plan->info[INFO_INT8] = is_int8;
  plan->info[INFO_STREAMING] = streaming;
  plan->info[INFO_BATCH] = batch;
  plan->info[INFO_TIME] = time;
  plan->info[INFO_FEATURES] = features;
  emb_header* h;
  void* state;
  plan->persistent_bytes = layout(units, is_int8, NULL, &h, &state);
  return 1;
}

static void reset(const int32_t* opt, const ke_plan* plan, void* persistent) {
  emb_header* h;
  void* state;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], persistent, &h, &state);
  for (int32_t j = 0; j < opt[OPT_UNITS]; ++j) {
    if (plan->info[INFO_INT8])
      ((int16_t*)state)[j] = 0;
    else
      ((float*)state)[j] = 0.0f;
  }
}

static int setup(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 const ke_tensor* out, const ke_plan* plan, void* persistent) {
  emb_header* h;
  void* state;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], persistent, &h, &state);
  if (plan->info[INFO_INT8]) {
    /* x (int8) -> Q15: (q - zp) * x_scale * 2^15;  h (Q15) -> int8: h / (2^15 y_scale). */
    h->x_zero_point = in[IN_X].zero_point;
    h->y_zero_point = out->zero_point;
    if (ke_quantize_multiplier((double)in[IN_X].scale * KE_EGRU_EMB_ONE, &h->x_multiplier,
                               &h->x_shift) != 0 || h->x_shift > 20 || h->x_shift < -31)
      return ke_fail(r, "input scale %g is outside the supported range.",
                     (double)in[IN_X].scale);
    if (ke_quantize_multiplier(1.0 / ((double)out->scale * KE_EGRU_EMB_ONE), &h->y_multiplier,
                               &h->y_shift) != 0 || h->y_shift > 20 || h->y_shift < -31)
      return ke_fail(r, "output scale %g is outside the supported range.", (double)out->scale);
  }
  reset(opt, plan, persistent);
  return 1;
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void eval_int8(const int32_t* opt, const ke_plan* plan, emb_header* hd, int16_t* h,
                      const void* const* in, int8_t* out, int16_t* scratch, uint64_t* macs) {
  const int32_t units = opt[OPT_UNITS], features = plan->info[INFO_FEATURES];
  const int32_t batch = plan->info[INFO_BATCH], time = plan->info[INFO_TIME];
  const int rs = opt[OPT_RETURN_SEQUENCES];
  const ke_egru_emb_q15_params p = {features, units, (const uint8_t*)in[IN_KERNEL],
                                    (const uint8_t*)in[IN_RECURRENT],
                                    (const int32_t*)in[IN_BIAS]};
  int16_t* xq = scratch;
  int16_t* tables = scratch + features;
  const int8_t* x = (const int8_t*)in[IN_X];
  for (int32_t b = 0; b < batch; ++b) {
    if (!plan->info[INFO_STREAMING])
      for (int32_t j = 0; j < units; ++j) h[j] = 0;
    for (int32_t t = 0; t < time; ++t) {
      const int8_t* xt = x + ((int64_t)b * time + t) * features;
      for (int32_t i = 0; i < features; ++i)
        xq[i] = (int16_t)clamp(ke_mul_by_multiplier(xt[i] - hd->x_zero_point, hd->x_multiplier,
                                                    hd->x_shift), -32767, 32767);
      ke_egru_emb_q15_step(&p, xq, h, tables);
      if (rs || t == time - 1) {
        int8_t* o = out + (rs ? ((int64_t)b * time + t) : b) * units;
        for (int32_t j = 0; j < units; ++j)
          o[j] = (int8_t)clamp(hd->y_zero_point +
                                   ke_mul_by_multiplier(h[j], hd->y_multiplier, hd->y_shift),
                               -128, 127);
      }
    }
  }
  /* Shift-adds: every weight, every step (the cell is dense). */
  if (macs) *macs += (uint64_t)batch * time * 2u * units * (uint64_t)(features + units);
}

static void eval_float(const int32_t* opt, const ke_plan* plan, float* h, const void* const* in,
                       float* out, float* scratch, uint64_t* macs) {
  const int32_t units = opt[OPT_UNITS], features = plan->info[INFO_FEATURES];
  const int32_t batch = plan->info[INFO_BATCH], time = plan->info[INFO_TIME];
  const int rs = opt[OPT_RETURN_SEQUENCES];
  const ke_egru_emb_f32_params p = {features, units, (const float*)in[IN_KERNEL],
                                    (const float*)in[IN_RECURRENT], (const float*)in[IN_BIAS]};
  const float* x = (const float*)in[IN_X];
  for (int32_t b = 0; b < batch; ++b) {
    if (!plan->info[INFO_STREAMING])
      for (int32_t j = 0; j < units; ++j) h[j] = 0.0f;
    for (int32_t t = 0; t < time; ++t) {
      ke_egru_emb_f32_step(&p, x + ((int64_t)b * time + t) * features, h, scratch);
      if (rs || t == time - 1) {
        float* o = out + (rs ? ((int64_t)b * time + t) : b) * units;
        for (int32_t j = 0; j < units; ++j) o[j] = h[j];
      }
    }
  }
  if (macs) *macs += (uint64_t)batch * time * 2u * units * (uint64_t)(features + units);
}

static void eval(const int32_t* opt, const ke_plan* plan, void* persistent,
                 const void* const* in, void* out, void* scratch, uint64_t* macs) {
  emb_header* h;
  void* state;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], persistent, &h, &state);
  if (plan->info[INFO_INT8])
    eval_int8(opt, plan, h, (int16_t*)state, in, (int8_t*)out, (int16_t*)scratch, macs);
  else
    eval_float(opt, plan, (float*)state, in, (float*)out, (float*)scratch, macs);
}

const ke_op_def ke_op_KE_EGRU_EMB = {
    kOptions, (int32_t)(sizeof(kOptions) / sizeof(kOptions[0])), NUM_INPUTS,
    check, setup, reset, eval,
};
