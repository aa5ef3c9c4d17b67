#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "http/consistent_hash.hpp"
#include "printable.hpp"

using namespace dlba::http;
namespace test = dlba::http::test;

namespace {

constexpr int key_count = 100'000;

std::vector<std::string> make_keys() {
    std::vector<std::string> keys;
    keys.reserve(key_count);
    for (int i = 0; i < key_count; ++i) keys.push_back("/static/img/" + std::to_string(i) + ".gif");
    return keys;
}

const std::vector<std::string>& request_keys() {
    static const std::vector<std::string> keys = make_keys();
    return keys;
}

std::vector<std::string> backend_names(int n, int first = 0) {
    std::vector<std::string> names;
    for (int i = first; i < first + n; ++i) names.push_back("cache" + std::to_string(i));
    return names;
}

// The back-end key chosen for every request key.
std::vector<std::string> assign(const std::vector<std::string>& names, const std::vector<uint32_t>& weights = {}) {
    std::vector<WeightedBackend> backends;
    for (size_t i = 0; i < names.size(); ++i) backends.push_back({names[i], weights.empty() ? 1u : weights[i]});
    ConsistentHash hash(backends);
    std::vector<std::string> out;
    out.reserve(key_count);
    for (const std::string& k : request_keys()) out.emplace_back(hash.key(*hash.choose(k)));
    return out;
}

struct Movement {
    size_t moved = 0;
    size_t moved_between_survivors = 0;
};

Movement compare(const std::vector<std::string>& before, const std::vector<std::string>& after,
                 const std::vector<std::string>& survivors) {
    Movement m;
    for (size_t i = 0; i < before.size(); ++i) {
        if (before[i] == after[i]) continue;
        ++m.moved;
        bool from_survivor = std::count(survivors.begin(), survivors.end(), before[i]) > 0;
        bool to_survivor = std::count(survivors.begin(), survivors.end(), after[i]) > 0;
        if (from_survivor && to_survivor) ++m.moved_between_survivors;
    }
    return m;
}

}  // namespace

// Tolerance: the number of keys a change moves is binomial; 5% of the expected count is more than 4 standard
// deviations for every N below, so these tests do not flake, yet a scheme that moves 2/N would fail them.
TEST_CASE("adding one of N back ends moves about 1/N of the keys, all of them to the new one", "[consistent-hash]") {
    for (int n : {3, 5, 10, 20}) {
        INFO("N = " << n);
        auto before_names = backend_names(n - 1);
        auto after_names = backend_names(n);
        auto before = assign(before_names);
        auto after = assign(after_names);
        Movement m = compare(before, after, before_names);
        double expected = static_cast<double>(key_count) / n;
        CHECK(std::abs(static_cast<double>(m.moved) - expected) < 0.05 * expected);
        CHECK(m.moved_between_survivors == 0);
        size_t to_new = 0;
        for (size_t i = 0; i < after.size(); ++i) to_new += before[i] != after[i] && after[i] == after_names.back();
        CHECK(to_new == m.moved);
    }
}

TEST_CASE("removing one of N back ends moves only its keys, about 1/N of them", "[consistent-hash]") {
    for (int n : {3, 5, 10, 20}) {
        INFO("N = " << n);
        auto before_names = backend_names(n);
        auto after_names = before_names;
        after_names.erase(after_names.begin() + n / 2);  // a back end from the middle of the list
        auto before = assign(before_names);
        auto after = assign(after_names);
        Movement m = compare(before, after, after_names);
        double expected = static_cast<double>(key_count) / n;
        CHECK(std::abs(static_cast<double>(m.moved) - expected) < 0.05 * expected);
        CHECK(m.moved_between_survivors == 0);
        size_t from_removed = 0;
        for (size_t i = 0; i < before.size(); ++i) from_removed += before[i] == before_names[n / 2];
        CHECK(from_removed == m.moved);
    }
}

TEST_CASE("keys spread evenly over equal back ends", "[consistent-hash]") {
    auto assigned = assign(backend_names(10));
    std::map<std::string, size_t> counts;
    for (const auto& k : assigned) ++counts[k];
    REQUIRE(counts.size() == 10);
    for (const auto& [name, count] : counts) {
        INFO(test::printable(name));
        CHECK(std::abs(static_cast<double>(count) - key_count / 10.0) < 0.05 * key_count / 10.0);
    }
}

TEST_CASE("keys spread in proportion to weights, and a weight change moves keys only to or from that back end",
          "[consistent-hash]") {
    auto names = backend_names(4);
    std::vector<uint32_t> weights = {1, 2, 3, 4};
    auto assigned = assign(names, weights);
    std::map<std::string, size_t> counts;
    for (const auto& k : assigned) ++counts[k];
    for (size_t i = 0; i < names.size(); ++i) {
        INFO(test::printable(names[i]));
        double expected = key_count * weights[i] / 10.0;
        CHECK(std::abs(static_cast<double>(counts[names[i]]) - expected) < 0.05 * expected);
    }

    auto heavier = weights;
    heavier[0] = 3;  // cache0 goes from 1/10 to 3/12 of the keys
    auto after = assign(names, heavier);
    size_t moved = 0, moved_elsewhere = 0;
    for (size_t i = 0; i < after.size(); ++i) {
        if (assigned[i] == after[i]) continue;
        ++moved;
        moved_elsewhere += after[i] != names[0];
    }
    CHECK(moved_elsewhere == 0);
    double expected = key_count * (3.0 / 12 - 1.0 / 10);
    CHECK(std::abs(static_cast<double>(moved) - expected) < 0.05 * expected);
}

TEST_CASE("a zero-weight back end gets no keys and an all-zero set chooses nothing", "[consistent-hash]") {
    std::vector<WeightedBackend> backends = {{"a", 1}, {"b", 0}, {"c", 1}};
    ConsistentHash hash(backends);
    size_t to_zero_weight = 0;
    for (int i = 0; i < 1000; ++i) to_zero_weight += hash.choose("k" + std::to_string(i)) == 1u;
    CHECK(to_zero_weight == 0);
    std::vector<WeightedBackend> none = {{"a", 0}};
    CHECK_FALSE(ConsistentHash(none).choose("k").has_value());
    CHECK_FALSE(ConsistentHash().choose("k").has_value());
}

TEST_CASE("an unusable back end's keys go to their next choice and no other key moves", "[consistent-hash]") {
    auto names = backend_names(5);
    std::vector<WeightedBackend> backends;
    for (const auto& n : names) backends.push_back({n});
    ConsistentHash hash(backends);
    bool usable[5] = {true, true, false, true, true};
    auto without = assign({names[0], names[1], names[3], names[4]});
    size_t mismatches = 0;
    for (size_t i = 0; i < request_keys().size(); ++i) {
        auto chosen = hash.choose(request_keys()[i], usable);
        mismatches += hash.key(*chosen) != without[i];
    }
    // Marking a back end down is the same as removing it, so every node agrees on where its keys went.
    CHECK(mismatches == 0);
}

TEST_CASE("the choice does not depend on the order back ends are listed in", "[consistent-hash]") {
    std::vector<WeightedBackend> a = {{"x", 1}, {"y", 2}, {"z", 3}};
    std::vector<WeightedBackend> b = {{"z", 3}, {"x", 1}, {"y", 2}};
    ConsistentHash ha(a), hb(b);
    size_t differ = 0;
    for (int i = 0; i < 10'000; ++i) {
        std::string k = "k" + std::to_string(i);
        differ += ha.key(*ha.choose(k)) != hb.key(*hb.choose(k));
    }
    CHECK(differ == 0);
    CHECK(ha.find("y") == 1u);
    CHECK_FALSE(ha.find("w").has_value());
}

TEST_CASE("the hash is stable across builds and machines", "[consistent-hash]") {
    // Changing these values would move every URL and URL session at once: a deliberate, versioned event.
    CHECK(stable_hash("") == 0xefd01f60ba992926ULL);
    CHECK(stable_hash("/index.html") == 0xbc75b2cb8cc837eaULL);
    CHECK(stable_hash("/index.html", 42) != stable_hash("/index.html"));
    std::vector<WeightedBackend> backends = {{"web1"}, {"web2"}, {"web3"}};
    ConsistentHash hash(backends);
    CHECK(hash.key(*hash.choose("/a.html")) == "web3");
    CHECK(hash.key(*hash.choose("/b.gif")) == "web1");
    CHECK(hash.key(*hash.choose("/c.gif")) == "web1");
}

TEST_CASE("bounded loads keep every back end within c times its fair share", "[consistent-hash][bounded]") {
    auto names = backend_names(8);
    std::vector<WeightedBackend> backends;
    for (const auto& n : names) backends.push_back({n});
    ConsistentHash hash(backends);
    const double c = 1.25;
    std::vector<uint32_t> loads(names.size(), 0);
    // A skewed workload: a few hot keys requested over and over, each request staying in flight.
    size_t total = 0;
    for (int round = 0; round < 400; ++round) {
        for (int k = 0; k < 5; ++k) {
            auto chosen = hash.choose_bounded("/hot/" + std::to_string(k), loads, c);
            if (!chosen) FAIL("no back end chosen");
            ++loads[*chosen];
            ++total;
            uint32_t max_load = *std::max_element(loads.begin(), loads.end());
            double bound = std::ceil(c * static_cast<double>(total) / static_cast<double>(names.size()));
            if (max_load > bound) FAIL("load " << max_load << " over bound " << bound << " after " << total);
        }
    }
    SUCCEED();
}

TEST_CASE("with spare capacity, bounded loads choose exactly what plain consistent hashing does",
          "[consistent-hash][bounded]") {
    auto names = backend_names(6);
    std::vector<WeightedBackend> backends;
    for (const auto& n : names) backends.push_back({n});
    ConsistentHash hash(backends);
    std::vector<uint32_t> loads = {10, 10, 10, 10, 10, 10};
    size_t differ = 0;
    for (int i = 0; i < 10'000; ++i) {
        std::string k = "k" + std::to_string(i);
        differ += hash.choose(k) != hash.choose_bounded(k, loads, 1.5);
    }
    CHECK(differ == 0);

    // An overloaded back end is skipped, and only its keys move.
    loads[2] = 1000;
    size_t moved = 0, wrong = 0;
    for (int i = 0; i < 10'000; ++i) {
        std::string k = "k" + std::to_string(i);
        auto plain = hash.choose(k), bounded = hash.choose_bounded(k, loads, 1.5);
        if (plain == bounded) continue;
        ++moved;
        wrong += *plain != 2;
    }
    CHECK(wrong == 0);
    CHECK(moved > 0);
}

TEST_CASE("run-time weights: equal ones choose as choose() does, a scaled one takes its share and moves only its keys",
          "[consistent-hash][weighted]") {
    const auto names = backend_names(3);
    std::vector<WeightedBackend> backends;
    for (const auto& n : names) backends.push_back({n, 1});
    const ConsistentHash h(backends);
    const std::vector<uint32_t> equal{100, 100, 100};
    const std::vector<uint32_t> scaled{100, 100, 25};  // the third back end's agent says 25 %
    std::vector<int> counts(3, 0);
    int moved_elsewhere = 0;
    for (int k = 0; k < 30000; ++k) {
        const std::string& key = request_keys()[k];
        const auto plain = h.choose(key);
        REQUIRE(h.choose_weighted(key, {}, equal) == plain);
        const auto w = h.choose_weighted(key, {}, scaled);
        REQUIRE(w);
        ++counts[*w];
        // Keys move only away from the scaled-down back end, never between the two that stayed.
        if (*w != *plain && *plain != 2) ++moved_elsewhere;
    }
    CHECK(moved_elsewhere == 0);
    CHECK(counts[2] / 30000.0 == Approx(25.0 / 225).margin(0.01));
    CHECK(counts[0] / 30000.0 == Approx(100.0 / 225).margin(0.015));
    const std::vector<uint32_t> zero{0, 100, 100};
    for (int k = 0; k < 1000; ++k) CHECK(h.choose_weighted(request_keys()[k], {}, zero) != std::optional<size_t>(0));
}
