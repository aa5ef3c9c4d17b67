// Big-endian (network order) byte helpers for every wire format the array reads or writes: frames, heartbeats,
// table sync. Plain byte loads and stores, no alignment assumed, no allocation except the append helpers.
#pragma once

#include <cstdint>
#include <string>

namespace dlba::wire {

inline uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline uint64_t load64(const uint8_t* p) { return static_cast<uint64_t>(load32(p)) << 32 | load32(p + 4); }

inline void store16(uint8_t* p, uint16_t v) { p[0] = static_cast<uint8_t>(v >> 8), p[1] = static_cast<uint8_t>(v); }
inline void store32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24), p[1] = static_cast<uint8_t>(v >> 16), p[2] = static_cast<uint8_t>(v >> 8),
    p[3] = static_cast<uint8_t>(v);
}
inline void store64(uint8_t* p, uint64_t v) {
    store32(p, static_cast<uint32_t>(v >> 32));
    store32(p + 4, static_cast<uint32_t>(v));
}

// Appending to a growing message (the table sync's encoder).
inline void append16(std::string& out, uint16_t v) {
    uint8_t b[2];
    store16(b, v);
    out.append(reinterpret_cast<const char*>(b), sizeof b);
}
inline void append32(std::string& out, uint32_t v) {
    uint8_t b[4];
    store32(b, v);
    out.append(reinterpret_cast<const char*>(b), sizeof b);
}
inline void append64(std::string& out, uint64_t v) {
    uint8_t b[8];
    store64(b, v);
    out.append(reinterpret_cast<const char*>(b), sizeof b);
}

}  // namespace dlba::wire
