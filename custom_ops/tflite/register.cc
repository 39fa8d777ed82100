// Registration of the project's ops with a host TFLite interpreter, from the native
// manifest (custom_ops/ops.def).
//
// TFLite exports no C API to add a custom op to the Python interpreter's
// resolver, so this calls tflite::MutableOpResolver::AddCustom, exported by
// libtensorflow_cc.so.2 of the installed TensorFlow wheel.  That ties the
// library to one TF build: KE_Ops_TensorFlowVersion() reports the version it
// was built against and keras_events.export.runtime refuses a mismatch.
#include "ke_ops.h"

#ifndef KE_TF_VERSION
#define KE_TF_VERSION "unknown"
#endif

namespace tflite {
// Declaration of the one (non-virtual) member we call; the definition lives in
// libtensorflow_cc.so.2 (resolved by the dynamic linker).
class MutableOpResolver {
 public:
  void AddCustom(const char* name, const TfLiteRegistration* registration, int version);
};
}  // namespace tflite

extern "C" {

// Registerer for InterpreterWithCustomOps(custom_op_registerers=["KE_RegisterOps"]).
__attribute__((visibility("default"))) void KE_RegisterOps(tflite::MutableOpResolver* resolver) {
// Op-code version 1: what converters write for every custom op. The op's own version (the
// manifest's) is its `version` option, which the glue checks in Prepare (ke_op_glue.cc), so
// an old model finds its op and gets a reason instead of "unresolved custom op".
#define KE_OP(name, version, ...) resolver->AddCustom(#name, name##_Registration(), 1);
#include "../ops.def"
}

__attribute__((visibility("default"))) const char* KE_Ops_TensorFlowVersion(void) {
  return KE_TF_VERSION;
}

}  // extern "C"
