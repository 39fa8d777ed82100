// The KE_EGRU input list and custom options (a flexbuffer map written by the converter from the
// `experimental_implements` attributes; contract in custom_ops/README.md), parsed once for
// both registration glues: the host TFLite op (custom_ops/tflite/) and the TFLite Micro op
// (micro/tflm/). Header-only C++: each glue compiles it against its own flexbuffers copy.
#ifndef KE_EGRU_OPTIONS_H_
#define KE_EGRU_OPTIONS_H_

#include <cstddef>
#include <cstdint>

#include "flatbuffers/flexbuffers.h"

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

}  // namespace ke_glue

#endif  // KE_EGRU_OPTIONS_H_
