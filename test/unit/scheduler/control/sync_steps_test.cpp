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
    BucketTable active(4096, 60), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    sync::Message m = pull(active, standby);
    CHECK(sync::judge(m, kFingerprint, 4096) == sync::Verdict::up_to_date);

    for (uint32_t b = 0; b < 300; b += 3) active.lookup_or_assign(b, 10);
    m = pull(active, standby);
    CHECK(m.kind == sync::Kind::delta);
    CHECK(sync::judge(m, kFingerprint, 4096) == sync::Verdict::to_apply);
    CHECK(sync::apply(standby, m, 10) == sync::Applied::applied);
    CHECK(standby.version() == active.version());
    CHECK(map_of(standby) == map_of(active));
}

TEST_CASE("a delta from another version is refused; the next pull fills the gap", "[sync]") {
    BucketTable active(4096, 60), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    for (uint32_t b = 0; b < 50; ++b) active.lookup_or_assign(b, 10);
    const sync::Message first = pull(active, standby);
    for (uint32_t b = 50; b < 80; ++b) active.lookup_or_assign(b, 10);
    const sync::Message second = pull(active, standby);  // also from version 0
    CHECK(sync::apply(standby, second, 10) == sync::Applied::applied);
    CHECK(sync::apply(standby, first, 10) == sync::Applied::version_gap);  // raced: from 0, the table is ahead
    CHECK(map_of(standby) == map_of(active));
}

TEST_CASE("a standby further behind than the journal needs a full copy", "[sync]") {
    BucketTable active(4096, 60, 16), standby(4096, 60);
    add_nodes(active);
    add_nodes(standby);
    standby.set_mirror(true, 0);
    for (uint32_t b = 0; b < 100; ++b) active.lookup_or_assign(b, 10);  // 100 changes, 16 remembered
    const sync::Message m = pull(active, standby);
    CHECK(m.kind == sync::Kind::full);
    CHECK(sync::apply(standby, m, 10) == sync::Applied::applied);
    CHECK(standby.version() == active.version());
    CHECK(map_of(standby) == map_of(active));
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
    const std::string refused = sync::answer_pull(proto::format(proto::pull(kFingerprint + 1, 0)), active, kFingerprint);
    CHECK(refused ==
          "ERR fingerprint mismatch: the two nodes hash differently (check scheduler.hash, hash_seed, table_size)\n");
    CHECK(sync::answer_pull("PULL", active, kFingerprint) == "ERR bad request\n");
    CHECK(sync::answer_pull("GET / HTTP/1.1", active, kFingerprint) == "ERR bad request\n");

    BucketTable standby(4096, 60);
    const sync::Message m = pull(active, standby);
    CHECK(sync::judge(m, kFingerprint + 1, 4096) == sync::Verdict::foreign);
    CHECK(sync::judge(m, kFingerprint, 8192) == sync::Verdict::foreign);
}
