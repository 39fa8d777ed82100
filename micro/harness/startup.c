/* Reset and fault handling for the Cortex-M4F firmware: vector table, C runtime set-up
 * (.data copy, .bss clear, FPU on, static constructors), then main(); any fault prints
 * its name and the faulting registers and exits with status 3, so a bug never hangs QEMU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern void __libc_init_array(void);
extern int main(void);

void ke_reset_handler(void) __attribute__((noreturn));

/* Called by exit(): semihosting carries the status to QEMU's exit code. */
void _exit(int code) { ke_semihost_exit(code); }

static void report_fault(const char *name) {
  volatile uint32_t *scb = (volatile uint32_t *)0xE000ED28;  /* CFSR, HFSR follow */
  char line[160];
  snprintf(line, sizeof line, "KE_ERROR fault %s CFSR=0x%08lx HFSR=0x%08lx MMFAR=0x%08lx BFAR=0x%08lx\n",
           name, (unsigned long)scb[0], (unsigned long)scb[1], (unsigned long)scb[3],
           (unsigned long)scb[4]);
  ke_semihost_write(line);
  ke_semihost_exit(3);
}

static void hard_fault(void) { report_fault("HardFault"); }
static void mem_fault(void) { report_fault("MemManage"); }
static void bus_fault(void) { report_fault("BusFault"); }
static void usage_fault(void) { report_fault("UsageFault"); }
static void unexpected_irq(void) { report_fault("unexpected-interrupt"); }

__attribute__((section(".ke_vectors"), used))
static void (*const vectors[16 + 32])(void) = {
    (void (*)(void))&__stack_top,
    ke_reset_handler,
    unexpected_irq,  /* NMI */
    hard_fault,
    mem_fault,
    bus_fault,
    usage_fault,
    0, 0, 0, 0,
    unexpected_irq,  /* SVCall */
    unexpected_irq,  /* DebugMonitor */
    0,
    unexpected_irq,  /* PendSV */
    unexpected_irq,  /* SysTick */
    [16 ... 47] = unexpected_irq,
};

void ke_reset_handler(void) {
  uint32_t *src = &__data_load;
  for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  /* Enable full access to CP10/CP11 (the FPU) before any float instruction runs, and
   * trap divide-by-zero and unaligned-access faults as UsageFaults rather than ignoring them. */
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88;
  *cpacr |= 0xFu << 20;
  volatile uint32_t *shcsr = (volatile uint32_t *)0xE000ED24;
  *shcsr |= (1u << 16) | (1u << 17) | (1u << 18);  /* separate Mem/Bus/Usage fault handlers */
  volatile uint32_t *ccr = (volatile uint32_t *)0xE000ED14;
  *ccr |= 1u << 4;  /* DIV_0_TRP */
  __asm__ volatile("dsb\n isb" ::: "memory");
  __libc_init_array();
  exit(main());
}

/* -nostartfiles drops crti/crtn; newlib's __libc_init_array still calls these. */
void _init(void) {}
void _fini(void) {}
/* Static objects with destructors register them with __cxa_atexit(…, &__dso_handle), which
 * crtbegin.o normally defines; without start files the firmware defines it. */
void *__dso_handle = 0;
