/* Checks an untrusted .tflite buffer before TFLM touches it: TFLM itself does not verify
 * flatbuffers, so a truncated or corrupt model would otherwise be read out of bounds; nor
 * does it check the indices inside a valid flatbuffer (tensor, buffer and op-code indices,
 * shapes, constant data sizes, per-channel quantization arrays), which a single corrupted
 * byte can make lie. */
#ifndef KE_MICRO_MODEL_CHECK_H_
#define KE_MICRO_MODEL_CHECK_H_

#include <cstddef>

#include "tensorflow/lite/schema/schema_generated.h"

namespace ke_micro {

// Returns the model, or nullptr after printing the reason with MicroPrintf.
const tflite::Model* LoadVerifiedModel(const void* buffer, size_t length);

}  // namespace ke_micro

#endif  // KE_MICRO_MODEL_CHECK_H_
