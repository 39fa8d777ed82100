// What both registration glues of KE_EGRU share (the host TFLite op, custom_ops/tflite/,
// and the TFLite Micro op, custom_ops/tflm/): the input list, the custom options (a
// flexbuffer map written by the converter from the `experimental_implements` attributes;
// contract in custom_ops/README.md), every check of Prepare, the int8 multipliers and the
// core's parameter structs.  Each glue only reaches its tensors (as TensorViews) and
// keeps its state.  The options parser is inline: each glue compiles it against its
// own flexbuffers copy.
#ifndef KE_EGRU_GLUE_H_
#define KE_EGRU_GLUE_H_

#include <cstddef>
#include <cstdint>

#include "../core/ke_egru.h"
#include "flatbuffers/flexbuffers.h"
#include "ke_tensor_check.h"

namespace ke_glue {

// The op's inputs, in order (custom_ops/README.md): float models have the first 9,
// int8 models all 11.
enum Input : int {
  kX = 0, kWValues, kWIndex, kWOffsets, kVValues, kVIndex, kVOffsets, kBias, kThreshold,
  kWScale, kVScale,
};
constexpr int kFloatInputs = 9;
constexpr int kInt8Inputs = 11;
const char* const kInputNames[] = {"x", "w_values", "w_index", "w_offsets", "v_values",
                                   "v_index", "v_offsets", "bias", "threshold",
                                   "w_scale", "v_scale"};


struct EgruOptions {
  int32_t units = 0;
  bool return_sequences = false;
  int streaming = -1;  // -1: option absent, 0/1: given
};

// Whether the op keeps its state between invokes: the `streaming` option, or (absent)
// a model that feeds one frame per invoke. The same rule for the host and TFLM glue.
inline bool IsStreaming(int streaming_option, int32_t time) {
  return streaming_option >= 0 ? streaming_option == 1 : time == 1;
}

// A boolean option: absent (or not a number/bool) leaves `fallback`.
inline int OptionalBool(const flexbuffers::Map& map, const char* key, int fallback) {
  const flexbuffers::Reference value = map[key];
  if (value.IsBool() || value.IsInt() || value.IsUInt()) return value.AsBool() ? 1 : 0;
  return fallback;
}

// Fills `options`; returns nullptr, or a static message saying what is wrong (Init stores
// it and Prepare reports it, since Init cannot fail with a reason).
inline const char* ParseEgruOptions(const char* buffer, size_t length, int32_t max_units,
                                    EgruOptions* options) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(buffer);
  if (buffer == nullptr || length == 0) return "missing custom options (a flexbuffer map with `units`)";
  if (!flexbuffers::VerifyBuffer(bytes, length)) return "custom options are not a valid flexbuffer";
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes, length);
  if (!root.IsMap()) return "custom options must be a flexbuffer map";
  const flexbuffers::Map map = root.AsMap();
  const flexbuffers::Reference units = map["units"];
  if (!(units.IsInt() || units.IsUInt())) return "option `units` (int) is missing";
  const int64_t u = units.AsInt64();
  if (u < 1 || u > max_units) return "option `units` must be in 1..10922";
  options->units = static_cast<int32_t>(u);
  options->return_sequences = OptionalBool(map, "return_sequences", 0) == 1;
  options->streaming = OptionalBool(map, "streaming", -1);
  return nullptr;
}

// What Prepare found out about the node (ValidateEgru).
struct EgruShape {
  bool is_int8 = false;
  bool streaming = false;
  int32_t input_size = 0, batch = 0, time = 0;
};

// The int8 constants Prepare computes (PrepareEgruInt8); unit_consts is the glue's
// [units][KE_EGRU_UNIT_WORDS] buffer.
struct EgruInt8Consts {
  int32_t x_zero_point = 0, y_zero_point = 0, acc_shift = 0, y_multiplier = 0, y_shift = 0;
  int32_t* unit_consts = nullptr;
};

// Every check of Prepare: the options, the node's inputs (count by type, constness, type
// and shape of each, the compressed matrices), the output type, and with
// `output_shape_fixed` (TFLM cannot resize tensors) the output shape.  On success fills
// `shape`; otherwise reports why and returns false.
bool ValidateEgru(const Reporter& r, const char* options_error, const EgruOptions& options,
                  const TensorView* inputs, int num_inputs, const TensorView& output,
                  bool output_shape_fixed, EgruShape* shape);

// int8 only, after ValidateEgru: the requantization multipliers from the scales, then the
// accumulator bounds (ke_egru_i8_prepare, ke_egru_i8_check_constants).
bool PrepareEgruInt8(const Reporter& r, const EgruOptions& options, const EgruShape& shape,
                     const TensorView* inputs, const TensorView& output, EgruInt8Consts* q);

// The core's parameters from the inputs' data: data(i) returns input i's data pointer
// (a TensorView's in Prepare, the eval tensor's in Eval).  Inline templates: each glue's
// Eval fetches exactly the inputs it needs, in place (this runs every invoke on the MCU).
template <typename Data>
inline ke_egru_i8_params EgruInt8Params(Data data, const EgruShape& shape,
                                        const EgruOptions& options, const EgruInt8Consts& q) {
  ke_egru_i8_params p;
  p.input_size = shape.input_size;
  p.units = options.units;
  p.w_values = static_cast<const int8_t*>(data(kWValues));
  p.w_index = static_cast<const int16_t*>(data(kWIndex));
  p.w_offsets = static_cast<const int32_t*>(data(kWOffsets));
  p.v_values = static_cast<const int8_t*>(data(kVValues));
  p.v_index = static_cast<const int16_t*>(data(kVIndex));
  p.v_offsets = static_cast<const int32_t*>(data(kVOffsets));
  p.bias = static_cast<const int32_t*>(data(kBias));
  p.threshold = static_cast<const int16_t*>(data(kThreshold));
  p.x_zero_point = q.x_zero_point;
  p.y_zero_point = q.y_zero_point;
  p.unit_consts = q.unit_consts;
  p.acc_shift = q.acc_shift;
  p.y_multiplier = q.y_multiplier;
  p.y_shift = q.y_shift;
  return p;
}

template <typename Data>
inline ke_egru_f32_params EgruFloatParams(Data data, const EgruShape& shape,
                                          const EgruOptions& options) {
  ke_egru_f32_params p;
  p.input_size = shape.input_size;
  p.units = options.units;
  p.w_values = static_cast<const float*>(data(kWValues));
  p.w_index = static_cast<const int16_t*>(data(kWIndex));
  p.w_offsets = static_cast<const int32_t*>(data(kWOffsets));
  p.v_values = static_cast<const float*>(data(kVValues));
  p.v_index = static_cast<const int16_t*>(data(kVIndex));
  p.v_offsets = static_cast<const int32_t*>(data(kVOffsets));
  p.bias = static_cast<const float*>(data(kBias));
  p.threshold = static_cast<const float*>(data(kThreshold));
  return p;
}

}  // namespace ke_glue

#endif  // KE_EGRU_GLUE_H_
