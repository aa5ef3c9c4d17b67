// Test helper: counts calls to the global operator new while an AllocationCounter is alive, to prove that code
// claimed allocation-free really is. The replacement operators live in allocation_counter.cpp, alone, so the compiler
// never sees a malloc-based new and a free-based delete together.
#pragma once

#include <cstddef>

namespace dlba::http::test {

class AllocationCounter {
public:
    AllocationCounter();
    ~AllocationCounter();
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;
    size_t count() const;
    static bool measuring();  // false in sanitizer builds, where count() stays 0
};

}  // namespace dlba::http::test
