#include "semihost.h"

#include <stdint.h>

enum {
  kSysWrite0 = 0x04,
  kSysExit = 0x18,
  kSysExitExtended = 0x20,
  kAdpStoppedApplicationExit = 0x20026,
};

/* On M-profile the semihosting trap is BKPT 0xAB, operation in r0, argument in r1. */
static uintptr_t semihost_call(uintptr_t op, uintptr_t arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register uintptr_t r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void ke_semihost_write(const char *s) { semihost_call(kSysWrite0, (uintptr_t)s); }

void ke_semihost_exit(int code) {
  /* SYS_EXIT on 32-bit Arm cannot carry a status; the extended call can (QEMU >= 4.2). */
  uintptr_t block[2] = {kAdpStoppedApplicationExit, (uintptr_t)code};
  semihost_call(kSysExitExtended, (uintptr_t)block);
  semihost_call(kSysExit, kAdpStoppedApplicationExit);  /* fallback: status lost */
  for (;;) {
  }
}
