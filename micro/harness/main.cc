// Firmware entry point: run the embedded .tflite on the embedded inputs with TFLM and
// print machine-readable results over semihosting. Lines the host tools parse:
//   KE_INPUTS <n> / KE_INVOKE <i> / KE_OUT <i> <k> <TfLiteType> <D0xD1..> <values...>
//   KE_ARENA_USED <bytes> / KE_DONE / KE_ERROR <reason>
// Exit status: 0 ok, 2 setup error (model, ops, arena, inputs), 4 invoke error, 3 fault.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ke_counters.h"
#include "ke_firmware_data.h"
#include "micro/harness/ke_arena.h"
#include "micro/harness/ke_log.h"
#include "micro/harness/ke_model_check.h"
#include "semihost.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"

namespace {

void LogToConsole(const char* text) {
  ke_semihost_write(text);
  if (ke_log_is_fatal(text)) {  // TFLM would go on with a NULL buffer or spin forever
    ke_semihost_write("\nKE_ERROR AllocateTensors failed: arena too small (arena_size)\n");
    ke_semihost_exit(2);
  }
}

int Fail(int code, const char* what) {
  char line[160];
  snprintf(line, sizeof line, "\nKE_ERROR %s\n", what);
  ke_semihost_write(line);
  return code;
}

// Line-buffered writer so a long output tensor becomes a few semihosting calls.
class LineWriter {
 public:
  void Add(const char* text) {
    size_t n = strlen(text);
    if (used_ + n + 2 > sizeof buf_) Flush(false);
    memcpy(buf_ + used_, text, n);
    used_ += n;
  }
  void Flush(bool end_line) {
    if (end_line) buf_[used_++] = '\n';
    buf_[used_] = '\0';
    ke_semihost_write(buf_);
    used_ = 0;
  }

 private:
  char buf_[512];
  size_t used_ = 0;
};

void PrintTensor(size_t invoke, size_t index, const TfLiteTensor* t) {
  LineWriter w;
  char item[48];
  size_t count = t->bytes / (t->type == kTfLiteInt8 || t->type == kTfLiteUInt8 ? 1
                             : t->type == kTfLiteInt16                           ? 2
                                                                                 : 4);
  snprintf(item, sizeof item, "KE_OUT %u %u %d ", static_cast<unsigned>(invoke),
           static_cast<unsigned>(index), static_cast<int>(t->type));
  w.Add(item);
  for (int d = 0; d < t->dims->size; ++d) {  // shape as D0xD1x...; "-" for a scalar
    snprintf(item, sizeof item, d == 0 ? "%d" : "x%d", t->dims->data[d]);
    w.Add(item);
  }
  if (t->dims->size == 0) w.Add("-");
  for (size_t i = 0; i < count; ++i) {
    switch (t->type) {
      case kTfLiteInt8: snprintf(item, sizeof item, " %d", t->data.int8[i]); break;
      case kTfLiteUInt8: snprintf(item, sizeof item, " %u", t->data.uint8[i]); break;
      case kTfLiteInt16: snprintf(item, sizeof item, " %d", t->data.i16[i]); break;
      case kTfLiteInt32: snprintf(item, sizeof item, " %ld", static_cast<long>(t->data.i32[i])); break;
      default: {  // float32 and anything 4-byte: exact bit pattern, the host decodes it
        uint32_t bits;
        memcpy(&bits, t->data.raw + 4 * i, 4);
        snprintf(item, sizeof item, " %08lx", static_cast<unsigned long>(bits));
      }
    }
    w.Add(item);
  }
  w.Flush(true);
}

}  // namespace

int main() {
  ke_set_log_sink(LogToConsole);
  const tflite::Model* model = ke_micro::LoadVerifiedModel(ke_model_data, ke_model_size);
  if (model == nullptr) return Fail(2, "model rejected");

  static KeOpResolver resolver;
  if (!ke_add_model_ops(resolver)) return Fail(2, "op resolver");

  static ke_micro::GuardedArena arena_storage;
  tflite::MicroAllocator* allocator = ke_micro::CreateGuardedAllocator(arena_storage, ke_arena, ke_arena_size);
  if (allocator == nullptr) return Fail(2, "AllocateTensors failed: arena too small (arena_size)");
  static tflite::MicroInterpreter interpreter(model, resolver, allocator);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    return Fail(2, "AllocateTensors failed (arena too small or an op's Prepare rejected the model)");
  }

  size_t per_invoke = 0;
  if (interpreter.inputs_size() != ke_num_input_types) return Fail(2, "number of input arrays != model inputs");
  for (size_t k = 0; k < interpreter.inputs_size(); ++k) {
    const TfLiteTensor* in = interpreter.input(k);
    if (in->type != ke_input_types[k]) {
      char why[96];
      snprintf(why, sizeof why, "input %u has type %d but the data has type %d", static_cast<unsigned>(k),
               static_cast<int>(in->type), ke_input_types[k]);
      return Fail(2, why);
    }
    per_invoke += in->bytes;
  }
  if (per_invoke == 0 || ke_input_size % per_invoke != 0) {
    return Fail(2, "input data size is not a multiple of the model's input bytes per invoke");
  }
  const size_t invokes = ke_input_size / per_invoke;
  char line[64];
  snprintf(line, sizeof line, "KE_INPUTS %u\n", static_cast<unsigned>(invokes));
  ke_semihost_write(line);

  const uint8_t* src = ke_input_data;
  for (size_t i = 0; i < invokes; ++i) {
    if (ke_reset_every != 0 && i != 0 && i % ke_reset_every == 0) {
      if (interpreter.Reset() != kTfLiteOk) return Fail(4, "Reset failed");
    }
    for (size_t k = 0; k < interpreter.inputs_size(); ++k) {
      TfLiteTensor* in = interpreter.input(k);
      memcpy(in->data.raw, src, in->bytes);
      src += in->bytes;
    }
    ke_count_begin();
    TfLiteStatus status = interpreter.Invoke();
    ke_count_end();
    if (status != kTfLiteOk) return Fail(4, "Invoke failed");
    snprintf(line, sizeof line, "KE_INVOKE %u\n", static_cast<unsigned>(i));
    ke_semihost_write(line);
    if (ke_print_outputs) {
      for (size_t k = 0; k < interpreter.outputs_size(); ++k) PrintTensor(i, k, interpreter.output(k));
    }
  }
  snprintf(line, sizeof line, "KE_ARENA_USED %u\n", static_cast<unsigned>(interpreter.arena_used_bytes()));
  ke_semihost_write(line);
  ke_semihost_write("KE_DONE\n");
  return 0;
}
