// Tensor checks shared by both registration glues (ke_tensor_check.h).
#include "ke_tensor_check.h"

#include "../core/ke_sparse.h"

namespace ke_glue {

bool Reporter::Fail(const char* format, ...) const {
  va_list args;
  va_start(args, format);
  vlog(ctx, op, format, args);
  va_end(args);
  return false;
}

const char* TypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return "float32";
    case kTfLiteInt32: return "int32";
    case kTfLiteInt16: return "int16";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    case kTfLiteInt64: return "int64";
    default: return "another type";
  }
}

int64_t NumElements(const TensorView& t) {
  int64_t n = 1;
  for (int i = 0; i < t.rank; ++i) n *= t.dims[i];
  return n;
}

bool CheckConst(const Reporter& r, const TensorView& t, int input, const char* name,
                TfLiteType type, int d0, int d1) {
  if (t.type != type)
    return r.Fail("input %d `%s` has type %s, expected %s.", input, name, TypeName(t.type),
                  TypeName(type));
  if (!t.constant || t.data == nullptr)
    return r.Fail("input %d `%s` must be a constant tensor.", input, name);
  const int rank = d1 < 0 ? 1 : 2;
  if (t.rank != rank)
    return r.Fail("input %d `%s` must have rank %d, got %d.", input, name, rank, t.rank);
  if (d0 >= 0 && t.dims[0] != d0)
    return r.Fail("input %d `%s` has dim 0 = %d, expected %d.", input, name, t.dims[0], d0);
  if (rank == 2 && t.dims[1] != d1)
    return r.Fail("input %d `%s` has dim 1 = %d, expected %d.", input, name, t.dims[1], d1);
  return true;
}

bool CheckSparse(const Reporter& r, const TensorView* inputs, int first,
                 const char* const* names, int rows, int cols, TfLiteType value_type) {
  const TensorView& values = inputs[first];
  const TensorView& index = inputs[first + 1];
  const TensorView& offsets = inputs[first + 2];
  if (!CheckConst(r, values, first, names[first], value_type, -1) ||
      !CheckConst(r, index, first + 1, names[first + 1], kTfLiteInt16, -1) ||
      !CheckConst(r, offsets, first + 2, names[first + 2], kTfLiteInt32, rows + 1))
    return false;
  const int32_t* off = static_cast<const int32_t*>(offsets.data);
  const int32_t nnz = off[rows];
  if (nnz < 0 || nnz > NumElements(values) || nnz > NumElements(index))
    return r.Fail("`%s` ends at %d but `%s`/`%s` hold %d/%d entries.", names[first + 2],
                  static_cast<int>(nnz), names[first], names[first + 1],
                  static_cast<int>(NumElements(values)), static_cast<int>(NumElements(index)));
  const int status =
      ke_sparse_check(rows, cols, nnz, static_cast<const int16_t*>(index.data), off);
  if (status == KE_ERR_OFFSETS)
    return r.Fail("inputs %s/%s: offsets must start at 0, be non-decreasing and end at the "
                  "number of values.", names[first + 1], names[first + 2]);
  if (status != KE_OK)
    return r.Fail("inputs %s/%s: an index is outside 0..%d or not strictly ascending within "
                  "its row.", names[first + 1], names[first + 2], cols - 1);
  return true;
}

bool CheckNodeIo(const Reporter& r, int num_inputs, const int* input_indices, int num_outputs,
                 const int* output_indices, int64_t num_tensors) {
  if (num_outputs != 1 || num_inputs < 1)
    return r.Fail("expected 1 output and at least 1 input, got %d/%d.", num_outputs, num_inputs);
  for (int i = 0; i < num_inputs; ++i) {
    if (input_indices[i] < 0 || input_indices[i] >= num_tensors)
      return r.Fail("input %d is missing (optional inputs are not supported).", i);
  }
  if (output_indices[0] < 0 || output_indices[0] >= num_tensors)
    return r.Fail("output tensor index %d out of range.", output_indices[0]);
  return true;
}

bool CheckInt8Activation(const Reporter& r, const TensorView& t, const char* what) {
  if (!t.per_tensor_quant || !(t.scale > 0.0f) || t.zero_point < -128 || t.zero_point > 127)
    return r.Fail("int8 %s needs per-tensor quantization (scale > 0, zero point in int8).",
                  what);
  return true;
}

}  // namespace ke_glue
