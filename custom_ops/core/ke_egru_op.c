/* KE_EGRU as a TFLite custom op (ke_op.h): its options, inputs, every check of Prepare,
 * its memory and its step, for both generic glues.  The math is in ke_egru.c; the tensor
 * contract (inputs, options, formats) is documented in custom_ops/README.md.
 *
 * Streaming: with option `streaming` = true (or, when absent, a model that feeds one frame
 * per invoke, time = 1) the state is kept between invokes, so feeding a sequence frame by
 * frame equals running it whole; otherwise every invoke starts each sequence from zero. */
#include "ke_egru.h"
#include "ke_op.h"
#include "ke_sparse.h"

/* The host TFLite target runs whole sequences with the input products vectorized over time
 * (ke_egru_i8_run_seq); MCUs only run TFLite Micro, so their firmware leaves those out. */
#if defined(__ARM_ARCH)
#define HOST_SEQUENCE_VARIANTS 0
#else
#define HOST_SEQUENCE_VARIANTS 1
#endif

/* Options, in the order of ke_op_KE_EGRU.options. */
enum { OPT_UNITS = 0, OPT_RETURN_SEQUENCES, OPT_STREAMING };

static const ke_option kOptions[] = {
    {"units", 0, 1, 1, KE_EGRU_MAX_UNITS, 0},
    {"return_sequences", 1, 0, 0, 1, 0},
    {"streaming", 1, 0, 0, 1, -1}, /* -1: absent (streaming iff time == 1) */
};

/* Inputs, in order: float models have the first 9, int8 models all 11. */
enum {
  IN_X = 0, IN_W_VALUES, IN_W_INDEX, IN_W_OFFSETS, IN_V_VALUES, IN_V_INDEX, IN_V_OFFSETS,
  IN_BIAS, IN_THRESHOLD, IN_W_SCALE, IN_V_SCALE, NUM_INT8_INPUTS
};
#define NUM_FLOAT_INPUTS 9
static const char* const kInputNames[] = {"x", "w_values", "w_index", "w_offsets",
                                          "v_values", "v_index", "v_offsets", "bias",
                                          "threshold", "w_scale", "v_scale"};

/* What check() records in plan->info. */
enum { INFO_INT8 = 0, INFO_STREAMING, INFO_BATCH, INFO_TIME, INFO_FEATURES, INFO_GATHER_BYTES };

/* The persistent memory: this header, then the per-unit arrays (carved by layout()). */
typedef struct {
  int32_t n_active;  /* the active list is part of the carried state */
  int32_t x_zero_point, y_zero_point, acc_shift, y_multiplier, y_shift;
} egru_header;

typedef struct {
  egru_header* h;
  int32_t* unit_consts; /* int8: [U][KE_EGRU_UNIT_WORDS] */
  void* c_hat;          /* int16 Q0.15 or float [U] */
  void* y;              /* int8 or float [U] */
  int16_t* active;      /* [U] */
  void* w_gather;       /* int8 on TFLite Micro, W in block-4 form: its gather form, or NULL */
} egru_memory;

/* Carves the persistent memory at `base` (NULL: only sizes it); returns its size. */
static size_t layout(int32_t units, int is_int8, size_t gather_bytes, void* base,
                     egru_memory* m) {
  size_t offset = 0;
  const size_t u = (size_t)units;
  m->h = (egru_header*)ke_carve(base, &offset, sizeof(egru_header));
  m->unit_consts =
      (int32_t*)ke_carve(base, &offset, is_int8 ? sizeof(int32_t) * KE_EGRU_UNIT_WORDS * u : 0);
  m->c_hat = ke_carve(base, &offset, u * (is_int8 ? sizeof(int16_t) : sizeof(float)));
  m->y = ke_carve(base, &offset, u * (is_int8 ? sizeof(int8_t) : sizeof(float)));
  m->active = (int16_t*)ke_carve(base, &offset, u * sizeof(int16_t));
  m->w_gather = gather_bytes ? ke_carve(base, &offset, gather_bytes) : NULL;
  return offset;
}

static int check(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 int32_t num_inputs, const ke_tensor* out, ke_plan* plan) {
  const int32_t units = opt[OPT_UNITS];
  const ke_tensor* x = &in[IN_X];
  ke_sequence_io io;
  if (!ke_check_sequence_io(r, x, out, units, opt[OPT_RETURN_SEQUENCES], opt[OPT_STREAMING],
                            KE_EGRU_MAX_INPUT, plan, &io))
    return 0;
  const int is_int8 = x->type == KE_DTYPE_INT8;
  const int32_t expected = is_int8 ? NUM_INT8_INPUTS : NUM_FLOAT_INPUTS;
  if (num_inputs != expected)
    return ke_fail(r, "%s model needs %d inputs, got %d (see custom_ops/README.md).",
                   is_int8 ? "an int8" : "a float32", (int)expected, (int)num_inputs);
  const int32_t batch = io.batch, time = io.time, features = io.features;
  const int streaming = io.streaming;

  const ke_dtype wtype = is_int8 ? KE_DTYPE_INT8 : KE_DTYPE_FLOAT32;
  if (!ke_check_sparse(r, in, IN_W_VALUES, kInputNames, features, 3 * units, wtype) ||
      !ke_check_sparse(r, in, IN_V_VALUES, kInputNames, units, 3 * units, wtype) ||
      !ke_check_const(r, &in[IN_BIAS], IN_BIAS, kInputNames[IN_BIAS],
                      is_int8 ? KE_DTYPE_INT32 : KE_DTYPE_FLOAT32, 2, 3 * units) ||
      !ke_check_const(r, &in[IN_THRESHOLD], IN_THRESHOLD, kInputNames[IN_THRESHOLD],
                      is_int8 ? KE_DTYPE_INT16 : KE_DTYPE_FLOAT32, units, -1))
    return 0;
  if (is_int8 &&
      !(ke_check_const(r, &in[IN_W_SCALE], IN_W_SCALE, kInputNames[IN_W_SCALE],
                       KE_DTYPE_FLOAT32, 3 * units, -1) &&
        ke_check_const(r, &in[IN_V_SCALE], IN_V_SCALE, kInputNames[IN_V_SCALE],
                       KE_DTYPE_FLOAT32, 3 * units, -1) &&
        ke_check_int8_activation(r, x, "input `x`") &&
        ke_check_int8_activation(r, out, "output")))
    return 0;

  plan->info[INFO_INT8] = is_int8;
  plan->info[INFO_STREAMING] = streaming;
  plan->info[INFO_BATCH] = batch;
  plan->info[INFO_TIME] = time;
  plan->info[INFO_FEATURES] = features;
  /* TFLite Micro (one step at a time), int8, W pruned in 1 x 4 blocks: a gather form of W
   * in the persistent memory makes the input product ~1.3x cheaper on Cortex-M4
   * (ke_sparse.h); the host TFLite path has its own whole-sequence product. */
  plan->info[INFO_GATHER_BYTES] = 0;
  if (is_int8 && plan->target == KE_TARGET_MICRO)
    plan->info[INFO_GATHER_BYTES] = (int32_t)ke_sparse_gather_bytes(
        features, 3 * units, (const int16_t*)in[IN_W_INDEX].data,
        ((const int32_t*)in[IN_W_OFFSETS].data)[features]);
  egru_memory m;
  plan->persistent_bytes = layout(units, is_int8, (size_t)plan->info[INFO_GATHER_BYTES], NULL, &m);
  /* The host runs whole sequences with the input products vectorized over time. */
  if (!is_int8)
    plan->scratch_bytes = KE_EGRU_F32_SCRATCH(units) * sizeof(float);
  else if (plan->target == KE_TARGET_TFLITE && HOST_SEQUENCE_VARIANTS)
    plan->scratch_bytes = KE_EGRU_I8_SEQ_SCRATCH_BYTES(units, features, time);
  else
    plan->scratch_bytes = KE_EGRU_I8_SCRATCH(units) * sizeof(int32_t);
  return 1;
}

/* The core's parameters from the inputs' data (in[i] = input i's data). */
static ke_egru_i8_params int8_params(const int32_t* opt, const ke_plan* plan,
                                     const egru_memory* m, const void* const* in) {
  ke_egru_i8_params p;
  p.input_size = plan->info[INFO_FEATURES];
  p.units = opt[OPT_UNITS];
  p.w_values = (const int8_t*)in[IN_W_VALUES];
  p.w_index = (const int16_t*)in[IN_W_INDEX];
  p.w_offsets = (const int32_t*)in[IN_W_OFFSETS];
  p.v_values = (const int8_t*)in[IN_V_VALUES];
  p.v_index = (const int16_t*)in[IN_V_INDEX];
  p.v_offsets = (const int32_t*)in[IN_V_OFFSETS];
  p.bias = (const int32_t*)in[IN_BIAS];
  p.threshold = (const int16_t*)in[IN_THRESHOLD];
  p.x_zero_point = m->h->x_zero_point;
  p.y_zero_point = m->h->y_zero_point;
  p.unit_consts = m->unit_consts;
  p.acc_shift = m->h->acc_shift;
  p.y_multiplier = m->h->y_multiplier;
  p.y_shift = m->h->y_shift;
  p.w_gather = m->w_gather;
  return p;
}

static ke_egru_f32_params float_params(const int32_t* opt, const ke_plan* plan,
                                       const void* const* in) {
  ke_egru_f32_params p;
  p.input_size = plan->info[INFO_FEATURES];
  p.units = opt[OPT_UNITS];
  p.w_values = (const float*)in[IN_W_VALUES];
  p.w_index = (const int16_t*)in[IN_W_INDEX];
  p.w_offsets = (const int32_t*)in[IN_W_OFFSETS];
  p.v_values = (const float*)in[IN_V_VALUES];
  p.v_index = (const int16_t*)in[IN_V_INDEX];
  p.v_offsets = (const int32_t*)in[IN_V_OFFSETS];
  p.bias = (const float*)in[IN_BIAS];
  p.threshold = (const float*)in[IN_THRESHOLD];
  return p;
}

static void reset(const int32_t* opt, const ke_plan* plan, void* persistent) {
  egru_memory m;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], (size_t)plan->info[INFO_GATHER_BYTES], persistent, &m);
  if (plan->info[INFO_INT8]) {
    ke_egru_i8_state s = {(int16_t*)m.c_hat, (int8_t*)m.y, m.active, 0};
    ke_egru_i8_reset(&s, opt[OPT_UNITS], m.h->y_zero_point);
  } else {
    ke_egru_f32_state s = {(float*)m.c_hat, (float*)m.y, m.active, 0};
    ke_egru_f32_reset(&s, opt[OPT_UNITS]);
  }
  m.h->n_active = 0;
}

/* int8: the requantization multipliers from the scales, then the accumulator bounds. */
static int setup(const ke_reporter* r, const int32_t* opt, const ke_tensor* in,
                 const ke_tensor* out, const ke_plan* plan, void* persistent) {
  egru_memory m;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], (size_t)plan->info[INFO_GATHER_BYTES], persistent, &m);
  if (plan->info[INFO_INT8]) {
    egru_header* h = m.h;
    h->x_zero_point = in[IN_X].zero_point;
    h->y_zero_point = out->zero_point;
    int status = ke_egru_i8_prepare(
        opt[OPT_UNITS], in[IN_X].scale, (const float*)in[IN_W_SCALE].data, out->scale,
        (const float*)in[IN_V_SCALE].data, (const int16_t*)in[IN_THRESHOLD].data,
        m.unit_consts, &h->acc_shift, &h->y_multiplier, &h->y_shift);
    if (status != KE_OK) return ke_fail(r, "scales: %s.", ke_egru_status_string(status));
    /* The fire path requantizes a state |c| <= 2^15 by y_multiplier (< 2^31) shifted
     * right by 31 - y_shift, then adds the zero point in int32: y_shift <= 14 keeps that
     * sum and the shift in range with margin (y_shift > 14: an output scale below ~2e-9,
     * never calibrated). */
    if (h->y_shift > 14 || h->y_shift < -31)
      return ke_fail(r, "output scale %g is outside the supported range (the int8 output "
                     "requantization would overflow).", (double)out->scale);
    const void* data[NUM_INT8_INPUTS];
    for (int i = 0; i < NUM_INT8_INPUTS; ++i) data[i] = in[i].data;
    const ke_egru_i8_params p = int8_params(opt, plan, &m, data);
    status = ke_egru_i8_check_constants(&p);
    if (status != KE_OK) return ke_fail(r, "%s.", ke_egru_status_string(status));
    if (m.w_gather)
      ke_sparse_gather_pack(p.input_size, 3 * p.units, p.w_values, p.w_index, p.w_offsets,
                            p.bias, m.w_gather);
  }
  reset(opt, plan, persistent);
  return 1;
}

static void eval(const int32_t* opt, const ke_plan* plan, void* persistent,
                 const void* const* in, void* out, void* scratch, uint64_t* macs) {
  egru_memory m;
  layout(opt[OPT_UNITS], plan->info[INFO_INT8], (size_t)plan->info[INFO_GATHER_BYTES], persistent, &m);
  const int rs = opt[OPT_RETURN_SEQUENCES];
  const int32_t batch = plan->info[INFO_BATCH], time = plan->info[INFO_TIME];
  const int streaming = plan->info[INFO_STREAMING];
  const int host = plan->target == KE_TARGET_TFLITE && HOST_SEQUENCE_VARIANTS;
  if (plan->info[INFO_INT8]) {
    const ke_egru_i8_params p = int8_params(opt, plan, &m, in);
    const int8_t* x = (const int8_t*)in[IN_X];
    ke_egru_i8_state s = {(int16_t*)m.c_hat, (int8_t*)m.y, m.active, m.h->n_active};
    /* The host variants (input products of the whole sequence first, vectorized over
     * time) give the same outputs and MAC count as the MCU's per-step ones. */
    if (streaming && host)
      ke_egru_i8_continue_seq(&p, x, time, rs, (int8_t*)out, &s, (int32_t*)scratch, macs);
    else if (streaming)
      ke_egru_i8_continue(&p, x, time, rs, (int8_t*)out, &s, (int32_t*)scratch, macs);
    else if (host)
      ke_egru_i8_run_seq(&p, x, batch, time, rs, (int8_t*)out, &s, (int32_t*)scratch, macs);
    else
      ke_egru_i8_run(&p, x, batch, time, rs, (int8_t*)out, &s, (int32_t*)scratch, macs);
    if (streaming) m.h->n_active = s.n_active;
  } else {
    const ke_egru_f32_params p = float_params(opt, plan, in);
    const float* x = (const float*)in[IN_X];
    ke_egru_f32_state s = {(float*)m.c_hat, (float*)m.y, m.active, m.h->n_active};
    if (streaming) {
      ke_egru_f32_continue(&p, x, time, rs, (float*)out, &s, (float*)scratch, macs);
      m.h->n_active = s.n_active;
    } else {
      ke_egru_f32_run(&p, x, batch, time, rs, (float*)out, &s, (float*)scratch, macs);
    }
  }
}

const ke_op_def ke_op_KE_EGRU = {
    kOptions, (int32_t)(sizeof(kOptions) / sizeof(kOptions[0])), NUM_INT8_INPUTS,
    check, setup, reset, eval,
};
