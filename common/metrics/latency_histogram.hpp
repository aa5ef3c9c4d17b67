// A response-time histogram kept by one worker thread, without locks: one Counter per bucket (a plain load and
// store by the one writer, common/counter.hpp), each counting the observations that fell in that bucket alone.
// A scrape merges the workers' histograms into cumulative counts (Prometheus' le buckets), so the workers never
// share a cache line or an instruction with a lock prefix. The count is the merged buckets' total, so _count always
// equals the +Inf bucket even while workers go on counting.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "counter.hpp"

namespace dlba::metrics {

// Upper bounds in microseconds (0.5 ms .. 10 s), as Prometheus' defaults with a finer low end for a LAN back end.
inline constexpr std::array<uint64_t, 14> kLatencyBoundsUs{500,    1000,   2500,    5000,    10000,   25000,   50000,
                                                          100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
inline constexpr size_t kLatencyBuckets = kLatencyBoundsUs.size() + 1;  // and one above the largest bound

// The bounds in seconds, for the exposition's le labels.
std::array<double, kLatencyBoundsUs.size()> latency_bounds_seconds();

// The bucket of an observation: the first whose bound it does not exceed.
constexpr size_t latency_bucket(uint64_t us) {
    size_t i = 0;
    while (i < kLatencyBoundsUs.size() && us > kLatencyBoundsUs[i]) ++i;
    return i;
}

struct LatencyHistogram {
    Counter buckets[kLatencyBuckets];
    Counter sum_us;

    // Only the owning thread calls this.
    void observe(uint64_t us) {
        buckets[latency_bucket(us)].add();
        sum_us.add(us);
    }
};

// Several workers' histograms added up, cumulative: cumulative[i] counts the observations <= bound i, the last
// all of them.
struct LatencyTotals {
    std::array<uint64_t, kLatencyBuckets> cumulative{};
    uint64_t sum_us = 0;

    uint64_t count() const { return cumulative.back(); }
    double sum_seconds() const { return static_cast<double>(sum_us) / 1e6; }
};

LatencyTotals merge_latency(std::span<const LatencyHistogram* const> workers);

}  // namespace dlba::metrics
