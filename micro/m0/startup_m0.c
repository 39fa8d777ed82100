/* Reset and fault handling of the bare Cortex-M0 firmware (QEMU `microbit`): vector table,
 * .data copy, .bss clear, then main(); a HardFault (the only fault ARMv6-M has) prints its
 * PC and exits with status 3, so a bug never hangs QEMU.  No FPU, no C++ constructors. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern int main(void);

void ke_m0_reset_handler(void) __attribute__((noreturn));

static void put_hex(char* out, uint32_t v) {
  for (int i = 7; i >= 0; --i, v >>= 4) out[i] = "0123456789abcdef"[v & 15u];
}

/* The stacked frame (r0-r3, r12, lr, pc, xpsr) is on the main stack: the firmware never
 * switches to the process stack. */
__attribute__((used)) void ke_m0_hard_fault_c(const uint32_t* frame);
void ke_m0_hard_fault_c(const uint32_t* frame) {
  char line[] = "KE_ERROR fault HardFault pc=0x........\n";
  put_hex(line + 30, frame[6]);
  ke_semihost_write(line);
  ke_semihost_exit(3);
}

__attribute__((naked)) static void hard_fault(void) {
  __asm__ volatile("mrs r0, msp\n bl ke_m0_hard_fault_c" ::: "r0");
}

static void unexpected_irq(void) {
  ke_semihost_write("KE_ERROR fault unexpected-interrupt\n");
  ke_semihost_exit(3);
}

__attribute__((section(".ke_vectors"), used))
static void (*const vectors[16 + 32])(void) = {
    (void (*)(void))&__stack_top,
    ke_m0_reset_handler,
    unexpected_irq, /* NMI */
    hard_fault,
    [4 ... 47] = unexpected_irq,
};

void ke_m0_reset_handler(void) {
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  ke_semihost_exit(main());
}

/* -nostartfiles / no libc start-up: referenced by libgcc's helpers on some builds. */
void _exit(int code) { ke_semihost_exit(code); }
