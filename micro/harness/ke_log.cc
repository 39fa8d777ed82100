// DebugLog/DebugVsnprintf for TFLM (replaces the tree's debug_log.cc: linking this object
// means the archive's version is never pulled in). Formats into a bounded buffer and hands
// the text to the sink chosen with ke_set_log_sink().
#include "micro/harness/ke_log.h"

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "tensorflow/lite/micro/debug_log.h"

namespace {
KeLogSink g_sink = nullptr;
}

extern "C" void ke_set_log_sink(KeLogSink sink) { g_sink = sink; }

extern "C" int ke_log_is_fatal(const char* text) {
  return strncmp(text, "Failed to allocate", 18) == 0 ||
         strncmp(text, "Failed to resize buffer", 23) == 0 || strcmp(text, "HALTED") == 0;
}

extern "C" void DebugLog(const char* format, va_list args) {
  char buffer[256];
  vsnprintf(buffer, sizeof buffer, format, args);
  if (g_sink != nullptr) g_sink(buffer);
}

extern "C" int DebugVsnprintf(char* buffer, size_t buf_size, const char* format,
                              va_list vlist) {
  return vsnprintf(buffer, buf_size, format, vlist);
}
