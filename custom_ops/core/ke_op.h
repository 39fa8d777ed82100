/* The contract between an event op's C core and the two generic registration glues.
 *
 * An op of the native manifest (custom_ops/ops.def, `KE_OP(NAME, version, sources)`)
 * defines one `const ke_op_def ke_op_NAME` in its core sources: its options, its checks,
 * its memory needs and its step.  One host TFLite registration (custom_ops/tflite/ke_op.cc)
 * and one TFLite Micro registration (custom_ops/tflm/ke_op.cc) serve every op through this
 * table, so a new op adds no glue code: the glues only reach tensors, parse the flexbuffer
 * options, allocate what the plan asks for and report messages.
 *
 * Life of a node (both glues):
 *   Init     the options are parsed against `options` (flexbuffer map, custom_ops/README.md);
 *   Prepare  check()   every tensor, option and constant Eval will read; fills the plan
 *                      (output shape, persistent and scratch bytes, op-private facts);
 *            setup()   given `persistent_bytes` of zeroed memory kept across invokes:
 *                      precomputes constants and the initial state;
 *   Eval     eval()    trusts everything check() accepted;
 *   Reset    reset()   zeroes the recurrent state (MicroInterpreter::Reset on TFLM,
 *                      KE_Ops_ResetStates() on the host).
 *
 * Portable C99; no TFLite headers (the glues translate their tensors into ke_tensor).
 * Tensor checks every op reuses are below (ke_op.c). */
#ifndef KE_OP_H_
#define KE_OP_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_OP_MAX_INPUTS 16  /* the most inputs an op may declare */
#define KE_OP_MAX_OPTIONS 8
#define KE_OP_MAX_DIMS 4     /* output rank */
#define KE_OP_PLAN_INFO 12   /* op-private words of the plan */

/* The element types the ops use; every other type reads as KE_DTYPE_OTHER. */
typedef enum {
  KE_DTYPE_OTHER = 0,
  KE_DTYPE_FLOAT32,
  KE_DTYPE_INT8,
  KE_DTYPE_INT16,
  KE_DTYPE_INT32,
} ke_dtype;

const char* ke_dtype_name(ke_dtype type);

/* What a check may know about one tensor. */
typedef struct {
  ke_dtype type;
  int32_t rank;
  const int* dims;        /* rank entries */
  const void* data;       /* may be NULL for activations in Prepare */
  int constant;           /* read-only model data (setup may read it after check) */
  int per_tensor_quant;   /* affine quantization with one scale */
  float scale;
  int32_t zero_point;
} ke_tensor;

int64_t ke_tensor_elements(const ke_tensor* t);

/* Where messages go: TF_LITE_KERNEL_LOG on the host, MicroPrintf on TFLM.  `vlog` formats
 * with its host's formatter and prints "<op>: <message>" as one line. */
typedef struct {
  void (*vlog)(void* ctx, const char* op, const char* format, va_list args);
  void* ctx;
  const char* op;
} ke_reporter;

/* Prints "<op>: <message>" and returns 0, so checks read `return ke_fail(r, ...)`. */
int ke_fail(const ke_reporter* r, const char* format, ...);

/* One custom option: an int or bool entry of the flexbuffer map.  Absent and not
 * `required`: the value is `fallback`. */
typedef struct {
  const char* key;
  int is_bool;
  int required;
  int32_t min, max;  /* ints only */
  int32_t fallback;
} ke_option;

/* Who runs the op: the host TFLite interpreter (may resize outputs, has memory for
 * whole-sequence variants) or TFLite Micro (MCU and host builds: fixed output shapes). */
typedef enum { KE_TARGET_TFLITE = 0, KE_TARGET_MICRO = 1 } ke_target;

/* What Prepare found out; written by check(), read by setup/eval/reset. */
typedef struct {
  ke_target target;                      /* set by the glue before check() */
  int32_t output_rank;
  int32_t output_dims[KE_OP_MAX_DIMS];   /* host resizes to it; TFLM requires it */
  ke_dtype output_type;
  size_t persistent_bytes;               /* kept across invokes (state, constants) */
  size_t scratch_bytes;                  /* per-invoke working memory */
  int32_t info[KE_OP_PLAN_INFO];         /* op-private */
} ke_plan;

typedef struct {
  const ke_option* options;
  int32_t num_options;
  int32_t max_inputs;
  /* Every check of Prepare (inputs count/type/shape/constness/quantization, options,
   * constants); returns 1, or 0 after ke_fail. `num_inputs` may exceed max_inputs (only
   * the first max_inputs are given). */
  int (*check)(const ke_reporter* r, const int32_t* options, const ke_tensor* in,
               int32_t num_inputs, const ke_tensor* out, ke_plan* plan);
  /* After check(): `persistent` holds plan->persistent_bytes zeroed bytes, 8-aligned.
   * May read constant inputs' data and every tensor's quantization (TFLM has freed the
   * temporary tensors: no dims).  Returns 1, or 0 after ke_fail. */
  int (*setup)(const ke_reporter* r, const int32_t* options, const ke_tensor* in,
               const ke_tensor* out, const ke_plan* plan, void* persistent);
  void (*reset)(const int32_t* options, const ke_plan* plan, void* persistent);
  /* in[i]: data of input i (the node's inputs, as many as check() accepted). */
  void (*eval)(const int32_t* options, const ke_plan* plan, void* persistent,
               const void* const* in, void* out, void* scratch, uint64_t* macs);
} ke_op_def;

/* ---- checks every op reuses (ke_op.c); each returns 1 or reports and returns 0 ---- */

/* A constant input `input` named `name` of `type`, rank 1 ([d0]) or 2 ([d0, d1]);
 * d0 < 0: any length. */
int ke_check_const(const ke_reporter* r, const ke_tensor* t, int input, const char* name,
                   ke_dtype type, int32_t d0, int32_t d1);

/* One compressed-rows matrix (ke_sparse.h) at inputs first..first+2 (values, index,
 * offsets) with `rows` rows and `cols` columns; names[] are the op's input names. */
int ke_check_sparse(const ke_reporter* r, const ke_tensor* in, int first,
                    const char* const* names, int32_t rows, int32_t cols, ke_dtype value_type);

/* An int8 activation with per-tensor quantization: scale > 0, zero point in int8. */
int ke_check_int8_activation(const ke_reporter* r, const ke_tensor* t, const char* what);

/* TFLite Micro cannot resize tensors: there the output must already have the plan's shape
 * (true on the host TFLite target, which resizes it).  The TFLM glue checks it after
 * check(); an op calls it as soon as it knows the shape, for the clearer message.
 * `names` describes the dims, e.g. "[batch, units]" (may be NULL). */
int ke_check_output_shape(const ke_reporter* r, const ke_tensor* out, const ke_plan* plan,
                          const char* names);

/* What `ke_check_sequence_io` read off a recurrent op's input. */
typedef struct {
  int32_t batch, time, features;
  int streaming;  /* one state kept across invokes (batch 1) */
} ke_sequence_io;

/* The input/output contract of the recurrent ops: `x` float32 or int8 of shape
 * [batch, time, features] (features 1..max_features, time >= 1, batch >= 1 on TFLM), the
 * output of x's type and shape [batch, time, units] (`return_sequences`) or [batch, units],
 * and batch 1 when streaming (`streaming_option` 1, or < 0 and time == 1).  Fills the
 * plan's output type and shape and `io`.  Reads only `x` and `out`. */
int ke_check_sequence_io(const ke_reporter* r, const ke_tensor* x, const ke_tensor* out,
                         int32_t units, int return_sequences, int32_t streaming_option,
                         int32_t max_features, ke_plan* plan, ke_sequence_io* io);

/* Carves consecutive 8-aligned blocks out of the persistent memory (also sizes it when
 * `base` is NULL): `*offset` advances past `bytes`. */
static inline void* ke_carve(void* base, size_t* offset, size_t bytes) {
  void* p = base == NULL ? NULL : (void*)((char*)base + *offset);
  *offset += (bytes + 7u) & ~(size_t)7u;
  return p;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KE_OP_H_ */
