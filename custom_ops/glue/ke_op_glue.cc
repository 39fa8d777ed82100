// Options, node and output checks shared by both generic glues (ke_op_glue.h).
#include "ke_op_glue.h"

#include "flatbuffers/flexbuffers.h"

namespace ke_glue {

void ParseOptions(const ke_op_def& def, int32_t version, const char* buffer, size_t length,
                  NodeOptions* out) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(buffer);
  for (int i = 0; i < def.num_options; ++i) out->values[i] = def.options[i].fallback;
  if (buffer == nullptr || length == 0) {
    out->error = "missing custom options (a flexbuffer map with `%s`)";
    out->error_option = 0;
    return;
  }
  if (!flexbuffers::VerifyBuffer(bytes, length)) {
    out->error = "custom options are not a valid flexbuffer";
    return;
  }
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes, length);
  if (!root.IsMap()) {
    out->error = "custom options must be a flexbuffer map";
    return;
  }
  const flexbuffers::Map map = root.AsMap();
  // The version first: an old model's other options and inputs may not mean what they say.
  const flexbuffers::Reference written = map["version"];
  if ((written.IsInt() || written.IsUInt()) && written.AsInt64() != version) {
    out->model_version = static_cast<int32_t>(written.AsInt64());
    out->build_version = version;
    return;
  }
  for (int i = 0; i < def.num_options; ++i) {
    const ke_option& o = def.options[i];
    const flexbuffers::Reference value = map[o.key];
    const bool number = value.IsInt() || value.IsUInt();
    if (o.is_bool) {
      // A boolean option: absent (or not a number/bool) leaves the fallback.
      if (value.IsBool() || number) out->values[i] = value.AsBool() ? 1 : 0;
    } else if (number) {
      const int64_t v = value.AsInt64();
      if (v < o.min || v > o.max) {
        out->error = "option `%s` must be in %d..%d";
        out->error_option = i;
        return;
      }
      out->values[i] = static_cast<int32_t>(v);
    }
    const bool given = number || (o.is_bool && value.IsBool());
    if (!given && o.required) {
      out->error = o.is_bool ? "option `%s` (bool) is missing" : "option `%s` (int) is missing";
      out->error_option = i;
      return;
    }
  }
}

bool CheckOptions(const ke_reporter& r, const ke_op_def& def, const NodeOptions& options) {
  if (options.build_version != 0)
    return ke_fail(&r, "the model was written for version %d of this op; this build runs "
                   "version %d, whose inputs or options differ. Re-export the model with this "
                   "keras-events (keras_events.export.to_tflite).",
                   static_cast<int>(options.model_version),
                   static_cast<int>(options.build_version)) != 0;
  if (options.error == nullptr) return true;
  if (options.error_option < 0) return ke_fail(&r, "%s.", options.error) != 0;
  const ke_option& o = def.options[options.error_option];
  char format[96];
  int n = 0;
  for (const char* c = options.error; *c && n < 92; ++c) format[n++] = *c;
  format[n++] = '.';
  format[n] = '\0';
  return ke_fail(&r, format, o.key, static_cast<int>(o.min), static_cast<int>(o.max)) != 0;
}

ke_dtype DType(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return KE_DTYPE_FLOAT32;
    case kTfLiteInt8: return KE_DTYPE_INT8;
    case kTfLiteInt16: return KE_DTYPE_INT16;
    case kTfLiteInt32: return KE_DTYPE_INT32;
    default: return KE_DTYPE_OTHER;
  }
}

bool CheckNodeIo(const ke_reporter& r, int num_inputs, const int* input_indices,
                 int num_outputs, const int* output_indices, int64_t num_tensors) {
  if (num_outputs != 1 || num_inputs < 1)
    return ke_fail(&r, "expected 1 output and at least 1 input, got %d/%d.", num_outputs,
                   num_inputs) != 0;
  for (int i = 0; i < num_inputs; ++i) {
    if (input_indices[i] < 0 || input_indices[i] >= num_tensors)
      return ke_fail(&r, "input %d is missing (optional inputs are not supported).", i) != 0;
  }
  if (output_indices[0] < 0 || output_indices[0] >= num_tensors)
    return ke_fail(&r, "output tensor index %d out of range.", output_indices[0]) != 0;
  return true;
}

}  // namespace ke_glue
