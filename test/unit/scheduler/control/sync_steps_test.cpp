// The table sync's steps without sockets: the active's answer to a pull (up to date, a delta, a full copy when the
// journal no longer reaches back, refusals), the standby's verdict on what came back, and the apply.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "control/sync_steps.hpp"
#include "protocol/builders.hpp"

using namespace dlba;

namespace {

constexpr uint64_t kFingerprint = 0x9e3779b97f4a7c15ULL;

MacAddr mac_of(uint16_t n) { return MacAddr{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(n)}}; }

void add_nodes(BucketTable& t) {
    for (uint16_t n = 1; n <= 3; ++n) t.set_node(n, mac_of(n), 1, NodeAdmin::enabled);
}

std::vector<uint16_t> map_of(const BucketTable& t) {
    std::vector<uint16_t> m;
    t.snapshot(m);
    return m;
}

// An active scheduler's table and a standby's mirror of it, both knowing nodes 1..3.
struct Pair {
    BucketTable active, standby;
    explicit Pair(uint32_t journal = 1u << 16) : active(4096, 60, journal), standby(4096, 60) {
        add_nodes(active);
        add_nodes(standby);
        standby.set_mirror(true, 0);
    }
    void assign(uint32_t from, uint32_t to) {
        for (uint32_t b = from; b < to; ++b) active.lookup_or_assign(b, 10);
    }
};

// What the active answers to `standby`'s pull, decoded as the standby decodes it.
sync::Message pull(const BucketTable& active, const BucketTable& standby) {
    const std::string line = proto::format(proto::pull(kFingerprint, standby.version()));
    const std::string answer = sync::answer_pull(line, active, kFingerprint);
    std::string err;
    auto m = sync::decode(answer, &err);
    INFO(err);
    REQUIRE(m);
    return *m;
}

}  // namespace

TEST_CASE("a mirror follows the active by deltas and ends identical", "[sync]") {
    Pair p;
    sync::Message m = pull(p.active, p.standby);
    CHECK(sync::judge(m, kFingerprint, 4096) == sync::Verdict::up_to_date);

    p.assign(0, 300);
    m = pull(p.active, p.standby);
    CHECK(m.kind == sync::Kind::delta);
    CHECK(sync::judge(m, kFingerprint, 4096) == sync::Verdict::to_apply);
    CHECK(sync::apply(p.standby, m, 10) == sync::Applied::applied);
    CHECK(p.standby.version() == p.active.version());
    CHECK(map_of(p.standby) == map_of(p.active));
}

TEST_CASE("a delta from another version is refused; the next pull fills the gap", "[sync]") {
    Pair p;
    p.assign(0, 50);
    const sync::Message first = pull(p.active, p.standby);
    p.assign(50, 80);
    const sync::Message second = pull(p.active, p.standby);  // also from version 0
    CHECK(sync::apply(p.standby, second, 10) == sync::Applied::applied);
    CHECK(sync::apply(p.standby, first, 10) == sync::Applied::version_gap);  // raced: from 0, the table is ahead
    CHECK(map_of(p.standby) == map_of(p.active));
}

TEST_CASE("a standby further behind than the journal needs a full copy", "[sync]") {
    Pair p(16);
    p.assign(0, 100);  // 100 changes, 16 remembered
    const sync::Message m = pull(p.active, p.standby);
    CHECK(m.kind == sync::Kind::full);
    CHECK(sync::apply(p.standby, m, 10) == sync::Applied::applied);
    CHECK(p.standby.version() == p.active.version());
    CHECK(map_of(p.standby) == map_of(p.active));
}

TEST_CASE("an active scheduler's table takes nothing from another", "[sync]") {
    BucketTable active(4096, 60), other(4096, 60);
    add_nodes(active);
    add_nodes(other);
    for (uint32_t b = 0; b < 10; ++b) active.lookup_or_assign(b, 10);
    const sync::Message m = pull(active, other);
    CHECK(sync::apply(other, m, 10) == sync::Applied::not_a_mirror);
    CHECK(other.version() == 0);
}

TEST_CASE("tables that hash differently refuse to sync", "[sync]") {
    BucketTable active(4096, 60);
    add_nodes(active);
    const std::string other = proto::format(proto::pull(kFingerprint + 1, 0));
    const std::string refused = sync::answer_pull(other, active, kFingerprint);
    CHECK(refused ==
          "ERR fingerprint mismatch: the two nodes hash differently (check scheduler.hash, hash_seed, table_size)\n");
    CHECK(sync::answer_pull("PULL", active, kFingerprint) == "ERR bad request\n");
    CHECK(sync::answer_pull("GET / HTTP/1.1", active, kFingerprint) == "ERR bad request\n");

    BucketTable standby(4096, 60);
    const sync::Message m = pull(active, standby);
    CHECK(sync::judge(m, kFingerprint + 1, 4096) == sync::Verdict::foreign);
    CHECK(sync::judge(m, kFingerprint, 8192) == sync::Verdict::foreign);
}
