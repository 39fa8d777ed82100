// The project's custom ops for TFLite Micro, from the native manifest (custom_ops/ops.def):
// one registration function per op, Register_NAME() (the generic glue ke_op.cc driving the
// op's table in custom_ops/core/), and
// AddProjectOps(), which adds them all to a resolver.  Hosts that know their model's ops
// add only those (the firmware's generated resolver, the Arduino library).
#ifndef KE_MICRO_PROJECT_OPS_H_
#define KE_MICRO_PROJECT_OPS_H_

#include <stdint.h>

#include "tensorflow/lite/micro/micro_common.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace ke_micro {

#define KE_OP(name, version, ...) const TFLMRegistration* Register_##name();
#include "../ops.def"

template <unsigned int N>
TfLiteStatus AddProjectOps(tflite::MicroMutableOpResolver<N>& resolver) {
  TfLiteStatus status = kTfLiteOk;
#define KE_OP(name, version, ...) \
  if (status == kTfLiteOk) status = resolver.AddCustom(#name, Register_##name());
#include "../ops.def"
  return status;
}

// Every op's Eval adds the multiply-accumulates it executed (benchmarks read the total).
extern uint64_t g_mac_count;
inline void AddMacs(uint64_t macs) { g_mac_count += macs; }

}  // namespace ke_micro

extern "C" {
uint64_t ke_micro_mac_count(void);
void ke_micro_reset_mac_count(void);
}

#endif  // KE_MICRO_PROJECT_OPS_H_
