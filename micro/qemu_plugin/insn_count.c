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
 * so the count is identical across runs. It counts instructions, not cycles: QEMU models no
 * Cortex-M4 pipeline timing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

KE_PLUGIN_EXPORT int qemu_plugin_version = KE_PLUGIN_API_VERSION;

static uint64_t g_executed;     /* all guest instructions so far (inline-incremented) */
static uint64_t g_begin_snapshot;
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
  g_open = 1;
}

static void on_end(unsigned int vcpu, void *udata) {
  (void)vcpu; (void)udata;
  char line[96];
  if (!g_open) {
    emit("KE_COUNT_ERROR end marker without begin\n");
    return;
  }
  /* Both snapshots see the same (constant) position of the inline add relative to the
   * callback, so the difference is exactly the instructions from begin to end. */
  snprintf(line, sizeof line, "KE_COUNT %u %" PRIu64 "\n", g_regions++,
           g_executed - g_begin_snapshot);
  emit(line);
  g_open = 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_executed, 1);
    if (pc == g_begin_addr)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
    else if (pc == g_end_addr)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
  }
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
