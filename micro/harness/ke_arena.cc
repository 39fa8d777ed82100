#include "micro/harness/ke_arena.h"

#include <new>

#include "tensorflow/lite/micro/micro_arena_constants.h"
#include "tensorflow/lite/micro/micro_log.h"

namespace ke_micro {

uint8_t* GuardedArenaAllocator::AllocatePersistentBuffer(size_t size, size_t alignment) {
  // GetAvailableMemory() is the gap between the temporaries' end and the tail.
  const size_t available = GetAvailableMemory(alignment);
  if (available < size) {
    MicroPrintf("Failed to allocate tail memory. Requested: %u, available %u, missing: %u",
                static_cast<unsigned>(size), static_cast<unsigned>(available),
                static_cast<unsigned>(size - available));
    return nullptr;
  }
  return tflite::SingleArenaBufferAllocator::AllocatePersistentBuffer(size, alignment);
}

tflite::MicroAllocator* CreateGuardedAllocator(GuardedArena& storage, uint8_t* arena, size_t size) {
  const uintptr_t align = tflite::MicroArenaBufferAlignment();
  const uintptr_t start = (reinterpret_cast<uintptr_t>(arena) + align - 1) / align * align;
  const size_t skipped = start - reinterpret_cast<uintptr_t>(arena);
  if (size <= skipped) {
    MicroPrintf("Failed to allocate tail memory: arena of %u bytes is too small",
                static_cast<unsigned>(size));
    return nullptr;
  }
  auto* allocator = new (storage.allocator)
      GuardedArenaAllocator(reinterpret_cast<uint8_t*>(start), size - skipped);
  uint8_t* planner_buffer = allocator->AllocatePersistentBuffer(
      sizeof(tflite::GreedyMemoryPlanner), alignof(tflite::GreedyMemoryPlanner));
  if (planner_buffer == nullptr) return nullptr;
  auto* planner = new (planner_buffer) tflite::GreedyMemoryPlanner();
  if (allocator->GetAvailableMemory(alignof(tflite::MicroAllocator)) < sizeof(tflite::MicroAllocator)) {
    MicroPrintf("Failed to allocate tail memory: arena of %u bytes is too small",
                static_cast<unsigned>(size));
    return nullptr;
  }
  return tflite::MicroAllocator::Create(allocator, planner);
}

}  // namespace ke_micro
