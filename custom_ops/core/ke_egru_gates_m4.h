/* The int8 gate loop of KE_EGRU (i8_gates in ke_egru.c) for Cortex-M4 and other Armv7E-M
 * Thumb-2 cores, in assembly: included by ke_egru.c only.
 *
 * Why assembly: the loop runs for every unit every step (the fixed per-step cost of issue 17)
 * and needs 14 live values (6 pointers, the unit stride, the rounding constant, 6 temporaries);
 * gcc -O2 spills 4-6 of them per unit and, given a branch for firing units, if-converts it into
 * the common path.  Here every value has a register (r0-r12, lr) and a unit costs 46
 * instructions when it stays silent (gcc: 56-58; 48 before the tanh index took one `ssat` and
 * the loop tested once per two units).
 *
 * It computes exactly what the C loop computes, lane for lane (same fused requantization,
 * word-pair tables, Q15 update; ke_egru.h), for the common case acc_shift L = 0 and unit-stride
 * accumulators (the MCU step).  A unit that fires gets chat = c - theta and its index
 * appended to the active list; ke_egru.c's i8_fire_outputs then writes the outputs.
 *
 * Registers in the loop: r0 a (pre-indexed, one word before the unit), r1 g (likewise),
 * r2 c_hat (one halfword before), r3 the unit's constants (m0..m5, theta: post-indexed),
 * ip 4U (gate stride in bytes: a[U] = [r0, ip], a[2U] = [r0, ip, lsl #1]), lr the tables'
 * x = 0 word (ke_lut_gate_pairs + 128), r10 = 128 (rounding of the interpolation), r11 the
 * last unit's c_hat, r4-r9 temporaries; [sp] the end of the active list, [sp, #4] c_hat. */
#ifndef KE_EGRU_GATES_M4_H_
#define KE_EGRU_GATES_M4_H_

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__) && defined(__GNUC__)
#define KE_HAVE_GATES_M4 1

/* Arguments of ke_egru_i8_gates_m4 (offsets used by the assembly: keep the order). */
typedef struct {
  const int32_t* a;         /* +0: input accumulators a[3U] (bias included)     */
  const int32_t* g;         /* +4: recurrent accumulators g[3U]                  */
  int16_t* c_hat;           /* +8: chat[U], Q0.15, updated in place              */
  const int32_t* consts;    /* +12: [U][KE_EGRU_UNIT_WORDS] (ke_egru_i8_prepare) */
  int32_t units;            /* +16: U >= 1                                       */
  int16_t* active_end;      /* +20: where the next firing unit is appended       */
  const uint32_t* lut_mid;  /* +24: ke_lut_gate_pairs + 128                      */
} ke_egru_gates_m4_args;

/* Runs the gate loop over all units; returns the new end of the active list. */
int16_t* ke_egru_i8_gates_m4(const ke_egru_gates_m4_args* args);

/* One unit: gate pre-activations, the three lookups, c; silent units store c and fall
 * through, firing ones branch to FIRE (which returns to the instruction after the store). */
#define KE_GATES_M4_UNIT(FIRE)                                                           \
  /* u: pre = sat16(floor((a_u m0 + g_u m1) / 2^32)); r: likewise from a_r, g_r, m2, m3  \
   * (a multiplier's register takes the discarded low word) */                          \
  "  ldr r4, [r0, #4]!\n"                                                                \
  "  ldr r5, [r1, #4]!\n"                                                                \
  "  ldmia r3!, {r6, r7, r8, r9}\n"                                                      \
  "  smull r6, r4, r4, r6\n"                                                             \
  "  smlal r6, r4, r5, r7\n"                                                             \
  "  ldr r5, [r0, ip]\n"                                                                 \
  "  ldr r6, [r1, ip]\n"                                                                 \
  "  smull r8, r5, r5, r8\n"                                                             \
  "  smlal r8, r5, r6, r9\n"                                                             \
  "  ssat r4, #16, r4\n"                                                                 \
  "  ssat r5, #16, r5\n"                                                                 \
  /* r = sigmoid(pre_r): word = T[i] | (T[i+1] - T[i]) << 16, T[i] + (d f + 128) >> 8 */ \
  "  asr r6, r5, #8\n"                                                                   \
  "  ldr r6, [lr, r6, lsl #2]\n"                                                         \
  "  uxtb r5, r5\n"                                                                      \
  "  smlatb r5, r6, r5, r10\n"                                                           \
  "  sxth r6, r6\n"                                                                      \
  "  add r5, r6, r5, asr #8\n"                                                           \
  /* u = sigmoid(pre_u) */                                                               \
  "  asr r6, r4, #8\n"                                                                   \
  "  ldr r6, [lr, r6, lsl #2]\n"                                                         \
  "  uxtb r4, r4\n"                                                                      \
  "  smlatb r4, r6, r4, r10\n"                                                           \
  "  sxth r6, r6\n"                                                                      \
  "  add r4, r6, r4, asr #8\n"                                                           \
  /* z: pre = floor(a_z m4 / 2^32) + floor(2 floor(g_z m5 / 2^32) r / 2^16); r9 = theta */ \
  "  ldmia r3!, {r6, r7, r9}\n"                                                          \
  "  ldr r8, [r0, ip, lsl #1]\n"                                                         \
  "  smull r8, r6, r8, r6\n"                                                             \
  "  ldr r8, [r1, ip, lsl #1]\n"                                                         \
  "  smull r8, r7, r8, r7\n"                                                             \
  "  lsl r7, r7, #1\n"                                                                   \
  "  smlawb r6, r7, r5, r6\n"                                                            \
  /* z = tanh(sat16(pre_z)), the tanh words after the sigmoid's                         \
   * (KE_LUT_PAIRS_TANH_OFFSET).  One `ssat` gives the index sat16(pre) >> 8 =           \
   * sat8(pre >> 8); the fraction comes from the unsaturated pre: it differs from        \
   * sat16(pre)'s only when the index is saturated, where the tanh words' difference is  \
   * 0 (T[0] = T[1] = -32767, T[255] = T[256] = 32767; gen_tables.py), so the product    \
   * is 0 either way. */                                                                 \
  "  ssat r7, #8, r6, asr #8\n"                                                          \
  "  add r7, r7, #256\n"                                                                 \
  "  ldr r7, [lr, r7, lsl #2]\n"                                                         \
  "  uxtb r6, r6\n"                                                                      \
  "  smlatb r6, r7, r6, r10\n"                                                           \
  "  sxth r7, r7\n"                                                                      \
  "  add r6, r7, r6, asr #8\n"                                                           \
  /* c = chat + ((u (z - chat) + 2^14) >> 15) */                                         \
  "  ldrsh r7, [r2, #2]!\n"                                                              \
  "  sub r6, r6, r7\n"                                                                   \
  "  mul r6, r4, r6\n"                                                                   \
  "  add r6, r6, #16384\n"                                                               \
  "  add r6, r7, r6, asr #15\n"                                                          \
  "  cmp r6, r9\n"                                                                       \
  "  bgt " FIRE "\n"                                                                     \
  "  strh r6, [r2]\n"

/* A unit that fires: chat = c - theta, append the unit to the active list; back to BACK. */
#define KE_GATES_M4_FIRE(BACK)                                                           \
  "  sub r6, r6, r9\n"                                                                   \
  "  strh r6, [r2]\n"                                                                    \
  "  ldrd r4, r5, [sp]\n"                                                                \
  "  sub r7, r2, r5\n"                                                                   \
  "  asr r7, r7, #1\n"                                                                   \
  "  strh r7, [r4], #2\n"                                                                \
  "  str r4, [sp]\n"                                                                     \
  "  b " BACK "\n"

/* Two units per iteration (one loop test per pair); an odd count enters at the second. */
__asm__(
    "  .text\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .align 2\n"
    "  .global ke_egru_i8_gates_m4\n"
    "  .hidden ke_egru_i8_gates_m4\n"
    "  .thumb_func\n"
    "  .type ke_egru_i8_gates_m4, %function\n"
    "ke_egru_i8_gates_m4:\n"
    "  push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n"
    "  sub sp, sp, #8\n"
    "  ldr r4, [r0, #20]\n"          /* active_end */
    "  ldr r5, [r0, #8]\n"           /* c_hat */
    "  strd r4, r5, [sp]\n"
    "  ldr r3, [r0, #12]\n"
    "  ldr ip, [r0, #16]\n"
    "  ldr lr, [r0, #24]\n"
    "  sub r2, r5, #2\n"
    "  add r11, r2, ip, lsl #1\n"    /* &c_hat[U - 1] */
    "  lsl ip, ip, #2\n"
    "  ldr r1, [r0, #4]\n"
    "  sub r1, r1, #4\n"
    "  ldr r0, [r0, #0]\n"
    "  sub r0, r0, #4\n"
    "  mov r10, #128\n"
    "  tst ip, #4\n"                 /* U odd: the first unit alone */
    "  bne 2f\n"
    "1:\n"
    KE_GATES_M4_UNIT("3f")
    "2:\n"
    KE_GATES_M4_UNIT("4f")
    "5:\n"
    "  cmp r2, r11\n"
    "  blo 1b\n"
    "  ldr r0, [sp]\n"
    "  add sp, sp, #8\n"
    "  pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n"
    "3:\n"
    KE_GATES_M4_FIRE("2b")
    "4:\n"
    KE_GATES_M4_FIRE("5b")
    "  .size ke_egru_i8_gates_m4, .-ke_egru_i8_gates_m4\n");
#else
#define KE_HAVE_GATES_M4 0
#endif

#endif /* KE_EGRU_GATES_M4_H_ */
