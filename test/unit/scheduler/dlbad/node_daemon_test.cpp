// The failover loop with a fake clock, fake peers and a fake scheduler link: election rounds, the lease, the
// hand-over, the VIP's ARP check.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include "dlbad_fakes.hpp"
#include "node_daemon.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

namespace {

constexpr uint64_t kConfigId = 0xc0ffee;

hb::Message beat(uint16_t node, uint64_t term, bool active, bool dataplane_ok = true, bool yielded = false) {
    hb::Message m;
    m.beat = {node, term, active, dataplane_ok, yielded};
    m.table_version = 7;
    m.config_id = kConfigId;
    return m;
}

// One node's failover loop and its fakes.
struct Node {
    ArrayConfig config = array_config();
    FakeTime time;
    FakeNet net;
    FakeLink link;
    std::vector<bool> roles;  // what the role listener (the status sweep) was told
    FailoverLoop loop;

    explicit Node(uint16_t self, uint64_t initial_term = 0)
        : loop(config, {self, kConfigId, initial_term}, net, link, time, [this](bool a) { roles.push_back(a); }) {
        net.answers[self] = true;  // our own data plane answers
        loop.refresh_local_role();
    }
    // The peers' heartbeats, then a round, `ms` after the previous one.
    void round(const std::vector<hb::Message>& heard, uint64_t ms = 50) {
        time.now_ms += ms;
        for (const auto& m : heard) loop.on_heartbeat(m, eth0_of(m.beat.node), time.now_ms);
        loop.round(time.now_ms);
    }
    const hb::Message& last_sent() const { return net.sent.back(); }
};

}  // namespace

TEST_CASE("election round: the best-ranked node takes over once its peers had time to speak", "[failover]") {
    Node n(1);
    const std::vector<hb::Message> standbys = {beat(2, 0, false), beat(3, 0, false)};
    n.round(standbys);
    CHECK_FALSE(n.link.asked("set_role_active 500"));  // the first dead_after_ms: nobody takes over
    CHECK_FALSE(n.loop.snapshot().active);
    for (int i = 0; i < 5; ++i) n.round(standbys);
    // The role request carries the lease: twice dead_after_ms.
    CHECK(n.link.count("set_role_active 500") == 1);
    CHECK(n.link.asked("sync_from none"));
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.active);
    CHECK(s.term == 1);
    CHECK(s.known_active == std::optional<uint16_t>(1));
    CHECK(n.last_sent().beat.active);
    CHECK(n.last_sent().beat.term == 1);
    CHECK(n.last_sent().config_id == kConfigId);
    CHECK(n.roles.back());  // the sweep runs
    REQUIRE_FALSE(s.events.empty());
    CHECK(s.events.front().find("became the active scheduler (term 1)") != std::string::npos);
}

TEST_CASE("election round: a lower-ranked node stays standby and syncs from the active it hears", "[failover]") {
    Node n(2);
    n.net.answers[1] = true;  // the active's data plane answers our probes
    for (int i = 0; i < 8; ++i) n.round({beat(1, 3, true), beat(3, 0, false)});
    CHECK_FALSE(n.link.asked("set_role_active 500"));
    CHECK(n.link.count("sync_from 1") == 1);  // once, not every round
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK_FALSE(s.active);
    CHECK(s.known_active == std::optional<uint16_t>(1));
    CHECK(s.sync_from == std::optional<uint16_t>(1));
    CHECK(n.net.probe_targets.count(1));  // the active's data plane is probed
    CHECK_FALSE(n.last_sent().beat.active);
    CHECK_FALSE(n.roles.back());
}

TEST_CASE("election round: a standby takes over when the active's data plane stops answering", "[failover]") {
    Node n(2);
    n.net.answers[1] = true;
    for (int i = 0; i < 8; ++i) n.round({beat(1, 3, true), beat(3, 0, false)});
    // Its data plane died: its probes go unanswered, and its own daemon no longer calls it a candidate.
    n.net.answers[1] = false;
    int rounds = 0;
    while (!n.loop.snapshot().active && rounds < 10) {
        n.round({beat(1, 3, true, false), beat(3, 0, false)});
        ++rounds;
    }
    CHECK(rounds == 4);  // probe_misses rounds
    CHECK(n.link.count("set_role_active 500") == 1);
    CHECK(n.loop.snapshot().term == 4);  // the highest term seen + 1
}

TEST_CASE("heartbeats from an unknown node or from another address have no say", "[failover]") {
    Node n(1);
    n.time.now_ms += 50;
    n.loop.on_heartbeat(beat(2, 9, true), eth0_of(3), n.time.now_ms);  // node 2's beat from node 3's address
    n.loop.on_heartbeat(beat(7, 9, true), eth0_of(2), n.time.now_ms);  // not in the configuration
    n.loop.on_heartbeat(beat(1, 9, true), eth0_of(1), n.time.now_ms);  // ourselves
    CHECK(n.loop.snapshot().peers.empty());
    n.loop.on_heartbeat(beat(2, 0, false), eth0_of(2), n.time.now_ms);
    const FailoverSnapshot s = n.loop.snapshot();
    REQUIRE(s.peers.count(2));
    CHECK(s.peers.at(2).last_ms == n.time.now_ms);
}

TEST_CASE("lease renewal: renewed every round while active, the role taken again when renew is refused",
          "[failover]") {
    Node n(1);
    for (int i = 0; i < 7; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    REQUIRE(n.loop.snapshot().active);
    n.link.calls.clear();
    for (int i = 0; i < 3; ++i) n.round({beat(2, 1, false), beat(3, 1, false)});
    CHECK(n.link.count("renew") == 3);
    CHECK_FALSE(n.link.asked("set_role_active 500"));  // renewed: no need to take it again

    n.link.renewal = refused_reply("no lease to renew");  // e.g. the role was set by hand, or the lease ran out
    n.link.calls.clear();
    n.round({beat(2, 1, false), beat(3, 1, false)});
    CHECK(n.link.calls == std::vector<std::string>{"renew", "set_role_active 500"});

    n.link.renewal = no_answer();
    n.link.calls.clear();
    n.round({beat(2, 1, false), beat(3, 1, false)});
    CHECK(n.link.calls == std::vector<std::string>{"renew", "set_role_active 500"});
}

TEST_CASE("no lease is renewed while the local scheduler did not confirm the role", "[failover]") {
    Node n(1);
    n.link.role = refused_reply("busy");
    for (int i = 0; i < 7; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.active);  // elected
    CHECK_FALSE(n.roles.back());  // but not forwarding: no sweep
    CHECK_FALSE(n.link.asked("renew"));
    REQUIRE_FALSE(s.events.empty());
    CHECK(s.events.back().find("but the local scheduler did not confirm") != std::string::npos);
}

TEST_CASE("an active that hears a higher term steps down, telling the winner first", "[failover]") {
    Node n(1);
    for (int i = 0; i < 7; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    REQUIRE(n.loop.snapshot().active);
    const uint64_t slept = n.time.slept_ms;
    n.net.answers[2] = true;
    n.net.sent.clear();
    n.link.calls.clear();
    n.round({beat(2, 5, true), beat(3, 0, false)});
    CHECK_FALSE(n.loop.snapshot().active);
    CHECK(n.time.slept_ms - slept == 30);  // kept forwarding a moment while the winner announces the VIP
    REQUIRE(n.net.sent.size() >= 2);
    CHECK_FALSE(n.net.sent.front().beat.active);
    CHECK(n.net.sent.front().beat.yielded);  // the yield, before the standby request
    CHECK(n.link.calls.front() == "set_standby");
    CHECK(n.link.asked("sync_from 2"));
    CHECK_FALSE(n.roles.back());
}

TEST_CASE("the scheduler gone: this node is no candidate and the election goes on without it", "[failover]") {
    Node n(1);
    n.link.counters_reading = {std::nullopt, true};  // nobody listens on the control socket
    n.loop.refresh_local_role();
    n.net.answers[1] = false;
    for (int i = 0; i < 8; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    CHECK_FALSE(n.link.asked("set_role_active 500"));
    CHECK_FALSE(n.loop.snapshot().local_dataplane_ok);
    CHECK_FALSE(n.last_sent().beat.dataplane_ok);
}

TEST_CASE("a role changed by hand on the scheduler is taken into the election", "[failover]") {
    Node n(2, 4);
    n.link.counters_reading = {LocalCounters{true, 9, 100}, false};
    n.loop.refresh_local_role();
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.active);
    CHECK(s.term == 4);  // the term carried over a restart
    CHECK(s.local_version == 9);
    CHECK(n.roles.back());
}

TEST_CASE("hand-over on stop: standby requested, a last heartbeat neither active nor a candidate", "[failover]") {
    Node n(1);
    for (int i = 0; i < 7; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    REQUIRE(n.loop.snapshot().active);
    n.link.calls.clear();
    n.loop.hand_over();
    CHECK(n.link.calls == std::vector<std::string>{"set_standby"});
    CHECK_FALSE(n.last_sent().beat.active);
    CHECK_FALSE(n.last_sent().beat.dataplane_ok);
    CHECK_FALSE(n.loop.snapshot().active);

    Node standby(2);
    standby.loop.hand_over();
    CHECK(standby.link.calls.empty());  // nothing to hand over
}

TEST_CASE("an active that is not alone answering ARP for the VIP announces it again", "[failover]") {
    Node n(1);
    n.net.arp_answers = {*MacAddr::parse("02:77:00:00:02:01"), *MacAddr::parse("02:99:00:00:00:01")};
    for (int i = 0; i < 7; ++i) n.round({beat(2, 0, false), beat(3, 0, false)});
    REQUIRE(n.loop.snapshot().active);
    n.link.calls.clear();
    for (int i = 0; i < 3; ++i) n.round({beat(2, 1, false), beat(3, 1, false)}, 1000);
    CHECK(n.link.count("set_role_active 500") >= 1);
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.vip_arp.size() == 2);
    const std::string expected = "02:99:00:00:00:01 (not a scheduler of this array); announced the VIP again";
    const bool announced = std::any_of(s.events.begin(), s.events.end(), [&expected](const std::string& e) {
        return e.find(expected) != std::string::npos;
    });
    CHECK(announced);
}

TEST_CASE("a standby scheduler restarted under a running dlbad is told again where to sync from", "[failover]") {
    // Found by scripts/chaos: the active did not change, so the daemon never named it to the new scheduler, whose
    // table stayed empty (version 0) for good.
    Node n(2);
    n.net.answers[1] = true;
    for (int i = 0; i < 8; ++i) n.round({beat(1, 3, true), beat(3, 0, false)});
    CHECK(n.link.count("sync_from 1") == 1);
    n.link.counters_reading = {std::nullopt, true};  // killed: nobody listens on its control socket
    n.link.sync = no_answer();
    n.loop.refresh_local_role();
    n.round({beat(1, 3, true), beat(3, 0, false)});
    CHECK_FALSE(n.loop.snapshot().sync_from);
    const size_t asked_while_gone = n.link.count("sync_from 1");
    n.link.counters_reading = {LocalCounters{false, 0, 1}, false};  // restarted: standby, an empty table
    n.link.sync = ok_reply();
    n.loop.refresh_local_role();
    for (int i = 0; i < 3; ++i) n.round({beat(1, 3, true), beat(3, 0, false)});
    CHECK(n.link.count("sync_from 1") == asked_while_gone + 1);  // once more, to the new scheduler
    CHECK(n.loop.snapshot().sync_from == std::optional<uint16_t>(1));
}

TEST_CASE("a node whose peers' heartbeats all fail to verify is isolated and never takes over", "[failover][auth]") {
    Node n(1);
    // Nodes 2 and 3 send, but with a key we do not hold: we hear nobody.
    for (int i = 0; i < 20; ++i) {
        n.net.unverified[2] = n.time.now_ms + 50;
        n.net.unverified[3] = n.time.now_ms + 50;
        n.round({});
    }
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK(s.isolated);
    CHECK(s.unverified == std::vector<uint16_t>{2, 3});
    CHECK_FALSE(s.active);
    CHECK_FALSE(n.link.asked("set_role_active 500"));
    CHECK(std::any_of(s.events.begin(), s.events.end(),
                      [](const std::string& e) { return e.find("isolated") != std::string::npos; }));
}

TEST_CASE("one mis-keyed peer is reported but does not isolate the others", "[failover][auth]") {
    Node n(1);
    for (int i = 0; i < 20; ++i) {
        n.net.unverified[3] = n.time.now_ms + 50;
        n.round({beat(2, 0, false)});
    }
    const FailoverSnapshot s = n.loop.snapshot();
    CHECK_FALSE(s.isolated);
    CHECK(s.unverified == std::vector<uint16_t>{3});
    CHECK(s.active);  // node 1 outranks node 2: the election goes on without node 3
}
