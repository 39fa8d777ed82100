// Host TFLite kernel of the custom op KE_EGRU (contract: custom_ops/README.md).
#ifndef KE_EGRU_OP_H_
#define KE_EGRU_OP_H_

#include <stdint.h>

#include "tensorflow/lite/core/c/common.h"
#include "ke_op_state.h"  // KE_Ops_MacCount, KE_Ops_ResetStates

extern "C" {

// The op's registration (init/free/prepare/invoke, custom_name "KE_EGRU").
const TfLiteRegistration* KE_EGRU_Registration(void);

}  // extern "C"

#endif  // KE_EGRU_OP_H_
