#include "net/connections_per_ip.hpp"

#include <algorithm>
#include <bit>

namespace dlba::server {

namespace {

constexpr uint32_t count_of(uint64_t v) { return static_cast<uint32_t>(v); }
constexpr uint32_t ip_of(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
constexpr uint64_t slot_value(uint32_t ip, uint32_t count) { return (static_cast<uint64_t>(ip) << 32) | count; }

// murmur3's 32-bit finaliser: neighbouring addresses (a /24 of clients) land far apart.
constexpr uint32_t mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

}  // namespace

ConnectionsPerIp::ConnectionsPerIp(size_t addresses, uint32_t seed) : seed_(seed) {
    const size_t n = std::bit_ceil(std::clamp<size_t>(addresses, 1024, kMaxSlots));
    slots_ = std::make_unique<std::atomic<uint64_t>[]>(n);
    for (size_t i = 0; i < n; ++i) slots_[i].store(0, std::memory_order_relaxed);
    mask_ = n - 1;
}

size_t ConnectionsPerIp::home(uint32_t ip) const { return mix(ip ^ seed_) & mask_; }

IpAdmission ConnectionsPerIp::admit(uint32_t ip, uint32_t limit) {
    const size_t start = home(ip);
    while (true) {
        // The address's slot if it has one; else the first free slot of its window.
        size_t free_at = SIZE_MAX;
        uint64_t free_value = 0;
        for (size_t k = 0; k < kWindow; ++k) {
            const size_t i = (start + k) & mask_;
            uint64_t v = slots_[i].load(std::memory_order_relaxed);
            while (count_of(v) != 0 && ip_of(v) == ip) {
                if (limit != 0 && count_of(v) >= limit) return IpAdmission::refused;
                if (slots_[i].compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) return IpAdmission::counted;
                // v now holds the slot's new value: another connection of this address came or went.
            }
            if (count_of(v) == 0 && free_at == SIZE_MAX) {
                free_at = i;
                free_value = v;
            }
        }
        if (free_at == SIZE_MAX) return IpAdmission::untracked;
        if (slots_[free_at].compare_exchange_strong(free_value, slot_value(ip, 1), std::memory_order_relaxed)) {
            return IpAdmission::counted;
        }
        // Another worker took that slot (perhaps for this very address): look again.
    }
}

void ConnectionsPerIp::release(uint32_t ip) {
    const size_t start = home(ip);
    for (size_t k = 0; k < kWindow; ++k) {
        const size_t i = (start + k) & mask_;
        uint64_t v = slots_[i].load(std::memory_order_relaxed);
        while (count_of(v) != 0 && ip_of(v) == ip) {
            if (slots_[i].compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) return;
        }
    }
}

uint32_t ConnectionsPerIp::open(uint32_t ip) const {
    const size_t start = home(ip);
    uint32_t n = 0;
    for (size_t k = 0; k < kWindow; ++k) {
        const uint64_t v = slots_[(start + k) & mask_].load(std::memory_order_relaxed);
        if (count_of(v) != 0 && ip_of(v) == ip) n += count_of(v);
    }
    return n;
}

}  // namespace dlba::server
