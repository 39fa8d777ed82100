// Host TFLite kernel of the custom op KE_EGRU (contract: custom_ops/README.md).
#ifndef KE_EGRU_OP_H_
#define KE_EGRU_OP_H_

#include <stdint.h>

#include "tensorflow/lite/core/c/common.h"

extern "C" {

// The op's registration (init/free/prepare/invoke, custom_name "KE_EGRU").
const TfLiteRegistration* KE_EGRU_Registration(void);

// Multiply-accumulates executed by every KE_EGRU Eval in this process since
// the last reset (the kernel's own count, see ke_egru.h).
uint64_t KE_Ops_MacCount(void);
void KE_Ops_ResetMacCount(void);

// Zeroes the recurrent state of every streaming KE_EGRU op (option `streaming`:
// state kept between invokes) of every interpreter in this process.
void KE_Ops_ResetStates(void);

}  // extern "C"

#endif  // KE_EGRU_OP_H_
