// The host TFLite registrations of the native manifest's ops (custom_ops/ops.def): for
// each line NAME, `NAME_Registration()` (generic glue in ke_op.cc) and the op's table
// `ke_op_NAME` (its core, custom_ops/core/).  For TFLite's
// InterpreterWithCustomOps, KE_RegisterOps (register.cc) adds them all.
#ifndef KE_OPS_H_
#define KE_OPS_H_

#include "../core/ke_op.h"
#include "tensorflow/lite/core/c/common.h"

extern "C" {

#define KE_OP(name, version, ...)       \
  extern const ke_op_def ke_op_##name; \
  const TfLiteRegistration* name##_Registration(void);
#include "../ops.def"

}  // extern "C"

#endif  // KE_OPS_H_
