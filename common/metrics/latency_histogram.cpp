#include "metrics/latency_histogram.hpp"

namespace dlba::metrics {

std::array<double, kLatencyBoundsUs.size()> latency_bounds_seconds() {
    std::array<double, kLatencyBoundsUs.size()> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(kLatencyBoundsUs[i]) / 1e6;
    return out;
}

LatencyTotals merge_latency(std::span<const LatencyHistogram* const> workers) {
    LatencyTotals t;
    for (const LatencyHistogram* w : workers) {
        for (size_t i = 0; i < kLatencyBuckets; ++i) t.cumulative[i] += w->buckets[i].get();
        t.sum_us += w->sum_us.get();
    }
    for (size_t i = 1; i < kLatencyBuckets; ++i) t.cumulative[i] += t.cumulative[i - 1];
    return t;
}

}  // namespace dlba::metrics
