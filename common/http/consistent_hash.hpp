// Consistent hashing of request keys (URLs, URL session ids) onto back ends: every node computes the same answer
// from the same back-end set, and when a back end comes or goes only the keys that must move do.
//
// Algorithm: weighted rendezvous hashing (HRW). Each back end scores every key; the highest score wins. Adding a
// back end moves only the keys it now wins (≈ w_new / W of them) and removing one moves only the keys it had, so no
// key ever moves between two back ends that both stayed (a Maglev table or a ring can move a few; HRW cannot). The
// price is O(N) per lookup, a few ns per back end, which is fine for the tens of back ends a service has. The answer
// does not depend on the order back ends are listed in, so nodes agree even if their configs list them differently.
//
// Scores: with equal weights, a 64-bit hash of (key, back end), compared as integers. With unequal weights,
// w / -ln(u) where u in (0,1) comes from the same hash (Schindelhauer & Schomaker's logarithmic method), which gives
// each back end a w / W share. Both are pure functions of the bytes, so every node (same build) agrees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlba::http {

// A 64-bit hash that never changes between builds, machines or versions: it decides which back end holds a
// session, so changing it would move every session at once. FNV-1a over the bytes, finished by murmur3's fmix64.
uint64_t stable_hash(std::string_view data, uint64_t seed = 0);

struct WeightedBackend {
    std::string_view key;  // the back end's key from the config; keys must be unique
    uint32_t weight = 1;   // 0: never chosen
};

class ConsistentHash {
public:
    ConsistentHash() = default;
    explicit ConsistentHash(std::span<const WeightedBackend> backends, uint64_t seed = 0);

    size_t size() const { return entries_.size(); }
    std::string_view key(size_t index) const { return entries_[index].key; }
    uint32_t weight(size_t index) const { return entries_[index].weight; }
    std::optional<size_t> find(std::string_view backend_key) const;

    // Index of the back end for request_key among those with weight > 0 and usable[i] (an empty span means all are
    // usable; otherwise it has size() entries). nullopt when none qualifies. Marking a back end unusable moves only
    // its own keys, to each key's next choice.
    std::optional<size_t> choose(std::string_view request_key, std::span<const bool> usable = {}) const;
    // As choose(), with the weights in force now instead of those given at construction (size() entries; a load
    // agent scales them at run time). Changing one back end's weight moves keys only to or from that back end.
    std::optional<size_t> choose_weighted(std::string_view request_key, std::span<const bool> usable,
                                          std::span<const uint32_t> weights) const;

    // Consistent hashing with bounded loads: as choose(), but skips back ends whose load would exceed
    // ceil(c * (total load + 1) * weight / total weight), so no back end gets more than c times its fair share of
    // in-flight requests. loads has size() entries; c >= 1 (smaller is taken as 1). A key leaves its first choice
    // only while that back end is over the bound.
    std::optional<size_t> choose_bounded(std::string_view request_key, std::span<const uint32_t> loads, double c,
                                         std::span<const bool> usable = {}) const;

private:
    struct Entry {
        std::string key;
        uint32_t weight;
        uint64_t hash;
    };
    template <class Eligible>
    std::optional<size_t> best(uint64_t key_hash, Eligible&& eligible, std::span<const uint32_t> weights = {},
                               bool equal_weights = true) const;

    std::vector<Entry> entries_;
    uint64_t seed_ = 0;
    bool equal_weights_ = true;
};

}  // namespace dlba::http
