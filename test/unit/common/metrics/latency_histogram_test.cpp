// The per-worker response-time histogram and its merge into cumulative buckets.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "metrics/latency_histogram.hpp"

using namespace dlba::metrics;

TEST_CASE("an observation lands in the first bucket whose bound it does not exceed", "[metrics]") {
    CHECK(latency_bucket(0) == 0);
    CHECK(latency_bucket(500) == 0);  // le is "less than or equal"
    CHECK(latency_bucket(501) == 1);
    CHECK(latency_bucket(10000000) == kLatencyBoundsUs.size() - 1);
    CHECK(latency_bucket(10000001) == kLatencyBoundsUs.size());  // above every bound: +Inf only
    CHECK(latency_bounds_seconds().front() == 0.0005);
    CHECK(latency_bounds_seconds().back() == 10.0);
}

TEST_CASE("merging workers adds their buckets and makes them cumulative", "[metrics]") {
    LatencyHistogram a, b;
    a.observe(100);       // bucket 0
    a.observe(700);       // bucket 1 (<= 1 ms)
    b.observe(700);       // bucket 1
    b.observe(3000000);   // <= 5 s
    b.observe(60000000);  // above 10 s
    const LatencyHistogram* both[] = {&a, &b};
    const LatencyTotals t = merge_latency(both);
    CHECK(t.cumulative[0] == 1);
    CHECK(t.cumulative[1] == 3);
    CHECK(t.cumulative[latency_bucket(3000000)] == 4);
    CHECK(t.cumulative[kLatencyBuckets - 2] == 4);
    CHECK(t.count() == 5);
    CHECK(t.sum_us == 100 + 700 + 700 + 3000000 + 60000000);
    CHECK(t.sum_seconds() == Approx(63.0015));
    for (size_t i = 1; i < kLatencyBuckets; ++i) CHECK(t.cumulative[i] >= t.cumulative[i - 1]);
}

TEST_CASE("workers observe while a scrape merges: buckets stay cumulative and _count is the +Inf bucket",
          "[metrics]") {
    constexpr int kWorkers = 4;
    constexpr uint64_t kEach = 200000;
    std::vector<LatencyHistogram> hist(kWorkers);
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&hist, w] {
            for (uint64_t i = 0; i < kEach; ++i) hist[w].observe((i * 7919) % 2000000);
        });
    }
    std::vector<const LatencyHistogram*> ptrs;
    for (const auto& h : hist) ptrs.push_back(&h);
    uint64_t last_count = 0;
    for (int scrape = 0; scrape < 200; ++scrape) {
        const LatencyTotals t = merge_latency(ptrs);
        for (size_t i = 1; i < kLatencyBuckets; ++i) REQUIRE(t.cumulative[i] >= t.cumulative[i - 1]);
        REQUIRE(t.count() >= last_count);  // counters only rise
        last_count = t.count();
    }
    for (auto& t : workers) t.join();
    CHECK(merge_latency(ptrs).count() == kWorkers * kEach);
}
