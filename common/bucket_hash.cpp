#include "bucket_hash.hpp"

namespace dlba {

std::optional<HashKind> parse_hash_kind(std::string_view name) {
    if (name == "seed_sum") return HashKind::seed_sum;
    if (name == "mix") return HashKind::mix;
    return std::nullopt;
}

const char* hash_kind_name(HashKind kind) {
    switch (kind) {
        case HashKind::seed_sum: return "seed_sum";
        case HashKind::mix: return "mix";
    }
    return "?";
}

uint32_t bucket_of(HashKind kind, uint32_t size, uint64_t seed, uint32_t ip, uint16_t port) {
    if (kind == HashKind::seed_sum) return SeedSumHash{size}(ip, port);
    return MixHash{size, seed}(ip, port);
}

}  // namespace dlba
