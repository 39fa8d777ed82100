// Host build of TFLM + the project's kernels behind a C API (see ke_tflm_c_api.h).
// The op resolver holds the common builtin ops (see AddAllOps) and the project's custom
// ops, running the very same kernel code as the firmware.
#include "micro/host/ke_tflm_c_api.h"

#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "micro/harness/ke_arena.h"
#include "micro/harness/ke_log.h"
#include "micro/harness/ke_model_check.h"
#include "custom_ops/tflm/ke_project_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace {

constexpr size_t kMaxOps = 128;
using Resolver = tflite::MicroMutableOpResolver<kMaxOps>;

// TFLM messages since the last API call started; the API is not thread-safe (Python
// calls it under the GIL), so one buffer is enough.
char g_log[2048];
size_t g_log_used = 0;

// Guard around TFLM calls: a fatal message (ke_log_is_fatal) jumps back to the API entry
// instead of letting TFLM continue with a NULL buffer. TFLM is built without exceptions and
// the abandoned interpreter is never touched again, so skipping its frames is safe.
// TFLM's checks call abort() on the host (TFLITE_CHECK, e.g. a kernel computing from a
// buffer that a too-small arena let the allocator overwrite); while guarded, SIGABRT
// jumps back too.
sigjmp_buf g_guard;
bool g_guard_active = false;
struct sigaction g_previous_abort;

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds keep the guard for TFLM's own aborts but never swallow a sanitizer
// report: the sanitizer runs this death callback before it aborts.
bool g_sanitizer_dying = false;
void OnSanitizerDeath() { g_sanitizer_dying = true; }
#else
constexpr bool g_sanitizer_dying = false;
#endif

void OnAbort(int) {
  if (g_guard_active && !g_sanitizer_dying) {
    g_guard_active = false;
    siglongjmp(g_guard, 2);
  }
  sigaction(SIGABRT, &g_previous_abort, nullptr);
  raise(SIGABRT);
}

void GuardBegin() {
  g_guard_active = true;
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_set_death_callback(OnSanitizerDeath);
#endif
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = OnAbort;
  sigemptyset(&action.sa_mask);
  sigaction(SIGABRT, &action, &g_previous_abort);
}

void GuardEnd() {
  g_guard_active = false;
  sigaction(SIGABRT, &g_previous_abort, nullptr);
}

void CaptureLog(const char* text) {
  static const bool echo = getenv("KE_TFLM_LOG") != nullptr;  // debugging: also to stderr
  if (echo) fputs(text, stderr);
  size_t n = strlen(text);
  if (g_log_used + n >= sizeof g_log) n = sizeof g_log - 1 - g_log_used;
  memcpy(g_log + g_log_used, text, n);
  g_log_used += n;
  g_log[g_log_used] = '\0';
  if (g_guard_active && ke_log_is_fatal(text)) {
    g_guard_active = false;
    siglongjmp(g_guard, 1);
  }
}

void ClearLog() {
  ke_set_log_sink(CaptureLog);
  g_log_used = 0;
  g_log[0] = '\0';
}

int Error(const char* what) {
  MicroPrintf("%s", what);
  return 1;
}

// The builtin ops of the host build: exactly the kernels tflm_build.HOST_KERNELS compiles
// (add an op there and here together; the --no-undefined link catches a mismatch).
bool AddAllOps(Resolver& r) {
  const TfLiteStatus statuses[] = {
      r.AddAbs(), r.AddAdd(), r.AddAveragePool2D(), r.AddBatchMatMul(), r.AddCast(),
      r.AddConcatenation(), r.AddConv2D(), r.AddCos(), r.AddDepthwiseConv2D(), r.AddDequantize(),
      r.AddEqual(), r.AddExp(), r.AddExpandDims(), r.AddFill(), r.AddFullyConnected(),
      r.AddGather(), r.AddGreater(), r.AddGreaterEqual(), r.AddHardSwish(), r.AddLeakyRelu(),
      r.AddLess(), r.AddLessEqual(), r.AddLog(), r.AddLogicalAnd(), r.AddLogicalNot(),
      r.AddLogicalOr(), r.AddLogistic(), r.AddMaximum(), r.AddMaxPool2D(), r.AddMean(),
      r.AddMinimum(), r.AddMul(), r.AddNotEqual(), r.AddPack(), r.AddPad(), r.AddPadV2(),
      r.AddQuantize(), r.AddReduceMax(), r.AddReduceMin(), r.AddRelu(), r.AddRelu6(),
      r.AddReshape(), r.AddRsqrt(), r.AddShape(), r.AddSin(), r.AddSlice(), r.AddSoftmax(),
      r.AddSplit(), r.AddSplitV(), r.AddSqrt(), r.AddSquare(), r.AddSqueeze(),
      r.AddStridedSlice(), r.AddSub(), r.AddSum(), r.AddTanh(), r.AddTranspose(), r.AddUnpack(),
      r.AddWhile(), r.AddZerosLike()};
  for (TfLiteStatus s : statuses) {
    if (s != kTfLiteOk) return false;
  }
  return ke_micro::AddProjectOps(r) == kTfLiteOk;
}

}  // namespace

struct KeTflm {
  bool broken = false;        // TFLM stopped mid-call: the interpreter must not be used
  // AllocateTensors succeeded. Only then may ~MicroInterpreter run: it calls every node's
  // `free` through the node/registration table, which an AllocateTensors that stopped
  // early (an op missing from the resolver, a bad opcode) has filled only up to the
  // failing node, the rest being arena garbage. Skipping it leaks nothing: TFLM and the
  // project's ops keep all their memory in the arena, which ke_tflm_destroy frees.
  bool allocated = false;
  uint8_t* model = nullptr;   // aligned copy: TFLM reads the flatbuffer in place
  uint8_t* arena = nullptr;
  Resolver resolver;
  ke_micro::GuardedArena arena_storage;
  tflite::MicroInterpreter* interpreter = nullptr;
  alignas(alignof(tflite::MicroInterpreter)) unsigned char storage[sizeof(tflite::MicroInterpreter)];
};

extern "C" {

const char* ke_tflm_last_error(void) { return g_log; }

void ke_tflm_destroy(KeTflm* t) {
  if (t == nullptr) return;
  if (t->interpreter != nullptr && t->allocated && !t->broken) t->interpreter->~MicroInterpreter();
  free(t->model);
  free(t->arena);
  t->~KeTflm();
  free(t);
}

KeTflm* ke_tflm_create(const void* model, size_t model_size, size_t arena_size) {
  ClearLog();
  if (model == nullptr || model_size == 0) {
    Error("model: empty buffer");
    return nullptr;
  }
  if (arena_size < 16) {
    Error("arena_size must be at least 16 bytes");
    return nullptr;
  }
  void* mem = malloc(sizeof(KeTflm));
  if (mem == nullptr) return nullptr;
  KeTflm* t = new (mem) KeTflm();
  t->model = static_cast<uint8_t*>(aligned_alloc(16, (model_size + 15) / 16 * 16));
  t->arena = static_cast<uint8_t*>(aligned_alloc(16, (arena_size + 15) / 16 * 16));
  if (t->model == nullptr || t->arena == nullptr) {
    Error("out of host memory");
    ke_tflm_destroy(t);
    return nullptr;
  }
  memcpy(t->model, model, model_size);
  // A zeroed arena: whatever TFLM reads before writing it is null, not left-over heap.
  memset(t->arena, 0, (arena_size + 15) / 16 * 16);
  if (sigsetjmp(g_guard, 1) != 0) {
    GuardEnd();
    t->broken = true;
    Error("AllocateTensors failed: arena too small (increase arena_size) or TFLM aborted");
    ke_tflm_destroy(t);
    return nullptr;
  }
  GuardBegin();
  const tflite::Model* m = ke_micro::LoadVerifiedModel(t->model, model_size);
  if (m == nullptr || !AddAllOps(t->resolver)) {
    GuardEnd();
    if (m != nullptr) Error("op resolver: cannot register the ops");
    ke_tflm_destroy(t);
    return nullptr;
  }
  tflite::MicroAllocator* allocator = ke_micro::CreateGuardedAllocator(t->arena_storage, t->arena, arena_size);
  if (allocator == nullptr) {
    GuardEnd();
    Error("AllocateTensors failed: arena too small (increase arena_size)");
    ke_tflm_destroy(t);
    return nullptr;
  }
  t->interpreter = new (t->storage) tflite::MicroInterpreter(m, t->resolver, allocator);
  const TfLiteStatus status = t->interpreter->AllocateTensors();
  GuardEnd();
  if (status != kTfLiteOk) {
    Error("AllocateTensors failed (arena too small or an op's Prepare rejected the model)");
    ke_tflm_destroy(t);
    return nullptr;
  }
  t->allocated = true;
  return t;
}

int ke_tflm_num_inputs(const KeTflm* t) { return static_cast<int>(t->interpreter->inputs_size()); }
int ke_tflm_num_outputs(const KeTflm* t) { return static_cast<int>(t->interpreter->outputs_size()); }

static TfLiteTensor* Tensor(KeTflm* t, int is_output, int index) {
  const size_t n = is_output ? t->interpreter->outputs_size() : t->interpreter->inputs_size();
  if (index < 0 || static_cast<size_t>(index) >= n) return nullptr;
  return is_output ? t->interpreter->output(index) : t->interpreter->input(index);
}

int ke_tflm_tensor_info(KeTflm* t, int is_output, int index, int* type, int* rank, int* dims,
                        int max_dims, size_t* bytes, float* scale, int32_t* zero_point) {
  ClearLog();
  TfLiteTensor* x = Tensor(t, is_output, index);
  if (x == nullptr) return Error("tensor index out of range");
  *type = x->type;
  *rank = x->dims->size;
  for (int d = 0; d < x->dims->size && d < max_dims; ++d) dims[d] = x->dims->data[d];
  *bytes = x->bytes;
  *scale = x->params.scale;
  *zero_point = x->params.zero_point;
  return 0;
}

int ke_tflm_set_input(KeTflm* t, int index, const void* data, size_t bytes) {
  ClearLog();
  TfLiteTensor* x = Tensor(t, 0, index);
  if (x == nullptr) return Error("input index out of range");
  if (bytes != x->bytes) return Error("input has the wrong number of bytes for the tensor");
  memcpy(x->data.raw, data, bytes);
  return 0;
}

int ke_tflm_get_output(KeTflm* t, int index, void* data, size_t bytes) {
  ClearLog();
  TfLiteTensor* x = Tensor(t, 1, index);
  if (x == nullptr) return Error("output index out of range");
  if (bytes != x->bytes) return Error("output buffer has the wrong number of bytes");
  memcpy(data, x->data.raw, bytes);
  return 0;
}

// Runs Invoke or Reset under the guard; a broken interpreter refuses further calls.
static int Guarded(KeTflm* t, bool invoke) {
  ClearLog();
  if (t->broken) return Error("the interpreter stopped after an earlier fatal error");
  if (sigsetjmp(g_guard, 1) != 0) {
    GuardEnd();
    t->broken = true;
    return Error(invoke ? "Invoke failed: TFLM stopped" : "Reset failed: TFLM stopped");
  }
  GuardBegin();
  const TfLiteStatus status = invoke ? t->interpreter->Invoke() : t->interpreter->Reset();
  GuardEnd();
  if (status == kTfLiteOk) return 0;
  return Error(invoke ? "Invoke failed" : "Reset failed");
}

int ke_tflm_invoke(KeTflm* t) { return Guarded(t, true); }

int ke_tflm_reset(KeTflm* t) { return Guarded(t, false); }

size_t ke_tflm_arena_used_bytes(const KeTflm* t) { return t->interpreter->arena_used_bytes(); }

}  // extern "C"
