/* Classify one Thumb / Thumb-2 instruction (ARMv7E-M, Cortex-M4F) for the instruction-count
 * plugin: its class and its Cortex-M4 cycle cost when it does not branch.
 *
 * Encodings: ARMv7-M Architecture Reference Manual (DDI 0403E), A5 "The Thumb instruction set
 * encoding" and A6 (floating-point).  Cycle costs: Cortex-M4 Technical Reference Manual
 * (DDI 0439 / 100166), table 3-1 "Processor instruction set summary", and the Cortex-M4F FPU
 * TRM, with these assumptions (the plugin states them, keras_events.micro reports them):
 *   - zero-wait-state memory for code and data (no flash wait states, no bus contention);
 *   - ALU and every multiply / multiply-accumulate (MUL, MLA, MLS, SMULL, SMLAL, UMLAL,
 *     SMLA<x><y>, SMLAD, SMLAW, SMMUL, SMUAD, ...) 1 cycle; SDIV/UDIV 12 (the TRM's
 *     worst case of 2..12: the divide is data dependent);
 *   - single loads 2 cycles, 1 when the previous instruction of the same block was a single
 *     load (the TRM's load pipelining; the address dependency that prevents it is not
 *     checked, so this is optimistic); single stores 1 (write buffer); LDRD/STRD 3;
 *     LDM/STM/PUSH/POP 1 + registers; TBB/TBH 2;
 *   - branches 1 here; the pipeline refill P (1..3 cycles) of each *taken* branch is added
 *     by the caller from the dynamic taken-branch count;
 *   - FPU: VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1 + words, VMLA/VMLS/VNMLA/VFMA/... 3,
 *     VDIV/VSQRT 14, other FPU instructions 1;
 *   - an instruction skipped by an IT block costs what it costs when it executes.
 */
#ifndef KE_THUMB_CLASS_H_
#define KE_THUMB_CLASS_H_

#include <stddef.h>
#include <stdint.h>

enum ke_insn_class {
  KE_CLASS_LOAD_STORE,  /* memory access, incl. LDM/STM/PUSH/POP and FPU loads/stores */
  KE_CLASS_MULTIPLY,    /* integer multiplies and MACs (SMLAD, SMLA*, MLA, SMULL, ...), FPU multiplies */
  KE_CLASS_BRANCH,      /* instructions that only change the flow (B, BL, BX, CBZ, TBB, MOV pc) */
  KE_CLASS_DIVIDE,      /* SDIV, UDIV, VDIV, VSQRT */
  KE_CLASS_OTHER,
  KE_N_CLASSES
};

typedef struct {
  int cls;          /* enum ke_insn_class */
  int cycles;       /* cycles when it does not branch (see the assumptions above) */
  int single_load;  /* a single LDR* (the next load/store pipelines behind it) */
} ke_insn_info;

static inline int ke_popcount16(uint32_t v) {
  int n = 0;
  for (v &= 0xFFFF; v; v &= v - 1) n++;
  return n;
}

static inline ke_insn_info ke_info(int cls, int cycles, int single_load) {
  ke_insn_info r = {cls, cycles, single_load};
  return r;
}

/* A single load/store; `prev_single_load`: the previous instruction was a single load. */
static inline ke_insn_info ke_single(int is_load, int prev_single_load) {
  if (is_load) return ke_info(KE_CLASS_LOAD_STORE, prev_single_load ? 1 : 2, 1);
  return ke_info(KE_CLASS_LOAD_STORE, 1, 0);
}

/* FPU (coprocessor 10/11) encodings, DDI 0403E A6.4 / A5.3.18. */
static inline ke_insn_info ke_classify_coproc(uint32_t hw1, uint32_t hw2) {
  uint32_t op1 = (hw1 >> 4) & 0x3F;
  if ((op1 & 0x3E) == 0x04) return ke_info(KE_CLASS_OTHER, 2, 0);  /* VMOV 2 core regs */
  if ((op1 & 0x20) == 0) {                                         /* VLDR/VSTR/VLDM/VSTM */
    int single = (hw1 & 0x0100) && !(hw1 & 0x0020);                 /* P=1, W=0 */
    return ke_info(KE_CLASS_LOAD_STORE, single ? 2 : 1 + (int)(hw2 & 0xFF), 0);
  }
  if ((op1 & 0x30) == 0x20 && !(hw2 & 0x10)) {                     /* FPU data processing */
    uint32_t t = ((hw1 >> 4) & 0x8) | ((hw1 >> 4) & 0x3);           /* opc1 without D */
    switch (t) {
      case 0x0: case 0x1: case 0x9: case 0xA: return ke_info(KE_CLASS_MULTIPLY, 3, 0);
      case 0x2: return ke_info(KE_CLASS_MULTIPLY, 1, 0);            /* VMUL, VNMUL */
      case 0x8: return ke_info(KE_CLASS_DIVIDE, 14, 0);             /* VDIV */
      case 0xB:
        if ((hw1 & 0xF) == 1 && (hw2 & 0xC0) == 0xC0) return ke_info(KE_CLASS_DIVIDE, 14, 0);
        return ke_info(KE_CLASS_OTHER, 1, 0);                       /* VSQRT above; VMOV, VCVT, VCMP */
      default: return ke_info(KE_CLASS_OTHER, 1, 0);                /* VADD, VSUB */
    }
  }
  return ke_info(KE_CLASS_OTHER, 1, 0);                             /* VMOV core<->S, VMRS */
}

static inline ke_insn_info ke_classify_thumb32(uint32_t hw1, uint32_t hw2, int prev_single_load) {
  if ((hw1 & 0xEC00) == 0xEC00) return ke_classify_coproc(hw1, hw2);
  if ((hw1 & 0xFE40) == 0xE800)                                    /* LDM/STM/PUSH.W/POP.W */
    return ke_info(KE_CLASS_LOAD_STORE, 1 + ke_popcount16(hw2), 0);
  if ((hw1 & 0xFE40) == 0xE840) {
    if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xFFE0) == 0xF000)
      return ke_info(KE_CLASS_BRANCH, 2, 0);                        /* TBB, TBH */
    if (hw1 & 0x0120) return ke_info(KE_CLASS_LOAD_STORE, 3, 0);   /* LDRD, STRD */
    return ke_info(KE_CLASS_LOAD_STORE, 2, 0);                      /* LDREX, STREX */
  }
  if ((hw1 & 0xFE00) == 0xEA00) return ke_info(KE_CLASS_OTHER, 1, 0);  /* shifted register */
  if ((hw1 & 0xF800) == 0xF000) {
    if (!(hw2 & 0x8000)) return ke_info(KE_CLASS_OTHER, 1, 0);     /* data processing, imm */
    if ((hw2 & 0x5000) == 0 && ((hw1 >> 7) & 7) == 7)
      return ke_info(KE_CLASS_OTHER, 1, 0);                         /* MSR, MRS, hints, barriers */
    return ke_info(KE_CLASS_BRANCH, 1, 0);                          /* B.W, B<c>.W, BL */
  }
  if ((hw1 & 0xFE00) == 0xF800) return ke_single(hw1 & 0x10, prev_single_load);
  if ((hw1 & 0xFF80) == 0xFB00) return ke_info(KE_CLASS_MULTIPLY, 1, 0);
  if ((hw1 & 0xFF80) == 0xFB80) {                                   /* long multiply, divide */
    uint32_t op1 = (hw1 >> 4) & 7, op2 = (hw2 >> 4) & 0xF;
    if ((op1 == 1 || op1 == 3) && op2 == 0xF) return ke_info(KE_CLASS_DIVIDE, 12, 0);
    return ke_info(KE_CLASS_MULTIPLY, 1, 0);
  }
  return ke_info(KE_CLASS_OTHER, 1, 0);                             /* data processing, register */
}

static inline ke_insn_info ke_classify_thumb16(uint32_t hw, int prev_single_load) {
  if ((hw & 0xF800) == 0x4800) return ke_single(1, prev_single_load);    /* LDR literal */
  if ((hw & 0xF000) == 0x5000) return ke_single(((hw >> 9) & 7) >= 3, prev_single_load);
  if ((hw & 0xE000) == 0x6000 || (hw & 0xF000) == 0x8000 || (hw & 0xF000) == 0x9000)
    return ke_single(hw & 0x0800, prev_single_load);                /* imm, halfword, SP-rel */
  if ((hw & 0xF600) == 0xB400)                                      /* PUSH, POP (+LR/PC) */
    return ke_info(KE_CLASS_LOAD_STORE, 1 + ke_popcount16(hw & 0x1FF), 0);
  if ((hw & 0xF000) == 0xC000) return ke_info(KE_CLASS_LOAD_STORE, 1 + ke_popcount16(hw & 0xFF), 0);
  if ((hw & 0xFFC0) == 0x4340) return ke_info(KE_CLASS_MULTIPLY, 1, 0);  /* MULS */
  if ((hw & 0xF000) == 0xD000)                                      /* B<c>; UDF, SVC */
    return ke_info(((hw >> 8) & 0xF) < 0xE ? KE_CLASS_BRANCH : KE_CLASS_OTHER, 1, 0);
  if ((hw & 0xF800) == 0xE000 || (hw & 0xF500) == 0xB100 || (hw & 0xFF00) == 0x4700)
    return ke_info(KE_CLASS_BRANCH, 1, 0);                          /* B, CBZ/CBNZ, BX/BLX */
  if ((hw & 0xFC00) == 0x4400 && ((hw >> 8) & 3) != 1 && ((hw & 7) | ((hw >> 4) & 8)) == 15)
    return ke_info(KE_CLASS_BRANCH, 1, 0);                          /* ADD pc / MOV pc */
  return ke_info(KE_CLASS_OTHER, 1, 0);
}

/* `bytes`: the instruction as QEMU translated it (little endian, 2 or 4 bytes). */
static inline ke_insn_info ke_classify_thumb(const uint8_t *bytes, size_t size, int prev_single_load) {
  uint32_t hw1 = (uint32_t)bytes[0] | ((uint32_t)bytes[1] << 8);
  if (size >= 4 && (hw1 >> 11) >= 0x1D) {
    uint32_t hw2 = (uint32_t)bytes[2] | ((uint32_t)bytes[3] << 8);
    return ke_classify_thumb32(hw1, hw2, prev_single_load);
  }
  return ke_classify_thumb16(hw1, prev_single_load);
}

#endif  /* KE_THUMB_CLASS_H_ */
