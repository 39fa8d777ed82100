@ A bare-metal Cortex-M4 image with a known instruction mix, for the class counters of
@ micro/qemu_plugin (tests/micro/test_insn_classes.py). LOOPS iterations of
@ {SMLAD, MLA, LDR, LDR, STR, SDIV, SUBS, BNE} between the two count markers.
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .vectors, "a"
    .word 0x20008000            @ initial stack pointer
    .word reset                 @ reset handler (Thumb bit set by .thumb_func)

    .text
    .thumb_func
    .global reset
reset:
    ldr r4, =buf
    movs r5, #LOOPS
    movs r7, #3
    bl ke_count_begin
loop:
    smlad r0, r1, r2, r0        @ multiply, 1 cycle
    mla r1, r2, r3, r1          @ multiply, 1 cycle
    ldr r3, [r4]                @ load, 2 cycles
    ldr r6, [r4, #4]            @ load pipelined behind a load, 1 cycle
    str r3, [r4, #8]            @ store, 1 cycle
    sdiv r2, r6, r7             @ divide, 12 cycles (model: worst case)
    subs r5, #1                 @ other, 1 cycle
    bne loop                    @ branch, 1 cycle (+ P when taken)
    bl ke_count_end
    movs r0, #0x18              @ semihosting SYS_EXIT, ADP_Stopped_ApplicationExit
    ldr r1, =0x20026
    bkpt 0xab
1:  b 1b

    .thumb_func
    .global ke_count_begin
ke_count_begin:
    bx lr

    .thumb_func
    .global ke_count_end
ke_count_end:
    bx lr
    .ltorg

    .bss
    .align 2
buf: .space 16
