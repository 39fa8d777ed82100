/* The eGRU Q15 step's Thumb-1 routines (ke_egru_emb_thumb1.h); empty on other targets.
 *
 * Instruction budget on a Cortex-M0 (the board of micro/m0, 40 inputs, 64 units: 13,312
 * weights, 128 softsigns a step):
 *   - sums: 4 instructions a weight: a nibble becomes its table offset (2 * code) in two
 *     (a shift to bits 1..4, `ands` with 0x1e), then one `ldrsh`, one `add`; eight sums
 *     live in r5-r12 over all rows, one word (eight codes) is one `ldm`, the table pointer
 *     steps once a row, the loop closes every four rows.
 *   - softsign, q = floor(2^15 m / (2^15 + m)) = 2^15 - 1 - floor((2^30 - 1) / d),
 *     d = 2^15 + m: a restoring division whose remainder and quotient share one register
 *     (3.5 instructions a quotient bit on average) while d 2^B <= 2^31, i.e. m <= 2^15
 *     (B = 15), m <= 3 2^15 (B = 14) and m <= 7 2^15 (B = 13); beyond, the plain
 *     restoring division of ke_egru_emb.c (15 bits, 4.5 a bit).
 *   - unit update: h = cand + floor((z (prev - cand) + 2^14) / 2^15), written as
 *     ((z (prev - cand)) >> 14) + 1) >> 1, the same value. */
#include "ke_egru_emb_thumb1.h"

#if KE_EGRU_EMB_THUMB1

/* gcc before 13 emits Thumb-1 in divided syntax: switch to unified and back. */
#if !defined(__clang__) && __GNUC__ < 13
#define KE_ASM_END ".syntax divided\n"
#else
#define KE_ASM_END ""
#endif

#define KE_FUNCTION(name)                                                       \
  ".pushsection .text." #name ", \"ax\", %progbits\n"                           \
  ".balign 2\n .global " #name "\n .thumb_func\n .type " #name ", %function\n"  \
  #name ":\n"
#define KE_END_FUNCTION(name) ".size " #name ", . - " #name "\n .popsection\n"

/* Tables, two rows an iteration (n even): r0 source, r12 its end, r2 tables, r7 = 0,
 * r5 = 2 (load offsets), r6 = -32768 (clamped to -32767 as in the C: its negation must fit
 * int16); 34 instructions a row. */
#define KE_SHIFT(k, row)                                                            \
  "asrs r3, r1, #" #k "\n strh r3, [r2, #32 * " #row " + 2 * " #k " + 2]\n"         \
  "negs r3, r3\n strh r3, [r2, #32 * " #row " + 2 * " #k " + 18]\n"
#define KE_ROW_TABLE(row, offset)                                                   \
  "ldrsh r1, [r0, " offset "]\n"                                                    \
  "cmp r1, r6\n bne 2f\n adds r1, #1\n"                                             \
  "2:\n"                                                                            \
  "strh r7, [r2, #32 * " #row "]\n strh r7, [r2, #32 * " #row " + 16]\n"           \
  "strh r1, [r2, #32 * " #row " + 2]\n negs r3, r1\n strh r3, [r2, #32 * " #row " + 18]\n" \
  KE_SHIFT(1, row) KE_SHIFT(2, row) KE_SHIFT(3, row) KE_SHIFT(4, row) KE_SHIFT(5, row)  \
  KE_SHIFT(6, row)
__asm__(".syntax unified\n"
        KE_FUNCTION(ke_egru_emb_fill_t1)
        "push {r4-r7, lr}\n"
        "mov r12, r1\n movs r7, #0\n movs r5, #2\n"
        "movs r6, #1\n lsls r6, r6, #15\n negs r6, r6\n"
        "1:\n"
        KE_ROW_TABLE(0, "r7") KE_ROW_TABLE(1, "r5")
        "adds r0, #4\n adds r2, #64\n"
        "cmp r0, r12\n bne 1b\n"
        "pop {r4-r7, pc}\n"
        KE_END_FUNCTION(ke_egru_emb_fill_t1)
        KE_ASM_END);
#undef KE_ROW_TABLE
#undef KE_SHIFT

/* Groups: r0 = g, r1 their count (>= 1); g is advanced past them.
 * Sums phase: sums of columns 0..7 in r8, r9, r10, r5, r6, r7, r11, r12; r0 offset,
 * r1 code pointer, r2 table pointer, r3 word, r4 the mask 0x1e, lr end pointer.
 * Units phase (all four units: the C takes a last, partial group): the 8 sums on the
 * stack (r5 points at z sums, h~ sums 16 bytes on), r6 prev, r7 h; r8 = 2^30, r9 = 2^30 - 1, r10 = 2^15, r11 = 3 2^15,
 * r12 z; softsign in r0 with r1 (sign), r2 (remainder:quotient), r3 (D), r4 (D - 1). */
__asm__(".syntax unified\n"
        ".macro ke_emb_nibble op, shift, acc\n"
        "  \\op r0, r3, #\\shift\n ands r0, r4\n ldrsh r0, [r2, r0]\n add \\acc, r0\n"
        ".endm\n"
        ".macro ke_emb_row\n"
        "  ldm r1!, {r3}\n"
        "  ke_emb_nibble lsls, 1, r8\n ke_emb_nibble lsrs, 3, r9\n"
        "  ke_emb_nibble lsrs, 7, r10\n ke_emb_nibble lsrs, 11, r5\n"
        "  ke_emb_nibble lsrs, 15, r6\n ke_emb_nibble lsrs, 19, r7\n"
        "  ke_emb_nibble lsrs, 23, r11\n ke_emb_nibble lsrs, 27, r12\n"
        "  adds r2, #32\n"
        ".endm\n"
        /* Four rows an iteration; an odd number of row pairs enters at the second pair
         * (rows are padded to even).  `bne 1b` would be out of range. */
        ".macro ke_emb_rows\n"
        "  mov r0, lr\n subs r0, r0, r1\n lsls r0, r0, #28\n bmi 2f\n"
        "1:\n ke_emb_row\n ke_emb_row\n"
        "2:\n ke_emb_row\n ke_emb_row\n cmp r1, lr\n beq 3f\n b 1b\n"
        "3:\n"
        ".endm\n"
        ".macro ke_emb_step\n"
        "  lsls r2, r2, #1\n cmp r2, r3\n bcc 2f\n subs r2, r2, r4\n 2:\n"
        ".endm\n"
        ".macro ke_emb_bit\n"
        "  lsls r0, r0, #1\n cmp r0, r3\n bcc 2f\n subs r0, r0, r3\n 2:\n adcs r2, r2, r2\n"
        ".endm\n"
        /* r0 = softsign(r0), Q15.  The common case (m <= 2^15) falls through; the rare
         * m > 3 2^15 is a subroutine (.Lke_emb_big), keeping the branches in range. */
        ".macro ke_emb_softsign\n"
        "  asrs r1, r0, #31\n adds r0, r0, r1\n eors r0, r1\n" /* m = |a| */
        "  cmp r0, r10\n bls 10f\n"
        "  cmp r0, r11\n bls 20f\n"
        "  bl .Lke_emb_big\n b 40f\n"
        "20:\n mov r3, r10\n add r3, r0\n lsls r3, r3, #14\n subs r4, r3, #1\n mov r2, r9\n"
        "  .rept 14\n ke_emb_step\n .endr\n"
        "  lsls r2, r2, #18\n lsrs r2, r2, #18\n mov r0, r10\n subs r0, r0, r2\n subs r0, #1\n"
        "  b 40f\n"
        "10:\n lsls r3, r0, #15\n add r3, r8\n subs r4, r3, #1\n mov r2, r9\n"
        "  .rept 15\n ke_emb_step\n .endr\n"
        "  mvns r0, r2\n lsls r0, r0, #17\n lsrs r0, r0, #17\n" /* 32767 - Q */
        "40:\n eors r0, r1\n subs r0, r0, r1\n"
        ".endm\n"
        /* Unit k of the group: sums at [r5, #4k] (z) and [r5, #4k + 16] (h~), h_{t-1} at
         * [r6, #32k], h at [r7, #2k]. */
        ".macro ke_emb_unit k\n"
        "  ldr r0, [r5, #4 * \\k]\n ke_emb_softsign\n"
        "  add r0, r10\n asrs r0, r0, #1\n mov r12, r0\n"           /* z in [0, 2^15) */
        "  ldr r0, [r5, #4 * \\k + 16]\n ke_emb_softsign\n"          /* cand */
        "  movs r1, #32 * \\k\n ldrsh r1, [r6, r1]\n subs r1, r1, r0\n" /* prev - cand */
        "  mov r2, r12\n muls r2, r1, r2\n"
        "  asrs r2, r2, #14\n adds r2, #1\n asrs r2, r2, #1\n"
        "  adds r0, r0, r2\n strh r0, [r7, #2 * \\k]\n"
        ".endm\n"
        KE_FUNCTION(ke_egru_emb_groups_t1)
        "push {r4-r7, lr}\n"
        "mov r2, r8\n mov r3, r9\n mov r4, r10\n mov r5, r11\n push {r2-r5}\n"
        "push {r0, r1}\n"                                           /* g, groups left */
        "6:\n bl .Lke_emb_group\n"
        /* the next group: its rows follow, its biases, h_{t-1} and h too */
        "ldr r0, [sp]\n"
        "ldr r1, [r0, #4]\n str r1, [r0, #0]\n ldr r2, [r0, #40]\n adds r1, r1, r2\n"
        "str r1, [r0, #4]\n"
        "ldr r1, [r0, #12]\n str r1, [r0, #8]\n ldr r2, [r0, #44]\n adds r1, r1, r2\n"
        "str r1, [r0, #12]\n"
        "ldr r1, [r0, #20]\n adds r1, #16\n str r1, [r0, #20]\n"
        "ldr r1, [r0, #24]\n adds r1, #16\n str r1, [r0, #24]\n"
        "ldr r1, [r0, #28]\n adds r1, #128\n str r1, [r0, #28]\n"
        "ldr r1, [r0, #32]\n adds r1, #8\n str r1, [r0, #32]\n"
        "ldr r1, [sp, #4]\n subs r1, #1\n str r1, [sp, #4]\n bne 6b\n"
        "add sp, #8\n"
        "pop {r2-r5}\n mov r8, r2\n mov r9, r3\n mov r10, r4\n mov r11, r5\n"
        "pop {r4-r7, pc}\n"
        /* One group, g at [sp] (a subroutine: the loop above stays in branch range). */
        ".Lke_emb_group:\n"
        "ldr r0, [sp]\n push {lr}\n push {r0}\n"
        "ldr r1, [r0, #20]\n ldm r1, {r1-r4}\n"
        "mov r8, r1\n mov r9, r2\n mov r10, r3\n mov r5, r4\n"
        "ldr r1, [r0, #24]\n ldm r1, {r1-r4}\n"
        "mov r6, r1\n mov r7, r2\n mov r11, r3\n mov r12, r4\n"
        "ldr r2, [r0, #8]\n ldr r3, [r0, #12]\n push {r2, r3}\n"
        "ldr r2, [r0, #16]\n ldr r3, [r0, #4]\n mov lr, r3\n ldr r1, [r0, #0]\n"
        "movs r4, #30\n"
        "ke_emb_rows\n"
        "pop {r1, r3}\n mov lr, r3\n"
        "ke_emb_rows\n"
        "pop {r0}\n"
        "mov r1, r11\n mov r2, r12\n push {r1, r2}\n"
        "push {r5-r7}\n"
        "mov r1, r8\n mov r2, r9\n mov r3, r10\n push {r1-r3}\n"
        "mov r5, sp\n"
        "ldr r6, [r0, #28]\n ldr r7, [r0, #32]\n"
        "movs r0, #1\n lsls r0, r0, #30\n mov r8, r0\n subs r0, #1\n mov r9, r0\n"
        "movs r0, #1\n lsls r0, r0, #15\n mov r10, r0\n"
        "movs r0, #3\n lsls r0, r0, #15\n mov r11, r0\n"
        "ke_emb_unit 0\n ke_emb_unit 1\n ke_emb_unit 2\n ke_emb_unit 3\n"
        "add sp, #32\n"
        "pop {pc}\n"
        /* q of m > 3 2^15 (r0); keeps r1, uses r2-r4: m <= 7 2^15 with the shared
         * register (B = 13), beyond the plain restoring division. */
        ".Lke_emb_big:\n"
        "movs r3, #7\n lsls r3, r3, #15\n cmp r0, r3\n bhi 3f\n"
        "mov r3, r10\n add r3, r0\n lsls r3, r3, #13\n subs r4, r3, #1\n mov r2, r9\n"
        ".rept 13\n ke_emb_step\n .endr\n"
        "lsls r2, r2, #19\n lsrs r2, r2, #19\n mov r0, r10\n subs r0, r0, r2\n subs r0, #1\n"
        "bx lr\n"
        "3:\n movs r3, #1\n lsls r3, r3, #24\n cmp r0, r3\n bls 1f\n movs r0, r3\n"
        "1:\n mov r3, r10\n add r3, r0\n movs r2, #0\n" /* d = 2^15 + min(m, 2^24) */
        ".rept 15\n ke_emb_bit\n .endr\n"
        "movs r0, r2\n bx lr\n"
        KE_END_FUNCTION(ke_egru_emb_groups_t1)
        ".purgem ke_emb_nibble\n .purgem ke_emb_row\n .purgem ke_emb_rows\n"
        ".purgem ke_emb_step\n .purgem ke_emb_bit\n .purgem ke_emb_softsign\n .purgem ke_emb_unit\n"
        KE_ASM_END);

#endif /* KE_EGRU_EMB_THUMB1 */
