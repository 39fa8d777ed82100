// Process-wide bookkeeping shared by the host TFLite ops: the MAC counter every Eval adds
// to, and the list of live ops whose streaming state KE_Ops_ResetStates() zeroes (TFLite
// has no per-op reset hook for custom ops).
#ifndef KE_OP_STATE_H_
#define KE_OP_STATE_H_

#include <stdint.h>

#ifdef __cplusplus
namespace ke_tflite {

// An op instance (its OpData) with a recurrent state kept between invokes.
struct StatefulOp {
  virtual ~StatefulOp() = default;
  virtual void ResetState() = 0;
};

void RegisterStatefulOp(StatefulOp* op);    // from Init
void UnregisterStatefulOp(StatefulOp* op);  // from Free
void AddMacs(uint64_t macs);                // from Eval

}  // namespace ke_tflite

extern "C" {
#endif

// Multiply-accumulates executed by every KE_* Eval in this process since the last reset
// (the kernels' own count).
uint64_t KE_Ops_MacCount(void);
void KE_Ops_ResetMacCount(void);

// Zeroes the recurrent state of every streaming KE_* op (state kept between invokes) of
// every interpreter in this process.
void KE_Ops_ResetStates(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // KE_OP_STATE_H_
