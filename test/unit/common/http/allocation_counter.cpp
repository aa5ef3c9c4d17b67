#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

// AddressSanitizer brings its own operator new/delete and reports a malloc-based replacement as a mismatch, so under
// ASan nothing is replaced and the counter reports that it is not measuring.
#if defined(__SANITIZE_ADDRESS__)
#define DLBA_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DLBA_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef DLBA_COUNT_ALLOCATIONS
#define DLBA_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<size_t> allocations{0};
}  // namespace

#if DLBA_COUNT_ALLOCATIONS
void* operator new(size_t size) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace dlba::http::test {

AllocationCounter::AllocationCounter() {
    allocations = 0;
    counting = true;
}
AllocationCounter::~AllocationCounter() { counting = false; }
size_t AllocationCounter::count() const { return allocations.load(); }
bool AllocationCounter::measuring() { return DLBA_COUNT_ALLOCATIONS; }

}  // namespace dlba::http::test
