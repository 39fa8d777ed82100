// Process-wide bookkeeping of the host TFLite ops (ke_op_state.h).
#include "ke_op_state.h"

#include <atomic>
#include <mutex>
#include <set>

namespace ke_tflite {
namespace {

std::atomic<uint64_t> g_macs{0};
std::mutex g_ops_mutex;

std::set<StatefulOp*>& LiveOps() {
  static std::set<StatefulOp*> ops;
  return ops;
}

}  // namespace

void RegisterStatefulOp(StatefulOp* op) {
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  LiveOps().insert(op);
}

void UnregisterStatefulOp(StatefulOp* op) {
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  LiveOps().erase(op);
}

void AddMacs(uint64_t macs) { g_macs.fetch_add(macs, std::memory_order_relaxed); }

}  // namespace ke_tflite

extern "C" {

__attribute__((visibility("default"))) uint64_t KE_Ops_MacCount(void) {
  return ke_tflite::g_macs.load();
}

__attribute__((visibility("default"))) void KE_Ops_ResetMacCount(void) {
  ke_tflite::g_macs.store(0);
}

__attribute__((visibility("default"))) void KE_Ops_ResetStates(void) {
  std::lock_guard<std::mutex> lock(ke_tflite::g_ops_mutex);
  for (ke_tflite::StatefulOp* op : ke_tflite::LiveOps()) op->ResetState();
}

}  // extern "C"
