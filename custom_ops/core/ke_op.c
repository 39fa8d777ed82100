/* Reporting and the tensor checks every op's check() reuses (ke_op.h). */
#include "ke_op.h"

#include "ke_sparse.h"

/* Writes "[a, b, ...]" (at most KE_OP_MAX_DIMS + 1 dims shown) into buf[64]. */
static void ke_format_dims(char* buf, int32_t rank, const int32_t* dims32, const int* dims) {
  int n = 0;
  buf[n++] = '[';
  for (int32_t i = 0; i < rank && i <= KE_OP_MAX_DIMS; ++i) {
    long v = dims32 ? (long)dims32[i] : (long)dims[i];
    char digits[12];
    int k = 0;
    const int negative = v < 0;
    if (negative) v = -v;
    do { digits[k++] = (char)('0' + v % 10); v /= 10; } while (v > 0 && k < 11);
    if (i > 0) { buf[n++] = ','; buf[n++] = ' '; }
    if (negative) buf[n++] = '-';
    while (k > 0) buf[n++] = digits[--k];
  }
  buf[n++] = ']';
  buf[n] = '\0';
}

int ke_fail(const ke_reporter* r, const char* format, ...) {
  va_list args;
  va_start(args, format);
  r->vlog(r->ctx, r->op, format, args);
  va_end(args);
  return 0;
}

const char* ke_dtype_name(ke_dtype type) {
  switch (type) {
    case KE_DTYPE_FLOAT32: return "float32";
    case KE_DTYPE_INT8: return "int8";
    case KE_DTYPE_INT16: return "int16";
    case KE_DTYPE_INT32: return "int32";
    default: return "another type";
  }
}

int64_t ke_tensor_elements(const ke_tensor* t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

int ke_check_const(const ke_reporter* r, const ke_tensor* t, int input, const char* name,
                   ke_dtype type, int32_t d0, int32_t d1) {
  const int32_t rank = d1 < 0 ? 1 : 2;
  if (t->type != type)
    return ke_fail(r, "input %d `%s` has type %s, expected %s.", input, name,
                   ke_dtype_name(t->type), ke_dtype_name(type));
  if (!t->constant || t->data == NULL)
    return ke_fail(r, "input %d `%s` must be a constant tensor.", input, name);
  if (t->rank != rank)
    return ke_fail(r, "input %d `%s` must have rank %d, got %d.", input, name, (int)rank,
                   (int)t->rank);
  if (d0 >= 0 && t->dims[0] != d0)
    return ke_fail(r, "input %d `%s` has dim 0 = %d, expected %d.", input, name, t->dims[0],
                   (int)d0);
  if (rank == 2 && t->dims[1] != d1)
    return ke_fail(r, "input %d `%s` has dim 1 = %d, expected %d.", input, name, t->dims[1],
                   (int)d1);
  return 1;
}

int ke_check_sparse(const ke_reporter* r, const ke_tensor* in, int first,
                    const char* const* names, int32_t rows, int32_t cols, ke_dtype value_type) {
  const ke_tensor* values = &in[first];
  const ke_tensor* index = &in[first + 1];
  const ke_tensor* offsets = &in[first + 2];
  if (!ke_check_const(r, values, first, names[first], value_type, -1, -1) ||
      !ke_check_const(r, index, first + 1, names[first + 1], KE_DTYPE_INT16, -1, -1) ||
      !ke_check_const(r, offsets, first + 2, names[first + 2], KE_DTYPE_INT32, rows + 1, -1))
    return 0;
  const int32_t* off = (const int32_t*)offsets->data;
  const int32_t nnz = off[rows];
  if (nnz < 0 || nnz > ke_tensor_elements(values) || nnz > ke_tensor_elements(index))
    return ke_fail(r, "`%s` ends at %d but `%s`/`%s` hold %d/%d entries.", names[first + 2],
                   (int)nnz, names[first], names[first + 1], (int)ke_tensor_elements(values),
                   (int)ke_tensor_elements(index));
  const int status = ke_sparse_check(rows, cols, nnz, (const int16_t*)index->data, off);
  if (status == KE_ERR_OFFSETS)
    return ke_fail(r, "inputs %s/%s: offsets must start at 0, be non-decreasing and end at "
                   "the number of values (in block-4 form: multiples of 4).", names[first + 1],
                   names[first + 2]);
  if (status != KE_OK)
    return ke_fail(r, "inputs %s/%s: an index is outside 0..%d, not strictly ascending "
                   "within its row, or a block-4 group is malformed (custom_ops/README.md).",
                   names[first + 1], names[first + 2], (int)(cols - 1));
  return 1;
}

int ke_check_int8_activation(const ke_reporter* r, const ke_tensor* t, const char* what) {
  if (!t->per_tensor_quant || !(t->scale > 0.0f) || t->zero_point < -128 ||
      t->zero_point > 127)
    return ke_fail(r, "int8 %s needs per-tensor quantization (scale > 0, zero point in "
                   "int8).", what);
  return 1;
}

int ke_check_output_shape(const ke_reporter* r, const ke_tensor* out, const ke_plan* plan,
                          const char* names) {
  if (plan->target == KE_TARGET_TFLITE) return 1;
  int same = out->rank == plan->output_rank;
  for (int32_t i = 0; same && i < plan->output_rank; ++i)
    same = out->dims[i] == plan->output_dims[i];
  if (same) return 1;
  /* "[d0, d1, ...]" of the expected and the actual shape, printed as strings: TFLM's
   * formatter has no %*s tricks, and the rank varies. */
  char want[64], got[64];
  ke_format_dims(want, plan->output_rank, plan->output_dims, NULL);
  ke_format_dims(got, out->rank, NULL, out->dims);
  return ke_fail(r, "output must have shape %s = %s, got %s.", names ? names : "", want, got);
}

int ke_check_sequence_io(const ke_reporter* r, const ke_tensor* x, const ke_tensor* out,
                         int32_t units, int return_sequences, int32_t streaming_option,
                         int32_t max_features, ke_plan* plan, ke_sequence_io* io) {
  if (x->type != KE_DTYPE_INT8 && x->type != KE_DTYPE_FLOAT32)
    return ke_fail(r, "input 0 `x` has type %s; float32 and int8 are supported.",
                   ke_dtype_name(x->type));
  if (out->type != x->type)
    return ke_fail(r, "output type %s differs from input type %s.", ke_dtype_name(out->type),
                   ke_dtype_name(x->type));
  if (x->rank != 3)
    return ke_fail(r, "input `x` must be [batch, time, features], got rank %d.", (int)x->rank);
  const int32_t batch = x->dims[0], time = x->dims[1], features = x->dims[2];
  /* The host accepts an empty batch (TFLite resizes the output); TFLM needs one sequence. */
  const int32_t min_batch = plan->target == KE_TARGET_MICRO ? 1 : 0;
  if (features < 1 || features > max_features || batch < min_batch || time < 1)
    return ke_fail(r, "input shape [%d, %d, %d] unsupported (batch >= %d, time >= 1, "
                   "features 1..%d).", (int)batch, (int)time, (int)features, (int)min_batch,
                   (int)max_features);
  plan->output_type = x->type;
  plan->output_rank = return_sequences ? 3 : 2;
  plan->output_dims[0] = batch;
  plan->output_dims[1] = return_sequences ? time : units;
  plan->output_dims[2] = units;
  /* Before the weights: a wrong `units` option shows here first. */
  if (!ke_check_output_shape(r, out, plan,
                             return_sequences ? "[batch, time, units]" : "[batch, units]"))
    return 0;
  const int streaming = streaming_option >= 0 ? streaming_option == 1 : time == 1;
  if (streaming && batch != 1)
    return ke_fail(r, "streaming keeps one state, so batch must be 1 (got %d).", (int)batch);
  io->batch = batch;
  io->time = time;
  io->features = features;
  io->streaming = streaming;
  return 1;
}
