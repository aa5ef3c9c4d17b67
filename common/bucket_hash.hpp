// Client IP/port -> bucket. Both hashes are pure functions of (ip, port, table size[, seed]) so every node computes
// the same bucket for a packet, which the bucket-table sync relies on.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dlba {

enum class HashKind : uint8_t {
    seed_sum,  // the seed document's formula: (32-bit client IP + 16-bit client port) % size
    mix,       // default: seeded 64-bit finaliser (murmur3 fmix64), then a multiply-shift range reduction
};

std::optional<HashKind> parse_hash_kind(std::string_view name);
const char* hash_kind_name(HashKind kind);

// The seed formula. Neighbouring clients collide badly: 10.0.0.1:1001 and 10.0.0.2:1000 share a bucket, and a /24
// of clients with sequential ephemeral ports lands in a narrow band of the table.
struct SeedSumHash {
    uint32_t size;
    uint32_t operator()(uint32_t ip, uint16_t port) const {
        return static_cast<uint32_t>((static_cast<uint64_t>(ip) + port) % size);
    }
};

struct MixHash {
    uint32_t size;
    uint64_t seed;
    uint32_t operator()(uint32_t ip, uint16_t port) const {
        uint64_t x = ((static_cast<uint64_t>(ip) << 16) | port) ^ seed;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ULL;
        x ^= x >> 33;
        // Lemire's range reduction on the high half: unbiased enough for any size, no division on the fast path.
        return static_cast<uint32_t>(((x >> 32) * size) >> 32);
    }
};

// Non-templated entry point for control-plane code and tests; the data plane instantiates on the hash type instead.
uint32_t bucket_of(HashKind kind, uint32_t size, uint64_t seed, uint32_t ip, uint16_t port);

}  // namespace dlba
