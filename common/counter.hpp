// A counter with exactly one writing thread and any number of readers. The writer does a plain load and store
// (no locked instruction on the fast path); readers see a value that is at most a little stale, never torn.
#pragma once

#include <atomic>
#include <cstdint>

namespace dlba {

class Counter {
public:
    void add(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void sub(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
    void set(uint64_t n) { value_.store(n, std::memory_order_relaxed); }
    uint64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> value_{0};
};

// A row of a counters table: a counter each thread keeps in its own PerThread struct, summed when asked.
template <class PerThread>
struct CounterField {
    const char* name;
    Counter PerThread::*field;
};
// The row of a counter named after its field: DLBA_COUNTER_FIELD(WorkerStats, requests) is {"requests", &...}.
#define DLBA_COUNTER_FIELD(PerThread, field) ::dlba::CounterField<PerThread>{#field, &PerThread::field}

}  // namespace dlba
