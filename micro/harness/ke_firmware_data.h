/* What keras_events/micro/firmware.py generates per build: the model and the
 * input bytes as C arrays, the run configuration and the op resolver holding exactly the
 * builtin and project ops the model uses. */
#ifndef KE_FIRMWARE_DATA_H_
#define KE_FIRMWARE_DATA_H_

#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

// Generated as C (ke_firmware_data.c: arrays only, compiles in a blink); the resolver
// below is generated as C++ (ke_ops_<hash>.cc, cached per op list).
extern "C" {
extern const uint8_t ke_model_data[];
extern const size_t ke_model_size;
extern const uint8_t ke_input_data[];   // invoke-major: all inputs of invoke 0, then 1, ...
extern const size_t ke_input_size;
extern const int ke_input_types[];       // TfLiteType per model input, for checking
extern const size_t ke_num_input_types;
extern const size_t ke_reset_every;     // reset state every N invokes (0: never)
extern const size_t ke_print_outputs;   // 0: print only counts (benchmarks)
extern uint8_t ke_arena[];               // the TFLM tensor arena (16-byte aligned)
extern const size_t ke_arena_size;
}

constexpr size_t kKeMaxOps = 64;
using KeOpResolver = tflite::MicroMutableOpResolver<kKeMaxOps>;
// Adds the ops the model needs; false after printing the reason if one is missing.
bool ke_add_model_ops(KeOpResolver& resolver);

#endif  // KE_FIRMWARE_DATA_H_
