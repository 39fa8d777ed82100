/* Reset and fault handling of the Cortex-M0 firmware (QEMU `microbit`), bare-kernel and
 * TFLM: vector table, .data copy, .bss clear, C++ static constructors, then main(); a
 * HardFault (the only fault ARMv6-M has) prints its PC and exits with status 3, so a bug
 * never hangs QEMU.  No FPU.  The stack is painted at reset; after main() the firmware
 * prints "KE_STACK_USED <bytes>", the deepest stack use of the run (16 KiB of RAM leave
 * little room: the figure shows how much of the reserved stack a model needs). */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top,
    __stack_limit;
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
extern int main(void);

#define KE_STACK_PAINT 0x5afe57acu

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

/* Bytes of stack used: from the top down to the deepest word no longer holding the paint. */
static uint32_t stack_used(void) {
  const uint32_t* p = &__stack_limit;
  while (p < &__stack_top && *p == KE_STACK_PAINT) ++p;
  return (uint32_t)((const char*)&__stack_top - (const char*)p);
}

static void report_stack(void) {
  char line[] = "KE_STACK_USED           \n";
  uint32_t v = stack_used();
  int end = 14;
  char digits[10];
  int d = 0;
  do { digits[d++] = (char)('0' + v % 10u); v /= 10u; } while (v);
  while (d) line[end++] = digits[--d];
  line[end++] = '\n';
  line[end] = 0;
  ke_semihost_write(line);
}

void ke_m0_reset_handler(void) {
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  /* Paint the stack below this frame (a margin of 64 bytes for the frame itself). */
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = &__stack_limit; p < sp - 16;) *p++ = KE_STACK_PAINT;
  for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)();
  const int status = main();
  report_stack();
  ke_semihost_exit(status);
}

/* -nostartfiles / no libc start-up: referenced by libgcc's helpers on some builds. */
void _exit(int code) { ke_semihost_exit(code); }

/* Function-local statics with destructors (the TFLM firmware's interpreter) register them
 * with __cxa_atexit(..., &__dso_handle), which crtbegin.o defines without -nostartfiles. */
void* __dso_handle = 0;
