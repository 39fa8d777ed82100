#include "micro/harness/ke_model_check.h"

#include <cstdint>

#include "flatbuffers/flatbuffers.h"
#include "tensorflow/lite/micro/micro_interpreter.h"  // TFLITE_SCHEMA_VERSION
#include "tensorflow/lite/micro/micro_log.h"

namespace ke_micro {

const tflite::Model* LoadVerifiedModel(const void* buffer, size_t length) {
  if (buffer == nullptr || length < 8) {
    MicroPrintf("model: %u bytes is too short to be a .tflite flatbuffer",
                static_cast<unsigned>(length));
    return nullptr;
  }
  if (reinterpret_cast<uintptr_t>(buffer) % 4 != 0) {
    MicroPrintf("model: buffer must be 4-byte aligned (TFLM reads it in place)");
    return nullptr;
  }
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  if (!tflite::ModelBufferHasIdentifier(bytes)) {
    MicroPrintf("model: missing the 'TFL3' file identifier; not a .tflite model");
    return nullptr;
  }
  flatbuffers::Verifier verifier(bytes, length);
  if (!tflite::VerifyModelBuffer(verifier)) {
    MicroPrintf("model: flatbuffer verification failed (truncated or corrupt .tflite)");
    return nullptr;
  }
  const tflite::Model* model = tflite::GetModel(bytes);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("model: schema version %u, this TFLM supports %d",
                static_cast<unsigned>(model->version()), TFLITE_SCHEMA_VERSION);
    return nullptr;
  }
  if (model->subgraphs() == nullptr || model->subgraphs()->size() == 0) {
    MicroPrintf("model: has no subgraphs");
    return nullptr;
  }
  return model;
}

}  // namespace ke_micro
