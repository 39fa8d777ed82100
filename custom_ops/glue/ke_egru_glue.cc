// Prepare's checks and the int8 set-up of KE_EGRU, shared by both glues (ke_egru_glue.h).
#include "ke_egru_glue.h"

namespace ke_glue {

bool ValidateEgru(const Reporter& r, const char* options_error, const EgruOptions& options,
                  const TensorView* in, int num_inputs, const TensorView& output,
                  bool output_shape_fixed, EgruShape* shape) {
  if (options_error != nullptr) return r.Fail("%s.", options_error);
  const TensorView& x = in[kX];
  shape->is_int8 = x.type == kTfLiteInt8;
  if (!shape->is_int8 && x.type != kTfLiteFloat32)
    return r.Fail("input 0 `x` has type %s; float32 and int8 are supported.", TypeName(x.type));
  const int expected_inputs = shape->is_int8 ? kInt8Inputs : kFloatInputs;
  if (num_inputs != expected_inputs)
    return r.Fail("%s model needs %d inputs, got %d (see custom_ops/README.md).",
                  shape->is_int8 ? "an int8" : "a float32", expected_inputs, num_inputs);
  if (output.type != x.type)
    return r.Fail("output type %s differs from input type %s.", TypeName(output.type),
                  TypeName(x.type));
  if (x.rank != 3)
    return r.Fail("input `x` must be [batch, time, features], got rank %d.", x.rank);
  const int32_t batch = x.dims[0], time = x.dims[1], features = x.dims[2];
  const int32_t units = options.units;
  // The host accepts an empty batch (TFLite resizes the output); TFLM needs one sequence.
  if (features < 1 || features > KE_EGRU_MAX_INPUT || batch < (output_shape_fixed ? 1 : 0) ||
      time < 1)
    return r.Fail("input shape [%d, %d, %d] unsupported (batch >= %d, time >= 1, features "
                  "1..32767).", static_cast<int>(batch), static_cast<int>(time),
                  static_cast<int>(features), output_shape_fixed ? 1 : 0);
  if (output_shape_fixed) {
    const bool rs = options.return_sequences;
    const int* d = output.dims;
    if (output.rank != (rs ? 3 : 2) || d[0] != batch ||
        (rs && (d[1] != time || d[2] != units)) || (!rs && d[1] != units))
      return r.Fail("output must have shape %s with batch %d, units %d.",
                    rs ? "[batch, time, units]" : "[batch, units]", static_cast<int>(batch),
                    static_cast<int>(units));
  }
  shape->batch = batch;
  shape->time = time;
  shape->input_size = features;
  shape->streaming = IsStreaming(options.streaming, time);
  if (shape->streaming && batch != 1)
    return r.Fail("streaming keeps one state, so batch must be 1 (got %d).",
                  static_cast<int>(batch));

  const TfLiteType wtype = shape->is_int8 ? kTfLiteInt8 : kTfLiteFloat32;
  if (!CheckSparse(r, in, kWValues, kInputNames, features, 3 * units, wtype) ||
      !CheckSparse(r, in, kVValues, kInputNames, units, 3 * units, wtype) ||
      !CheckConst(r, in[kBias], kBias, kInputNames[kBias],
                  shape->is_int8 ? kTfLiteInt32 : kTfLiteFloat32, 2, 3 * units) ||
      !CheckConst(r, in[kThreshold], kThreshold, kInputNames[kThreshold],
                  shape->is_int8 ? kTfLiteInt16 : kTfLiteFloat32, units))
    return false;
  if (!shape->is_int8) return true;
  return CheckConst(r, in[kWScale], kWScale, kInputNames[kWScale], kTfLiteFloat32, 3 * units) &&
         CheckConst(r, in[kVScale], kVScale, kInputNames[kVScale], kTfLiteFloat32, 3 * units) &&
         CheckInt8Activation(r, x, "input `x`") && CheckInt8Activation(r, output, "output");
}

bool PrepareEgruInt8(const Reporter& r, const EgruOptions& options, const EgruShape& shape,
                     const TensorView* in, const TensorView& output, EgruInt8Consts* q) {
  q->x_zero_point = in[kX].zero_point;
  q->y_zero_point = output.zero_point;
  int status = ke_egru_i8_prepare(
      options.units, in[kX].scale, static_cast<const float*>(in[kWScale].data), output.scale,
      static_cast<const float*>(in[kVScale].data), static_cast<const int16_t*>(in[kThreshold].data),
      q->unit_consts, &q->acc_shift, &q->y_multiplier, &q->y_shift);
  if (status != KE_OK) return r.Fail("scales: %s.", ke_egru_status_string(status));
  // The fire path requantizes a state |c| <= 2^15 by y_multiplier (< 2^31) shifted right
  // by 31 - y_shift, then adds the zero point in int32: y_shift <= 14 keeps that sum and
  // the shift in range with margin (y_shift > 14: an output scale below ~2e-9, never calibrated).
  if (q->y_shift > 14 || q->y_shift < -31)
    return r.Fail("output scale %g is outside the supported range (the int8 output "
                  "requantization would overflow).", static_cast<double>(output.scale));
  const ke_egru_i8_params p =
      EgruInt8Params([in](int i) { return in[i].data; }, shape, options, *q);
  status = ke_egru_i8_check_constants(&p);
  if (status != KE_OK) return r.Fail("%s.", ke_egru_status_string(status));
  return true;
}

}  // namespace ke_glue
