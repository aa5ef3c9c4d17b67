// Remembers, for a short time, which node got the first fragment of an IP datagram, so the later fragments (which
// carry no ports) follow it. Fixed size, direct-mapped, sized at start-up: a collision evicts the older datagram,
// whose later fragments are then dropped and counted rather than sent to the wrong node.
#pragma once

#include <cstdint>
#include <memory>

#include "bucket_table.hpp"
#include "packet.hpp"

namespace dlba {

class FragmentTable {
public:
    FragmentTable(uint32_t size, uint32_t timeout_ms);

    void remember(const pkt::FragKey& key, uint16_t node, uint64_t now_ms) {
        Slot& s = slots_[index(key)];
        s.key = key;
        s.node = node;
        s.expires_ms = now_ms + timeout_ms_;
    }
    // kUnassigned when the datagram is unknown or its entry expired.
    uint16_t find(const pkt::FragKey& key, uint64_t now_ms) const {
        const Slot& s = slots_[index(key)];
        if (s.node == kUnassigned || now_ms > s.expires_ms || !(s.key == key)) return kUnassigned;
        return s.node;
    }
    uint32_t size() const { return mask_ + 1; }

private:
    struct Slot {
        pkt::FragKey key;
        uint16_t node = kUnassigned;
        uint64_t expires_ms = 0;
    };
    uint32_t index(const pkt::FragKey& k) const {
        uint64_t x = (static_cast<uint64_t>(k.src) << 32 | k.dst) ^ (static_cast<uint64_t>(k.id) << 8 | k.proto) * 0x9e3779b97f4a7c15ULL;
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 32;
        return static_cast<uint32_t>(x) & mask_;
    }

    uint32_t mask_;
    uint32_t timeout_ms_;
    std::unique_ptr<Slot[]> slots_;
};

}  // namespace dlba
