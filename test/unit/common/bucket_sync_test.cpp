#include <catch2/catch.hpp>

#include "bucket_sync.hpp"

using namespace dlba;

namespace {

MacAddr mac_of(uint16_t n) { return MacAddr{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(n)}}; }

void add_nodes(BucketTable& t, uint16_t count = 3) {
    for (uint16_t n = 1; n <= count; ++n) t.set_node(n, mac_of(n), 1, NodeAdmin::enabled);
}

std::vector<uint16_t> map_of(const BucketTable& t) {
    std::vector<uint16_t> m;
    t.snapshot(m);
    return m;
}

// One pull of the standby from the active, through the wire format. Returns the kind that was sent.
sync::Kind pull(const BucketTable& active, BucketTable& standby, uint32_t now = 100) {
    const uint64_t fp = 42;
    const std::string wire = sync::encode(sync::answer(active, fp, standby.version()));
    std::string err;
    const auto m = sync::decode(wire, &err);
    REQUIRE(m);
    REQUIRE(m->fingerprint == fp);
    if (m->kind == sync::Kind::full) {
        standby.load_snapshot(m->nodes, m->to_version, now);
    } else {
        uint64_t v = m->from_version;
        for (const Change& c : m->changes) standby.apply(c, ++v, now);
    }
    return m->kind;
}

}  // namespace

TEST_CASE("a standby follows the active through deltas and stays identical", "[sync]") {
    BucketTable active(4096, 60), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    CHECK(pull(active, standby) == sync::Kind::up_to_date);
    for (uint32_t b = 0; b < 500; b += 3) active.lookup_or_assign(b, 10);
    CHECK(pull(active, standby) == sync::Kind::delta);
    CHECK(standby.version() == active.version());
    CHECK(map_of(standby) == map_of(active));
    active.set_failed(2, true);
    for (uint32_t b = 1; b < 500; b += 7) active.lookup_or_assign(b, 20);
    CHECK(pull(active, standby) == sync::Kind::delta);
    CHECK(map_of(standby) == map_of(active));
    CHECK(standby.node(2).buckets.get() == 0);
    CHECK(standby.node(1).buckets.get() == active.node(1).buckets.get());
    CHECK(pull(active, standby) == sync::Kind::up_to_date);
}

TEST_CASE("a standby too far behind the journal gets a full copy", "[sync]") {
    BucketTable active(4096, 60, 16), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    for (uint32_t b = 0; b < 100; ++b) active.lookup_or_assign(b, 10);
    CHECK(pull(active, standby) == sync::Kind::full);
    CHECK(standby.version() == active.version());
    CHECK(map_of(standby) == map_of(active));
    for (uint32_t b = 100; b < 110; ++b) active.lookup_or_assign(b, 10);
    CHECK(pull(active, standby) == sync::Kind::delta);  // back on deltas once caught up
    CHECK(map_of(standby) == map_of(active));
}

TEST_CASE("a snapshot taken while the map changes converges after the next delta", "[sync]") {
    BucketTable active(4096, 60, 1024), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    for (uint32_t b = 0; b < 50; ++b) active.lookup_or_assign(b, 10);
    std::vector<uint16_t> copy;
    const uint64_t v = active.snapshot(copy);
    for (uint32_t b = 50; b < 80; ++b) active.lookup_or_assign(b, 10);  // after the snapshot's version
    copy[60] = active.entry(60).node;                                    // a change the copy happened to catch
    standby.load_snapshot(copy, v, 10);
    CHECK(pull(active, standby) == sync::Kind::delta);
    CHECK(map_of(standby) == map_of(active));
}

TEST_CASE("a mirror does not free buckets itself; the takeover does, and busy buckets stay", "[sync]") {
    BucketTable active(1024, 60), standby(1024, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    for (uint32_t b = 0; b < 30; ++b) active.lookup_or_assign(b, 10);
    pull(active, standby);
    standby.set_failed(3, true);  // the standby's view: node 3 is gone, but the active has not said so
    CHECK(standby.node(3).buckets.get() == 10);
    const uint64_t v = standby.version();
    standby.set_mirror(false, 500);  // takeover
    CHECK(standby.node(3).buckets.get() == 0);
    CHECK(standby.version() == v + 1);  // the freeing continues the active's numbering
    for (uint32_t b = 0; b < 30; ++b) {
        if (active.entry(b).node != 3) REQUIRE(standby.lookup_or_assign(b, 520) == active.entry(b).node);
    }
}

TEST_CASE("after a takeover the other standbys sync from the new active by deltas", "[sync]") {
    BucketTable a(1024, 60), b(1024, 60), c(1024, 60);
    for (BucketTable* t : {&a, &b, &c}) add_nodes(*t);
    b.set_mirror(true, 0);
    c.set_mirror(true, 0);
    for (uint32_t k = 0; k < 40; ++k) a.lookup_or_assign(k, 10);
    pull(a, b);
    pull(a, c);
    b.set_mirror(false, 100);  // a dies, b takes over
    for (uint32_t k = 40; k < 60; ++k) b.lookup_or_assign(k, 101);
    CHECK(pull(b, c) == sync::Kind::delta);
    CHECK(map_of(c) == map_of(b));
}

TEST_CASE("a full copy of a table larger than the reader's is refused before it is expanded", "[sync]") {
    // 46 bytes announcing the largest table there is: one run of unassigned buckets.
    sync::Message m;
    m.kind = sync::Kind::full;
    m.table_size = kMaxTableSize;
    m.nodes.assign(kMaxTableSize, kUnassigned);
    const std::string wire = sync::encode(m);
    m.nodes = {};
    CHECK(wire.size() == sync::kHeaderSize + 6);
    std::string err;
    CHECK_FALSE(sync::decode(wire, &err, 1 << 20));
    CHECK(err == "table size 67108864 is larger than ours (1048576)");
    err.clear();
    const auto whole = sync::decode(wire, &err);  // no limit but the format's own
    REQUIRE(whole);
    CHECK(whole->nodes.size() == kMaxTableSize);
    // At the limit exactly, it decodes.
    m.table_size = 1 << 20;
    m.nodes.assign(1 << 20, 3);
    err.clear();
    CHECK(sync::decode(sync::encode(m), &err, 1 << 20));
}

TEST_CASE("malformed sync messages are refused before anything is applied", "[sync]") {
    BucketTable t(1024, 60);
    add_nodes(t);
    for (uint32_t k = 0; k < 5; ++k) t.lookup_or_assign(k, 10);
    const std::string delta = sync::encode(sync::answer(t, 7, 0));
    sync::Message full_msg;
    full_msg.kind = sync::Kind::full;
    full_msg.table_size = 1024;
    full_msg.nodes.assign(1024, kUnassigned);
    full_msg.nodes[3] = 2;
    const std::string full = sync::encode(full_msg);
    std::string err;
    REQUIRE(sync::decode(delta, &err));
    REQUIRE(sync::decode(full, &err));

    struct Case {
        const char* what;
        std::string bytes;
    };
    std::vector<Case> cases;
    std::string s;
    s = delta, s[0] = 'X', cases.push_back({"bad magic", s});
    s = delta, s[5] = 9, cases.push_back({"unknown format", s});
    s = delta, s[6] = 7, cases.push_back({"unknown kind", s});
    s = delta, s.pop_back(), cases.push_back({"short body", s});
    s = delta + "x", cases.push_back({"trailing byte", s});
    s = delta.substr(0, 20), cases.push_back({"short header", s});
    s = delta, s[sync::kHeaderSize + 1] = 0x7f, cases.push_back({"bucket out of range", s});
    s = delta, s[sync::kHeaderSize + 5] = 0x01, s[sync::kHeaderSize + 6] = 0x00, cases.push_back({"node 256", s});
    s = delta, s[sync::kHeaderSize] = 9, cases.push_back({"unknown change kind", s});
    s = delta, s[35] = 99, cases.push_back({"count does not match the versions", s});
    s = full, s[sync::kHeaderSize + 5] = static_cast<char>(s[sync::kHeaderSize + 5] + 1), cases.push_back({"runs too long", s});
    s = full, s[11] = 0, s[10] = 0, cases.push_back({"table size out of range", s});
    for (const Case& c : cases) {
        INFO(c.what);
        err.clear();
        CHECK_FALSE(sync::decode(c.bytes, &err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("different hash settings give different fingerprints", "[sync]") {
    SchedulerConfig a, b, c;
    b.hash_seed = a.hash_seed + 1;
    c.table_size = a.table_size * 2;
    CHECK(sync::fingerprint(a) != sync::fingerprint(b));
    CHECK(sync::fingerprint(a) != sync::fingerprint(c));
    CHECK(sync::fingerprint(a) == sync::fingerprint(SchedulerConfig{}));
}
