// The replay window: one-way messages move forward per sender; requests are taken once; anything too far from our
// clock is stale.
#include <catch2/catch.hpp>

#include "auth/replay.hpp"

using namespace dlba::auth;

namespace {
constexpr uint64_t kWindow = 10'000'000;
constexpr uint64_t kNow = 1'700'000'000'000'000;
}  // namespace

TEST_CASE("a heartbeat at or below the sender's highest counter is a replay", "[auth]") {
    ReplayGuard g(kWindow);
    CHECK(g.one_way(1, kNow, kNow) == Freshness::fresh);
    CHECK(g.one_way(1, kNow, kNow) == Freshness::replayed);
    CHECK(g.one_way(1, kNow - 1, kNow) == Freshness::replayed);
    CHECK(g.one_way(1, kNow + 1, kNow) == Freshness::fresh);
    CHECK(g.one_way(2, kNow, kNow) == Freshness::fresh);  // per sender
}

TEST_CASE("a restarted sender's clock-based counter still moves forward", "[auth]") {
    ReplayGuard g(kWindow);
    CHECK(g.one_way(1, kNow, kNow) == Freshness::fresh);
    CHECK(g.one_way(1, kNow + 2'000'000, kNow + 2'000'000) == Freshness::fresh);  // new process, later clock
}

TEST_CASE("messages outside the window either way are stale", "[auth]") {
    ReplayGuard g(kWindow);
    CHECK(g.one_way(1, kNow - kWindow - 1, kNow) == Freshness::stale);
    CHECK(g.one_way(1, kNow + kWindow + 1, kNow) == Freshness::stale);
    CHECK(g.request(1, kNow - kWindow - 1, kNow) == Freshness::stale);
    CHECK(g.answer(kNow + kWindow + 1, kNow) == Freshness::stale);
    CHECK(g.answer(kNow - 5, kNow) == Freshness::fresh);
}

TEST_CASE("a request is taken once, though requests may come out of order", "[auth]") {
    ReplayGuard g(kWindow);
    CHECK(g.request(0, kNow, kNow) == Freshness::fresh);
    CHECK(g.request(0, kNow - 100, kNow) == Freshness::fresh);  // another dlbactl, a little earlier
    CHECK(g.request(0, kNow, kNow + 10) == Freshness::replayed);
    CHECK(g.request(0, kNow - 100, kNow + 10) == Freshness::replayed);
    // Once out of the window, forgotten and stale.
    CHECK(g.request(0, kNow, kNow + kWindow + 1) == Freshness::stale);
}
