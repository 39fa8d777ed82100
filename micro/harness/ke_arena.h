// A tensor arena whose persistent allocations never overwrite live temporary allocations.
//
// TFLM's SingleArenaBufferAllocator hands out persistent buffers from the arena tail and
// checks them only against the head, not against temporaries above it. TFLM's own kernels
// (e.g. SOFTMAX's Prepare) and its memory planner allocate persistent memory while holding
// temporaries, so an arena a few hundred bytes too small silently corrupts them and the run
// crashes later. This allocator fails such an allocation with TFLM's usual message instead,
// so a too-small arena is always a clean AllocateTensors error.
#ifndef KE_MICRO_ARENA_H_
#define KE_MICRO_ARENA_H_

#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocator.h"

namespace ke_micro {

class GuardedArenaAllocator : public tflite::SingleArenaBufferAllocator {
 public:
  GuardedArenaAllocator(uint8_t* buffer, size_t size)
      : tflite::SingleArenaBufferAllocator(buffer, size) {}
  uint8_t* AllocatePersistentBuffer(size_t size, size_t alignment) override;
};

// Storage for the allocator objects, kept outside the arena by the caller.
struct GuardedArena {
  alignas(GuardedArenaAllocator) unsigned char allocator[sizeof(GuardedArenaAllocator)];
};

// A MicroAllocator over `arena` (aligned inside) using a GuardedArenaAllocator constructed in
// `storage` and a greedy memory planner in the arena; nullptr (with a message) if the arena
// cannot hold even the allocator's own bookkeeping.
tflite::MicroAllocator* CreateGuardedAllocator(GuardedArena& storage, uint8_t* arena, size_t size);

}  // namespace ke_micro

#endif  // KE_MICRO_ARENA_H_
