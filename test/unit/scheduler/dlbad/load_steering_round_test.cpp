// The active's load-steering round with a fake clock, fake peers and a fake scheduler link: the loads of the
// heartbeats and our own, the verdicts sent to the scheduler, the load in our heartbeat; and the load meter's
// readings.
#include <catch2/catch.hpp>

#include <optional>
#include <set>
#include <vector>

#include "dlbad_fakes.hpp"
#include "io/table_format.hpp"
#include "load_meter.hpp"
#include "node_daemon.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

namespace {

constexpr uint64_t kConfigId = 0xc0ffee;

// A server status table (its counters as rows), as dlba-server's monitor socket answers `status`.
std::string server_status(uint64_t open) {
    io::Table t;
    t.name = "status";
    t.source = "server";
    t.version = 1;
    t.columns = {{"counter", io::ColumnType::string}, {"value", io::ColumnType::unsigned_integer}};
    t.rows = {{"requests", 9}, {"connections_open", open}};
    return t.to_json().dump();
}

hb::Message beat(uint16_t node, uint8_t load, bool active = false) {
    hb::Message m;
    m.beat = {node, 1, active, true, false};
    m.config_id = kConfigId;
    m.load_pct = load;
    return m;
}

struct Node {
    ArrayConfig config = array_config();
    FakeTime time;
    FakeNet net;
    FakeLink link;
    std::optional<uint32_t> own_load = 10;
    std::set<uint16_t> failed;
    FailoverLoop loop;

    Node() : loop(config, {1, kConfigId, 0}, net, link, time, nullptr) {
        config.failover.load.enabled = true;
        loop.set_load_inputs([this] { return own_load; }, [this](uint16_t n) { return failed.count(n) != 0; });
        net.answers[1] = true;
        loop.refresh_local_role();
    }
    void rounds(uint8_t load2, uint8_t load3, int count = 12) {
        for (int i = 0; i < count; ++i) {
            time.now_ms += 50;
            loop.on_heartbeat(beat(2, load2), eth0_of(2), time.now_ms);
            loop.on_heartbeat(beat(3, load3), eth0_of(3), time.now_ms);
            loop.round(time.now_ms);
        }
    }
};

}  // namespace

TEST_CASE("load steering round: the active steers the high node away and tells its scheduler", "[failover]") {
    Node n;
    n.rounds(80, 20);
    REQUIRE(n.loop.snapshot().active);
    CHECK(n.net.sent.back().load_pct == 10);  // our own load is in our heartbeat
    CHECK(n.link.asked("node_load 1 10 normal"));
    CHECK(n.link.asked("node_load 2 80 steered"));
    CHECK(n.link.asked("node_load 3 20 normal"));
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.steered == std::vector<uint16_t>{2});
    CHECK(s.own_load == std::optional<uint32_t>(10));
    bool logged = false;
    for (const auto& e : s.events) logged |= e.find("node 2 steered away from new buckets (load 80%)") != std::string::npos;
    CHECK(logged);
    // Hysteresis: at 45 it stays steered, at 40 (= 50 - 10) it takes buckets again.
    n.rounds(45, 20);
    CHECK(n.link.asked("node_load 2 45 steered"));
    n.rounds(40, 20);
    CHECK(n.link.asked("node_load 2 40 normal"));
    CHECK(n.loop.snapshot().steered.empty());
}

TEST_CASE("load steering round: our own node is steered like any other", "[failover]") {
    Node n;
    n.own_load = 90;
    n.rounds(30, 30);
    CHECK(n.link.asked("node_load 1 90 steered"));
    CHECK(n.net.sent.back().load_pct == 90);
}

TEST_CASE("load steering round: nodes failed by the sweep or silent are nobody's reference", "[failover]") {
    Node n;
    n.own_load = 5;
    n.failed = {1, 3};  // the two low ones are failed: node 2 stays unsteered (it is the only one left)
    n.rounds(80, 0);
    CHECK(n.link.asked("node_load 2 80 normal"));
    CHECK_FALSE(n.link.asked("node_load 2 80 steered"));
}

TEST_CASE("load steering round: a load not known is sent as such and steers nothing", "[failover]") {
    Node n;
    n.own_load.reset();
    n.rounds(hb::kLoadUnknown, 90);
    CHECK(n.net.sent.back().load_pct == hb::kLoadUnknown);
    CHECK(n.link.asked("node_load 1 - normal"));
    CHECK(n.link.asked("node_load 2 - normal"));
    CHECK(n.link.asked("node_load 3 90 normal"));
}

TEST_CASE("load steering round: off without failover.load; a standby decides nothing", "[failover]") {
    Node n;
    n.config.failover.load.enabled = false;
    n.rounds(80, 0);
    CHECK_FALSE(n.link.asked("node_load 2 80 steered"));
    CHECK(n.link.count("node_load 2 80 normal") == 0);
}

TEST_CASE("load meter: /proc/stat busy share and the connections share", "[load]") {
    const auto a = parse_proc_stat("cpu  100 0 100 700 100 0 0 0 0 0");
    REQUIRE(a);
    CHECK(a->total == 1000);
    CHECK(a->idle == 800);
    const auto b = parse_proc_stat("cpu  400 0 200 1100 300 0 0 0 0 0");  // +300 +100 busy, +400 +200 idle
    REQUIRE(b);
    CHECK(busy_pct(*a, *b) == std::optional<uint32_t>(40));
    CHECK_FALSE(busy_pct(*a, *a));  // no time passed
    CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 4"));
    CHECK_FALSE(parse_proc_stat("intr 1 2 3"));
    CHECK_FALSE(parse_proc_stat("cpu 1 2"));
    CHECK(connections_pct(11, 20) == std::optional<uint32_t>(55));
    CHECK(connections_pct(30, 20) == std::optional<uint32_t>(100));
    CHECK_FALSE(connections_pct(3, 0));
    CHECK(open_connections_of(server_status(7)) == std::optional<uint64_t>(7));
    CHECK_FALSE(open_connections_of("not json"));
}

TEST_CASE("load meter: the connections source asks the local server", "[load]") {
    FakeLink link;
    FakeTime time;
    LoadConfig c;
    c.enabled = true;
    LoadMeter m(c, 20, link, time);
    m.sample_once();
    CHECK_FALSE(m.load_pct());  // the server does not answer
    link.server_status_reply = ok_reply();
    link.server_status_reply.answer = server_status(11);
    m.sample_once();
    CHECK(m.load_pct() == std::optional<uint32_t>(55));
}
