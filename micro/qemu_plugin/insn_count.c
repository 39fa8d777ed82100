/* QEMU TCG plugin: exact count of guest instructions executed between two marker functions.
 *
 * The firmware calls ke_count_begin() before and ke_count_end() after each region it wants
 * measured (one TFLM Invoke). keras_events/micro reads the two addresses with arm-none-eabi-nm and
 * passes them as plugin arguments:
 *     -plugin libke_insn_count.so,begin=0x...,end=0x...[,out=FILE]
 * Every translated guest instruction gets an inline "+1" on a counter (no helper call, so it
 * is cheap and exact even when a translation block is left early); the first instruction of
 * each marker gets a callback that snapshots the counter. Each end marker writes one line
 *     KE_COUNT <index> <instructions>
 * to FILE (or QEMU's log with -d plugin). The guest is single-core and runs no interrupts,
 * so the count is identical across runs.
 *
 * QEMU models no Cortex-M4 timing, so cycles are estimated: every instruction is classified
 * at translation time (thumb_class.h: load/store, multiply/MAC, branch, divide, other) and
 * gets two more inline adds, one on its class counter and one adding its static cycle cost
 * (zero-wait-state Cortex-M4 TRM timings, assumptions in thumb_class.h). Taken branches are
 * counted at run time: a callback at the start of every translation block compares the block's
 * address with the end of the block executed before it; a non-sequential entry is a taken
 * branch (the firmware runs no interrupts). Each end marker also writes
 *     KE_CLASSES <index> <load_store> <multiply> <branch> <divide> <other> <taken> <cycles>
 * where <cycles> excludes the pipeline refill of taken branches (P = 1..3 cycles each, added
 * by the reader: keras_events.micro.qemu). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"
#include "thumb_class.h"

KE_PLUGIN_EXPORT int qemu_plugin_version = KE_PLUGIN_API_VERSION;

static uint64_t g_executed;     /* all guest instructions so far (inline-incremented) */
static uint64_t g_begin_snapshot;
/* Per class, then taken branches, then static cycles (all inline-added except taken). */
enum { KE_TAKEN = KE_N_CLASSES, KE_CYCLES, KE_N_COUNTERS };
static uint64_t g_counts[KE_N_COUNTERS], g_begin_counts[KE_N_COUNTERS];
static uint64_t g_prev_block_end = UINT64_MAX;  /* address after the last block executed */
static int g_open;              /* inside a begin..end region */
static unsigned g_regions;
static uint64_t g_begin_addr = UINT64_MAX, g_end_addr = UINT64_MAX;
static FILE *g_out;

static void emit(const char *line) {
  if (g_out) {
    fputs(line, g_out);
    fflush(g_out);  /* the guest may exit via semihosting right after */
  } else {
    qemu_plugin_outs(line);
  }
}

static void on_begin(unsigned int vcpu, void *udata) {
  (void)vcpu; (void)udata;
  g_begin_snapshot = g_executed;
  memcpy(g_begin_counts, g_counts, sizeof g_counts);
  g_open = 1;
}

static void on_end(unsigned int vcpu, void *udata) {
  (void)vcpu; (void)udata;
  char line[256];
  uint64_t d[KE_N_COUNTERS];
  if (!g_open) {
    emit("KE_COUNT_ERROR end marker without begin\n");
    return;
  }
  /* Both snapshots see the same (constant) position of the inline add relative to the
   * callback, so the difference is exactly the instructions from begin to end. */
  snprintf(line, sizeof line, "KE_COUNT %u %" PRIu64 "\n", g_regions++,
           g_executed - g_begin_snapshot);
  emit(line);
  for (int k = 0; k < KE_N_COUNTERS; k++) d[k] = g_counts[k] - g_begin_counts[k];
  snprintf(line, sizeof line, "KE_CLASSES %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
           " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", g_regions - 1,
           d[KE_CLASS_LOAD_STORE], d[KE_CLASS_MULTIPLY], d[KE_CLASS_BRANCH], d[KE_CLASS_DIVIDE],
           d[KE_CLASS_OTHER], d[KE_TAKEN], d[KE_CYCLES]);
  emit(line);
  g_open = 0;
}

/* udata packs the block's start address (high 32 bits) and its length in bytes. */
static void on_block(unsigned int vcpu, void *udata) {
  (void)vcpu;
  uint64_t v = (uint64_t)(uintptr_t)udata;
  uint64_t start = v >> 32;
  if (g_prev_block_end != UINT64_MAX && start != g_prev_block_end) g_counts[KE_TAKEN]++;
  g_prev_block_end = start + (v & 0xFFFFFFFFu);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  uint64_t start = qemu_plugin_tb_vaddr(tb), end = start;
  int prev_single_load = 0;
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    size_t size = qemu_plugin_insn_size(insn);
    ke_insn_info info = ke_classify_thumb((const uint8_t *)qemu_plugin_insn_data(insn), size,
                                          prev_single_load);
    prev_single_load = info.single_load;
    end = pc + size;
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_executed, 1);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                               &g_counts[info.cls], 1);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                               &g_counts[KE_CYCLES], (uint64_t)info.cycles);
    if (pc == g_begin_addr)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
    else if (pc == g_end_addr)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
  }
  /* Registered after the instructions' callbacks but run at the block's start. */
  uint64_t packed = ((start & 0xFFFFFFFFu) << 32) | ((end - start) & 0xFFFFFFFFu);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
                                       (void *)(uintptr_t)packed);
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata) {
  (void)id; (void)udata;
  char line[96];
  snprintf(line, sizeof line, "KE_TOTAL %" PRIu64 "\n", g_executed);
  emit(line);
  if (g_out) fclose(g_out);
  g_out = NULL;
}

static int parse_addr(const char *text, uint64_t *out) {
  char *end = NULL;
  unsigned long long v = strtoull(text, &end, 0);
  if (end == text || *end != '\0') return -1;
  *out = (uint64_t)v & ~(uint64_t)1;  /* Thumb symbols carry bit 0; PCs do not */
  return 0;
}

KE_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                         int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int bad = 0;
    if (strncmp(a, "begin=", 6) == 0) bad = parse_addr(a + 6, &g_begin_addr);
    else if (strncmp(a, "end=", 4) == 0) bad = parse_addr(a + 4, &g_end_addr);
    else if (strncmp(a, "out=", 4) == 0) {
      g_out = fopen(a + 4, "w");
      if (!g_out) { fprintf(stderr, "ke_insn_count: cannot open %s\n", a + 4); return -1; }
    } else bad = 1;
    if (bad) {
      fprintf(stderr, "ke_insn_count: bad argument '%s' (expected begin=ADDR, end=ADDR, out=FILE)\n", a);
      return -1;
    }
  }
  if (g_begin_addr == UINT64_MAX || g_end_addr == UINT64_MAX) {
    fprintf(stderr, "ke_insn_count: begin=ADDR and end=ADDR are required\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}
