/* The eGRU Q15 step's Thumb-1 (ARMv6-M: Cortex-M0/M0+/M1) routines, internal to
 * ke_egru_emb.c.  They compute exactly what the portable C there computes (the M0 tests
 * check the firmware against the host build bit for bit); gcc's own code for those loops
 * spills to the stack and rematerializes constants (~1.6x the instructions). */
#ifndef KE_EGRU_EMB_THUMB1_H_
#define KE_EGRU_EMB_THUMB1_H_

#include <stdint.h>

#if defined(__GNUC__) && defined(__thumb__) && defined(__ARM_ARCH_6M__)
#define KE_EGRU_EMB_THUMB1 1
#else
#define KE_EGRU_EMB_THUMB1 0
#endif

/* One group of four units (ke_egru_emb.h's code layout).  The field offsets are part of
 * the assembly's contract: keep the order. */
typedef struct {
  const uint8_t *w, *w_end;   /*  0,  4: the group's x rows (4-byte aligned words) */
  const uint8_t *u, *u_end;   /*  8, 12: its h rows */
  const int16_t* tables;      /* 16: x tables then h tables, 16 entries a row */
  const int32_t *bias_z;      /* 20: 4 z biases */
  const int32_t *bias_h;      /* 24: 4 h~ biases */
  const int16_t* prev;        /* 28: h_{t-1} of the group's first unit (stride 16) */
  int16_t* h;                 /* 32: the group's outputs */
  int32_t n;                  /* 36: its units, 1..4 */
  int32_t w_bytes, u_bytes;   /* 40, 44: code bytes of a group's x rows, h rows */
} ke_egru_emb_group;

#if KE_EGRU_EMB_THUMB1
/* The tables of rows v[0 .. n-1] (n >= 2, even): 16 int16 a row. */
void ke_egru_emb_fill_t1(const int16_t* v, const int16_t* v_end, int16_t* tables);
/* `groups` (>= 1) full groups (n = 4, codes 4-byte aligned) from g: each one's 8 sums,
 * then h of its units; g is left at the next group. */
void ke_egru_emb_groups_t1(ke_egru_emb_group* g, int32_t groups);
#endif

#endif /* KE_EGRU_EMB_THUMB1_H_ */
