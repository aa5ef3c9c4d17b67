#include "http/consistent_hash.hpp"

#include <cmath>

namespace dlba::http {

namespace {

constexpr uint64_t fmix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

}  // namespace

uint64_t stable_hash(std::string_view data, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325ULL ^ fmix64(seed);
    for (char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return fmix64(h ^ data.size());
}

ConsistentHash::ConsistentHash(std::span<const WeightedBackend> backends, uint64_t seed) : seed_(seed) {
    entries_.reserve(backends.size());
    uint32_t first_weight = 0;
    for (const WeightedBackend& b : backends) {
        entries_.push_back({std::string(b.key), b.weight, stable_hash(b.key, seed)});
        if (b.weight == 0) continue;
        if (first_weight == 0) first_weight = b.weight;
        equal_weights_ = equal_weights_ && b.weight == first_weight;
    }
}

std::optional<size_t> ConsistentHash::find(std::string_view backend_key) const {
    for (size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].key == backend_key) return i;
    return std::nullopt;
}

// `weights` empty: the constructor's (and equal_weights_); else those, with `equal_weights` saying whether they are.
template <class Eligible>
std::optional<size_t> ConsistentHash::best(uint64_t key_hash, Eligible&& eligible, std::span<const uint32_t> weights,
                                           bool equal_weights) const {
    const bool given = weights.size() == entries_.size();
    const bool equal = given ? equal_weights : equal_weights_;
    std::optional<size_t> winner;
    uint64_t best_hash = 0;
    double best_score = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        const uint32_t weight = given ? weights[i] : e.weight;
        if (weight == 0 || !eligible(i)) continue;
        uint64_t h = fmix64(key_hash ^ e.hash);
        double score = 0;
        bool better = false, tie = false;
        if (equal) {
            better = h > best_hash;
            tie = h == best_hash;
        } else {
            // u in (0,1): the top 53 bits, offset by half a step so it is never 0 or 1.
            double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
            score = weight / -std::log(u);
            better = score > best_score;
            tie = score == best_score;
        }
        // Ties go to the smaller key, so the answer never depends on the order of the list.
        if (!winner || better || (tie && e.key < entries_[*winner].key)) {
            winner = i;
            best_hash = h;
            best_score = score;
        }
    }
    return winner;
}

std::optional<size_t> ConsistentHash::choose(std::string_view request_key, std::span<const bool> usable) const {
    bool all_usable = usable.size() != entries_.size();
    return best(stable_hash(request_key, seed_), [&](size_t i) { return all_usable || usable[i]; });
}

std::optional<size_t> ConsistentHash::choose_weighted(std::string_view request_key, std::span<const bool> usable,
                                                      std::span<const uint32_t> weights) const {
    if (weights.size() != entries_.size()) return choose(request_key, usable);
    bool all_usable = usable.size() != entries_.size();
    // Equal among those that can win: then the plain integer comparison, exactly as choose() with equal weights.
    uint32_t first = 0;
    bool equal = true;
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (weights[i] == 0) continue;
        if (first == 0) first = weights[i];
        equal = equal && weights[i] == first;
    }
    return best(stable_hash(request_key, seed_),
                [&](size_t i) { return all_usable || usable[i]; }, weights, equal);
}

std::optional<size_t> ConsistentHash::choose_bounded(std::string_view request_key, std::span<const uint32_t> loads,
                                                     double c, std::span<const bool> usable) const {
    if (loads.size() != entries_.size()) return choose(request_key, usable);
    bool all_usable = usable.size() != entries_.size();
    auto is_usable = [&](size_t i) { return all_usable || usable[i]; };
    double total_load = 0, total_weight = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].weight == 0 || !is_usable(i)) continue;
        total_load += loads[i];
        total_weight += entries_[i].weight;
    }
    if (total_weight == 0) return std::nullopt;
    double factor = (c < 1 ? 1 : c) * (total_load + 1) / total_weight;
    auto fits = [&](size_t i) {
        return is_usable(i) && static_cast<double>(loads[i]) + 1 <= std::ceil(factor * entries_[i].weight);
    };
    // Some back end always fits (the capacities add up to more than the load), but fall back rather than rely on
    // floating point at the edges.
    if (auto winner = best(stable_hash(request_key, seed_), fits)) return winner;
    return choose(request_key, usable);
}

}  // namespace dlba::http
