#include <catch2/catch.hpp>

#include <map>

#include "bucket_table.hpp"

using namespace dlba;

namespace {

MacAddr mac_of(uint16_t n) { return MacAddr{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(n)}}; }

void add_three_nodes(BucketTable& t) {
    for (uint16_t n = 1; n <= 3; ++n) t.set_node(n, mac_of(n), 1, NodeAdmin::enabled);
}

}  // namespace

TEST_CASE("a new table has every bucket unassigned and version 0", "[bucket_table]") {
    BucketTable t(1024, 60);
    CHECK(t.version() == 0);
    CHECK(t.unassigned_buckets() == 1024);
    for (uint32_t b = 0; b < 1024; b += 97) CHECK(t.entry(b).node == kUnassigned);
}

TEST_CASE("unassigned buckets go to the node with the fewest buckets, spreading evenly", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 300; ++b) REQUIRE(t.lookup_or_assign(b, 100) != kUnassigned);
    CHECK(t.node(1).buckets.get() == 100);
    CHECK(t.node(2).buckets.get() == 100);
    CHECK(t.node(3).buckets.get() == 100);
    CHECK(t.stats().assigned.get() == 300);
}

TEST_CASE("assignment follows weight: buckets per unit of weight stay level", "[bucket_table]") {
    BucketTable t(4096, 60);
    t.set_node(1, mac_of(1), 1, NodeAdmin::enabled);
    t.set_node(2, mac_of(2), 3, NodeAdmin::enabled);
    for (uint32_t b = 0; b < 400; ++b) t.lookup_or_assign(b, 10);
    CHECK(t.node(1).buckets.get() == 100);
    CHECK(t.node(2).buckets.get() == 300);
}

TEST_CASE("a node with weight 0, disabled or draining takes no new buckets", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    t.set_weight(1, 0);
    t.set_admin(2, NodeAdmin::disabled);
    t.set_admin(3, NodeAdmin::draining);
    CHECK(t.lookup_or_assign(5, 10) == kUnassigned);
    CHECK(t.stats().no_node.get() == 1);
    t.set_admin(2, NodeAdmin::enabled);
    CHECK(t.lookup_or_assign(5, 10) == 2);
}

TEST_CASE("a busy bucket keeps its node and refreshes its last access", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    const uint16_t first = t.lookup_or_assign(7, 1000);
    for (uint32_t now = 1001; now < 1300; now += 30) {
        // A new, empty node appears: it must not steal a bucket that is still busy.
        if (now == 1031) t.set_node(4, mac_of(4), 1, NodeAdmin::enabled);
        REQUIRE(t.lookup_or_assign(7, now) == first);
        REQUIRE(t.entry(7).last_access == now);
    }
}

TEST_CASE("idle bucket is reassigned after timeout, so a new node gains buckets", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 1000);
    t.set_node(4, mac_of(4), 1, NodeAdmin::enabled);
    const uint64_t before = t.version();
    // Buckets 0..9 stay busy; 10..29 go idle for longer than the timeout.
    for (uint32_t b = 0; b < 10; ++b) t.lookup_or_assign(b, 1050);
    for (uint32_t b = 0; b < 10; ++b) REQUIRE(t.lookup_or_assign(b, 1100) != 4);
    // At exactly the timeout a bucket still counts as busy.
    const uint16_t owner10 = t.entry(10).node;
    CHECK(t.lookup_or_assign(10, 1060) == owner10);
    CHECK(t.lookup_or_assign(11, 1061) == 4);  // one second past: reassigned to the emptiest node
    CHECK(t.node(4).buckets.get() == 1);
    CHECK(t.stats().reassigned.get() == 1);
    CHECK(t.version() == before + 1);
}

TEST_CASE("an idle bucket whose node is still the best choice stays and bumps no version", "[bucket_table]") {
    BucketTable t(1024, 60);
    t.set_node(1, mac_of(1), 1, NodeAdmin::enabled);
    t.lookup_or_assign(3, 100);
    const uint64_t v = t.version();
    CHECK(t.lookup_or_assign(3, 500) == 1);
    CHECK(t.version() == v);
    CHECK(t.stats().reassigned.get() == 0);
}

TEST_CASE("failed node loses all its buckets at once and gets them back only as new buckets", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 300; ++b) t.lookup_or_assign(b, 100);
    const uint64_t v = t.version();
    REQUIRE(t.set_failed(2, true));
    CHECK(t.node(2).buckets.get() == 0);
    CHECK(t.version() == v + 1);
    uint32_t unassigned = 0;
    for (uint32_t b = 0; b < 300; ++b) unassigned += t.entry(b).node == kUnassigned;
    CHECK(unassigned == 100);
    // The freed buckets are spread over the survivors when their clients come back.
    for (uint32_t b = 0; b < 300; ++b) REQUIRE(t.lookup_or_assign(b, 101) != 2);
    CHECK(t.node(1).buckets.get() == 150);
    CHECK(t.node(3).buckets.get() == 150);
    REQUIRE(t.set_failed(2, false));
    CHECK(t.lookup_or_assign(500, 102) == 2);  // live again: first in line for new buckets
}

TEST_CASE("disable frees buckets, drain keeps busy ones", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 100);
    t.set_admin(1, NodeAdmin::draining);
    CHECK(t.node(1).buckets.get() == 10);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 120);  // busy: nothing moves
    CHECK(t.node(1).buckets.get() == 10);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 200);  // idle: the drained node's buckets move away
    CHECK(t.node(1).buckets.get() == 0);
    t.set_admin(2, NodeAdmin::disabled);
    CHECK(t.node(2).buckets.get() == 0);
}

TEST_CASE("a draining node keeps its idle bucket when nobody else can take it", "[bucket_table]") {
    BucketTable t(1024, 60);
    t.set_node(1, mac_of(1), 1, NodeAdmin::enabled);
    t.lookup_or_assign(9, 100);
    t.set_admin(1, NodeAdmin::draining);
    CHECK(t.lookup_or_assign(9, 500) == 1);
}

TEST_CASE("every change to the bucket map bumps the version, refreshes do not", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    CHECK(t.version() == 0);
    t.lookup_or_assign(1, 10);
    CHECK(t.version() == 1);
    t.lookup_or_assign(1, 11);
    CHECK(t.version() == 1);
    t.lookup_or_assign(2, 11);
    CHECK(t.version() == 2);
    t.set_weight(1, 5);  // weight steers future choices only
    CHECK(t.version() == 2);
    const uint16_t owner = t.entry(1).node;
    t.set_failed(owner, true);
    CHECK(t.version() == 3);
}

TEST_CASE("touch_all makes every bucket busy from now", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 100);
    t.set_node(4, mac_of(4), 1, NodeAdmin::enabled);
    t.touch_all(1000);
    for (uint32_t b = 0; b < 30; ++b) REQUIRE(t.lookup_or_assign(b, 1030) != 4);
    CHECK(t.node(4).buckets.get() == 0);
}

TEST_CASE("the largest table size works", "[bucket_table]") {
    BucketTable t(16777216, 60);
    t.set_node(1, mac_of(1), 1, NodeAdmin::enabled);
    t.set_node(2, mac_of(2), 1, NodeAdmin::enabled);
    CHECK(t.lookup_or_assign(16777215, 5) == 1);
    CHECK(t.lookup_or_assign(0, 5) == 2);
    CHECK(t.unassigned_buckets() == 16777214);
    t.set_failed(1, true);
    CHECK(t.entry(16777215).node == kUnassigned);
}

TEST_CASE("removing a node frees its buckets and its slot", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 100);
    CHECK(t.remove_node(3));
    CHECK_FALSE(t.remove_node(3));
    CHECK_FALSE(t.node(3).present);
    CHECK(t.unassigned_buckets() == 1024 - 20);
    CHECK_FALSE(t.set_failed(3, true));
}

TEST_CASE("a table that wrote as active and is a mirror again asks for a full copy until it has one",
          "[bucket_table][sync]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    t.set_mirror(true, 100);
    CHECK(t.pull_from_version() == 0);  // a fresh standby: nothing of its own
    t.set_mirror(false, 100);           // active: it assigns under versions a later active will use too
    REQUIRE(t.lookup_or_assign(7, 100) != kUnassigned);
    const uint64_t own = t.version();
    CHECK(own > 0);
    CHECK(t.pull_from_version() == own);  // as the writer, its version is its content
    t.set_mirror(true, 100);              // demoted (its lease ran out, another node is active)
    CHECK(t.pull_from_version() == UINT64_MAX);  // equal versions would no longer mean equal tables
    t.load_snapshot(std::vector<uint16_t>(1024, kUnassigned), own, 100);
    CHECK(t.pull_from_version() == own);  // the source's copy: deltas from here on
    CHECK(t.entry(7).node == kUnassigned);
}

TEST_CASE("a steered node takes no new or idle bucket while another can, and keeps its busy ones", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 100);
    REQUIRE(t.node(2).buckets.get() == 10);
    REQUIRE(t.set_steered(2, true));
    CHECK_FALSE(t.set_steered(9, true));  // not configured
    const uint64_t version = t.version();
    CHECK(t.version() == version);  // steering by itself moves nothing
    // New buckets: none for node 2, each counted as steered.
    for (uint32_t b = 100; b < 160; ++b) CHECK(t.lookup_or_assign(b, 100) != 2);
    CHECK(t.node(2).buckets.get() == 10);
    CHECK(t.stats().load_steered.get() == 60);
    // Busy buckets of node 2 stay with it.
    for (uint32_t b = 0; b < 30; ++b) {
        if (t.entry(b).node == 2) CHECK(t.lookup_or_assign(b, 110) == 2);
    }
    // Idle ones leave it.
    for (uint32_t b = 0; b < 30; ++b) t.lookup_or_assign(b, 200);
    CHECK(t.node(2).buckets.get() == 0);
    // Released: node 2 takes buckets again (it has the fewest).
    t.set_steered(2, false);
    CHECK(t.lookup_or_assign(500, 200) == 2);
}

TEST_CASE("steering falls back to the normal rule when only steered nodes can take a bucket", "[bucket_table]") {
    BucketTable t(1024, 60);
    add_three_nodes(t);
    t.set_steered(2, true);
    t.set_failed(1, true);
    t.set_admin(3, NodeAdmin::draining);
    // Node 2 is the only eligible node: it takes the bucket rather than the client being dropped.
    CHECK(t.lookup_or_assign(7, 100) == 2);
    CHECK(t.stats().load_steered.get() == 0);
    CHECK(t.stats().no_node.get() == 0);
    // Every eligible node steered: the normal rule among them.
    t.set_failed(1, false);
    t.set_steered(1, true);
    t.lookup_or_assign(8, 100);
    t.lookup_or_assign(9, 100);
    CHECK(t.node(1).buckets.get() == 2);
    CHECK(t.node(2).buckets.get() == 1);
}
