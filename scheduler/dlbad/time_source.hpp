// The clocks and the sleep dlbad's jobs use, behind one interface: the daemon passes SystemTime, the unit tests a
// fake clock whose sleep advances it, so retries, leases and log limits are tested without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "clock.hpp"

namespace dlba::dlbad {

class TimeSource {
public:
    virtual ~TimeSource() = default;
    virtual uint64_t monotonic_ms() const = 0;
    virtual uint64_t unix_s() const = 0;  // for operators (tables, events), never for timeouts
    virtual void sleep_ms(uint32_t ms) const = 0;
};

class SystemTime final : public TimeSource {
public:
    uint64_t monotonic_ms() const override { return clock::monotonic_ms(); }
    uint64_t unix_s() const override { return clock::unix_s(); }
    void sleep_ms(uint32_t ms) const override { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
};

}  // namespace dlba::dlbad
