#include <catch2/catch.hpp>

#include "load_steering.hpp"

using namespace dlba;

namespace {

const LoadSteeringRule kRule{50, 20, 10};

NodeLoad node(uint16_t n, std::optional<uint32_t> load, bool steered = false, bool eligible = true) {
    return {n, load, eligible, steered};
}

using Nodes = std::vector<uint16_t>;

}  // namespace

TEST_CASE("load steering: a high node with a peer at least the margin lower is steered") {
    CHECK(steered_nodes({node(1, 10), node(2, 80), node(3, 20)}, kRule) == Nodes{2});
    INFO("the margin exactly met: 51 - 31 = 20");
    CHECK(steered_nodes({node(1, 31), node(2, 51)}, kRule) == Nodes{2});
    INFO("one short of the margin: 51 - 32 = 19");
    CHECK(steered_nodes({node(1, 32), node(2, 51)}, kRule).empty());
}

TEST_CASE("load steering: the threshold itself is not above it") {
    CHECK(steered_nodes({node(1, 0), node(2, 50)}, kRule).empty());
    CHECK(steered_nodes({node(1, 0), node(2, 51)}, kRule) == Nodes{2});
}

TEST_CASE("load steering: equal loads steer nobody, however high") {
    CHECK(steered_nodes({node(1, 90), node(2, 90), node(3, 90)}, kRule).empty());
    CHECK(steered_nodes({node(1, 0), node(2, 0)}, kRule).empty());
}

TEST_CASE("load steering: all nodes high and within the margin: the normal rule") {
    CHECK(steered_nodes({node(1, 70), node(2, 85), node(3, 89)}, kRule).empty());
    INFO("one of them further off: that one only");
    CHECK(steered_nodes({node(1, 70), node(2, 85), node(3, 90)}, kRule) == Nodes{3});
}

TEST_CASE("load steering: one node is never steered") {
    CHECK(steered_nodes({node(1, 100)}, kRule).empty());
    CHECK(steered_nodes({node(1, 100, true)}, kRule).empty());
}

TEST_CASE("load steering: never every node; the least loaded always takes buckets") {
    // Everybody above the threshold and far apart: all but the lowest.
    const Nodes s = steered_nodes({node(1, 100, true), node(2, 75, true), node(3, 55, true)}, kRule);
    CHECK(s == Nodes{1, 2});
    // Even with every node steered in the previous round.
    CHECK(steered_nodes({node(1, 60, true), node(2, 60, true)}, kRule).empty());
}

TEST_CASE("load steering: hysteresis keeps a steered node steered down to high - hysteresis") {
    // Not steered yet: 45 is below the threshold.
    CHECK(steered_nodes({node(1, 0), node(2, 45)}, kRule).empty());
    // Steered before: stays steered at 45 and at 41, released at 40 (= 50 - 10).
    CHECK(steered_nodes({node(1, 0), node(2, 45, true)}, kRule) == Nodes{2});
    CHECK(steered_nodes({node(1, 0), node(2, 41, true)}, kRule) == Nodes{2});
    CHECK(steered_nodes({node(1, 0), node(2, 40, true)}, kRule).empty());
    INFO("released as well when the peers catch up within the margin");
    CHECK(steered_nodes({node(1, 30), node(2, 45, true)}, kRule).empty());
}

TEST_CASE("load steering: a hysteresis as large as the threshold releases only at zero") {
    const LoadSteeringRule wide{10, 5, 10};
    CHECK(steered_nodes({node(1, 0), node(2, 1, true)}, wide).empty());  // 1 - 0 < margin 5
    CHECK(steered_nodes({node(1, 0), node(2, 5, true)}, wide) == Nodes{2});
}

TEST_CASE("load steering: ineligible or unknown nodes are neither steered nor a reference") {
    INFO("the only low peer is failed/disabled: nobody is steered");
    CHECK(steered_nodes({node(1, 0, false, false), node(2, 90)}, kRule).empty());
    INFO("the only low peer has no known load");
    CHECK(steered_nodes({node(1, std::nullopt), node(2, 90)}, kRule).empty());
    INFO("an ineligible high node is not listed");
    CHECK(steered_nodes({node(1, 0), node(2, 90, false, false)}, kRule).empty());
    CHECK(steered_nodes({node(1, 0), node(2, std::nullopt, true)}, kRule).empty());
    CHECK(steered_nodes({}, kRule).empty());
}

TEST_CASE("load steering: the order of the nodes does not change the verdict") {
    CHECK(steered_nodes({node(3, 80), node(1, 10), node(2, 60)}, kRule) == Nodes{3, 2});
}
