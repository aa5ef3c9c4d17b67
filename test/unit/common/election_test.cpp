#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include "election.hpp"

using namespace dlba;

namespace {

constexpr ElectionTiming kTiming{50, 250, 4};

std::vector<ElectionMember> three(uint32_t p1 = 100, uint32_t p2 = 100, uint32_t p3 = 100) {
    return {{1, p1, true}, {2, p2, true}, {3, p3, true}};
}

// Every node's Election, fed the same heartbeats, as the daemons would be.
struct Array {
    std::map<uint16_t, std::unique_ptr<Election>> nodes;
    std::map<uint16_t, bool> up;         // daemon and data plane alive
    std::map<uint16_t, bool> dataplane;  // the node's own scheduler answers it
    uint64_t now = 0;

    explicit Array(const std::vector<ElectionMember>& members) {
        for (const auto& m : members) {
            nodes[m.node] = std::make_unique<Election>(m.node, members, kTiming);
            nodes[m.node]->set_local_dataplane(true);
            up[m.node] = true;
            dataplane[m.node] = true;
        }
    }
    // One heartbeat round, probes of whoever each node thinks is active, and a tick: returns the decisions.
    std::map<uint16_t, Decision> round() {
        now += kTiming.heartbeat_interval_ms;
        for (auto& [from, e] : nodes) {
            if (!up[from]) continue;
            e->set_local_dataplane(dataplane[from]);
            const Heartbeat hb{from, e->term(), e->active(), dataplane[from]};
            for (auto& [to, other] : nodes) {
                if (to != from && up[to]) other->on_heartbeat(hb, now);
            }
        }
        for (auto& [n, e] : nodes) {
            if (!up[n]) continue;
            if (auto a = e->known_active(); a && *a != n) e->on_probe(*a, up[*a] && dataplane[*a], now);
        }
        std::map<uint16_t, Decision> out;
        for (auto& [n, e] : nodes) {
            if (up[n]) out[n] = e->tick(now);
        }
        return out;
    }
    std::vector<uint16_t> actives() const {
        std::vector<uint16_t> a;
        for (const auto& [n, e] : nodes) {
            if (up.at(n) && e->active()) a.push_back(n);
        }
        return a;
    }
    void run(int rounds) {
        for (int i = 0; i < rounds; ++i) round();
    }
};

}  // namespace

TEST_CASE("at start the best-ranked node becomes the only active scheduler", "[election]") {
    Array a(three());
    a.run(3);
    CHECK(a.actives().empty());  // nobody before every peer had time to speak
    a.run(10);
    CHECK(a.actives() == std::vector<uint16_t>{1});
    CHECK(a.nodes[1]->term() == 1);
    CHECK(a.nodes[2]->known_active() == 1);
    CHECK(a.nodes[3]->known_active() == 1);
}

TEST_CASE("priority ranks before node number", "[election]") {
    Array a(three(100, 200, 100));
    a.run(10);
    CHECK(a.actives() == std::vector<uint16_t>{2});
    CHECK(a.nodes[1]->outranks(2, 1));
    CHECK(a.nodes[1]->outranks(1, 3));
}

TEST_CASE("a dead active is replaced by the next-ranked node with a higher term", "[election]") {
    Array a(three());
    a.run(10);
    REQUIRE(a.actives() == std::vector<uint16_t>{1});
    a.up[1] = false;
    int rounds = 0;
    while (a.actives() != std::vector<uint16_t>{2} && rounds < 20) a.round(), ++rounds;
    CHECK(a.actives() == std::vector<uint16_t>{2});
    CHECK(a.nodes[2]->term() == 2);
    // Detection takes the probe misses (4 x 50 ms): the takeover happens within ~6 rounds (300 ms).
    CHECK(rounds <= 6);
    a.round();  // node 3 hears node 2's first heartbeat as active
    CHECK(a.nodes[3]->known_active() == 2);
    CHECK(a.actives() == std::vector<uint16_t>{2});
}

TEST_CASE("a node coming back does not take the VIP back", "[election]") {
    Array a(three());
    a.run(10);
    a.up[1] = false;
    a.run(10);
    REQUIRE(a.actives() == std::vector<uint16_t>{2});
    a.nodes[1] = std::make_unique<Election>(1, three(), kTiming);  // restarted daemon
    a.nodes[1]->set_local_dataplane(true);
    a.up[1] = true;
    a.run(20);
    CHECK(a.actives() == std::vector<uint16_t>{2});
    CHECK(a.nodes[1]->known_active() == 2);
}

TEST_CASE("of two actives the higher term stays and the other steps down", "[election]") {
    Election e(1, three(), kTiming);
    e.set_local_dataplane(true);
    e.set_local_role(true, 3);
    e.on_heartbeat({2, 5, true, true}, 1000);
    const Decision d = e.tick(1000);
    CHECK(d.action == ElectionAction::step_down);
    CHECK(d.active == 2);
    CHECK_FALSE(e.active());
    CHECK(e.tick(1010).action == ElectionAction::none);
}

TEST_CASE("of two actives with equal terms the better-ranked stays", "[election]") {
    Election low(2, three(), kTiming);
    low.set_local_dataplane(true);
    low.set_local_role(true, 4);
    low.on_heartbeat({1, 4, true, true}, 1000);
    CHECK(low.tick(1000).action == ElectionAction::step_down);

    Election high(1, three(), kTiming);
    high.set_local_dataplane(true);
    high.set_local_role(true, 4);
    high.on_heartbeat({2, 4, true, true}, 1000);
    CHECK(high.tick(1000).action == ElectionAction::reannounce);  // the loser's ARP may have moved the VIP
    CHECK(high.active());
}

TEST_CASE("two actives made by hand converge to one within a round", "[election]") {
    Array a(three());
    a.run(10);
    a.nodes[3]->set_local_role(true, a.nodes[1]->term());  // an operator turned node 3 active too
    a.round();
    CHECK(a.actives() == std::vector<uint16_t>{1});
}

TEST_CASE("a node whose own data plane is down is no candidate and steps down", "[election]") {
    Array a(three());
    a.dataplane[1] = false;
    a.run(10);
    CHECK(a.actives() == std::vector<uint16_t>{2});
    // The active's own data plane fails: it steps down and the next-ranked node takes over.
    a.dataplane[2] = false;
    a.run(10);
    CHECK(a.actives() == std::vector<uint16_t>{3});
    Election e(1, three(), kTiming);
    e.set_local_dataplane(false);
    e.set_local_role(true, 7);
    CHECK(e.tick(5000).action == ElectionAction::none);  // not before its own probes had time to answer
    CHECK(e.tick(5300).action == ElectionAction::step_down);
}

TEST_CASE("a disabled node never becomes active", "[election]") {
    std::vector<ElectionMember> m = three(300, 100, 100);
    m[0].enabled = false;
    Array a(m);
    a.run(10);
    CHECK(a.actives() == std::vector<uint16_t>{2});
}

TEST_CASE("a stale heartbeat makes an active peer count as dead", "[election]") {
    Election e(2, three(), kTiming);
    e.set_local_dataplane(true);
    e.on_heartbeat({1, 1, true, true}, 1000);
    e.on_heartbeat({3, 1, false, true}, 1000);
    CHECK(e.tick(1000).action == ElectionAction::none);
    CHECK(e.known_active() == 1);
    e.on_heartbeat({3, 1, false, true}, 1300);
    const Decision d = e.tick(1300);  // node 1 silent for 300 ms > 250 ms
    CHECK(d.action == ElectionAction::become_active);
    CHECK(d.term == 2);
}

#include "heartbeat.hpp"

TEST_CASE("heartbeats round-trip and malformed ones are refused", "[heartbeat]") {
    hb::Message m;
    m.beat = {7, 123456789012ULL, true, false};
    m.table_version = 42;
    m.config_id = 0xfeedfacecafebeefULL;
    auto bytes = hb::encode(m);
    const auto back = hb::decode(bytes.data(), bytes.size());
    REQUIRE(back);
    CHECK(back->beat.node == 7);
    CHECK(back->beat.term == 123456789012ULL);
    CHECK(back->beat.active);
    CHECK_FALSE(back->beat.dataplane_ok);
    CHECK(back->table_version == 42);
    CHECK(back->config_id == m.config_id);
    CHECK_FALSE(hb::decode(bytes.data(), bytes.size() - 1));
    auto bad = bytes;
    bad[0] = 'X';
    CHECK_FALSE(hb::decode(bad.data(), bad.size()));
    bad = bytes;
    bad[6] = 0, bad[7] = 0;  // node 0
    CHECK_FALSE(hb::decode(bad.data(), bad.size()));
    bad = bytes;
    bad[32] = 0x80;  // unknown flag
    CHECK_FALSE(hb::decode(bad.data(), bad.size()));
    bad = bytes;
    bad[39] = 1;  // padding must be zero
    CHECK_FALSE(hb::decode(bad.data(), bad.size()));
}
