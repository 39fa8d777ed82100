// The MAC counter every TFLM op adds to (ke_project_ops.h).
#include "ke_project_ops.h"

namespace ke_micro {

uint64_t g_mac_count = 0;

}  // namespace ke_micro

extern "C" uint64_t ke_micro_mac_count(void) { return ke_micro::g_mac_count; }
extern "C" void ke_micro_reset_mac_count(void) { ke_micro::g_mac_count = 0; }
