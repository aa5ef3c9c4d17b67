// The clocks every process reads. CLOCK_MONOTONIC goes through the vDSO (no system call), so the data plane may read
// it once per burst. Pure code that needs time takes it as a parameter (injected in tests); only the thin shells
// around it call these.
#pragma once

#include <cstdint>
#include <ctime>

namespace dlba::clock {

inline uint64_t monotonic_us() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}
inline uint64_t monotonic_ms() { return monotonic_us() / 1000; }
inline uint32_t monotonic_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint32_t>(ts.tv_sec);
}
// Wall-clock seconds since the epoch: for operators (tables, logs), never for timeouts.
inline uint64_t unix_s() { return static_cast<uint64_t>(std::time(nullptr)); }

}  // namespace dlba::clock
