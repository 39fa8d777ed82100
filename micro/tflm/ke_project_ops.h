// The project's custom ops for TFLM (one registration function per op, glue in this
// directory, math in custom_ops/core/).
#ifndef KE_MICRO_PROJECT_OPS_H_
#define KE_MICRO_PROJECT_OPS_H_

#include "tensorflow/lite/micro/micro_common.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace ke_micro {

// KE_EGRU: event-based GRU (micro/tflm/ke_egru.cc).
const TFLMRegistration* Register_KE_EGRU();

template <unsigned int N>
TfLiteStatus AddProjectOps(tflite::MicroMutableOpResolver<N>& resolver) {
  return resolver.AddCustom("KE_EGRU", Register_KE_EGRU());
}

}  // namespace ke_micro

#endif  // KE_MICRO_PROJECT_OPS_H_
