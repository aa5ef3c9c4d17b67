// The guard at a peer port: address, envelope, tag, sender, kind, freshness, each failure counted by reason, and
// the signer whose messages it takes.
#include <catch2/catch.hpp>

#include "auth/peer_guard.hpp"
#include "auth/signer.hpp"

using namespace dlba::auth;

namespace {

constexpr uint32_t kIp1 = 0x0a4d000b;  // 10.77.0.11
constexpr uint32_t kIp2 = 0x0a4d000c;
constexpr uint32_t kStranger = 0x0a4d0063;

const PeerKey kKey = *generate_key();
const PeerKey kOther = *generate_key();

GuardSettings settings(KeyRing ring = KeyRing({kKey})) { return {std::move(ring), {{1, kIp1}, {2, kIp2}}, 10'000'000}; }

}  // namespace

TEST_CASE("a signed heartbeat from its node's address is taken once", "[auth]") {
    PeerGuard g("test", settings());
    Signer s(KeyRing({kKey}), 2);
    const std::string hb = s.one_way(Kind::heartbeat, "beat");
    const auto e = g.one_way(hb, Kind::heartbeat, kIp2, unix_us());
    REQUIRE(e);
    CHECK(e->payload == "beat");
    CHECK_FALSE(g.one_way(hb, Kind::heartbeat, kIp2, unix_us()));
    CHECK(g.drops().get(Drop::replayed) == 1);
    CHECK(g.one_way(s.one_way(Kind::heartbeat, "beat"), Kind::heartbeat, kIp2, unix_us()));
}

TEST_CASE("each way a message can fail is counted under its own reason and takes nothing", "[auth]") {
    PeerGuard g("test", settings());
    const uint64_t now = unix_us();
    Signer node2(KeyRing({kKey}), 2);
    Signer foreign(KeyRing({kOther}), 2);
    CHECK_FALSE(g.one_way("not an envelope", Kind::heartbeat, kIp2, now));
    CHECK(g.drops().get(Drop::unsigned_message) == 1);
    CHECK_FALSE(g.one_way(foreign.one_way(Kind::heartbeat, "x"), Kind::heartbeat, kIp2, now));
    CHECK(g.drops().get(Drop::bad_mac) == 1);
    CHECK(g.drops().last().reason == Drop::bad_mac);
    CHECK(g.drops().last().from_ip == kIp2);
    CHECK_FALSE(g.one_way(node2.one_way(Kind::heartbeat, "x"), Kind::heartbeat, kStranger, now));
    CHECK_FALSE(g.one_way(node2.one_way(Kind::heartbeat, "x"), Kind::heartbeat, kIp1, now));  // node 2 from node 1
    CHECK(g.drops().get(Drop::unknown_sender) == 2);
    CHECK_FALSE(g.one_way(node2.one_way(Kind::heartbeat, "x"), Kind::heartbeat, kIp2, now + 60'000'000));
    CHECK(g.drops().get(Drop::stale) == 1);
    CHECK_FALSE(g.one_way(node2.one_way(Kind::sync_answer, "x"), Kind::heartbeat, kIp2, now));  // out of place
    CHECK(g.drops().get(Drop::replayed) == 1);
    CHECK(g.drops().total() == 6);
}

TEST_CASE("the operator is let in from a node's address only where operators are allowed", "[auth]") {
    PeerGuard g("test", settings());
    Signer ctl(KeyRing({kKey}), kOperator);
    uint64_t nonce = 0;
    CHECK(g.request(ctl.request(Kind::config_request, "SHOW failover", &nonce), Kind::config_request, kIp1, true,
                    unix_us()));
    CHECK_FALSE(g.request(ctl.request(Kind::config_request, "SHOW failover", &nonce), Kind::config_request, kIp1,
                          false, unix_us()));
    CHECK_FALSE(g.request(ctl.request(Kind::config_request, "SHOW failover", &nonce), Kind::config_request,
                          kStranger, true, unix_us()));
    CHECK(g.drops().get(Drop::unknown_sender) == 2);
}

TEST_CASE("a captured request replayed is refused", "[auth]") {
    PeerGuard g("test", settings());
    Signer ctl(KeyRing({kKey}), kOperator);
    uint64_t nonce = 0;
    const std::string admin = ctl.request(Kind::config_request, "ADMIN backend 2 disable", &nonce);
    CHECK(g.request(admin, Kind::config_request, kIp1, true, unix_us()));
    CHECK_FALSE(g.request(admin, Kind::config_request, kIp1, true, unix_us()));
    CHECK(g.drops().get(Drop::replayed) == 1);
}

TEST_CASE("an answer is taken only from the node asked and only for the request it answers", "[auth]") {
    PeerGuard client("test", settings());
    Signer asker(KeyRing({kKey}), 1), node2(KeyRing({kKey}), 2);
    uint64_t nonce1 = 0, nonce2 = 0;
    const std::string req1 = asker.request(Kind::sync_request, "PULL 1 0\n", &nonce1);
    asker.request(Kind::sync_request, "PULL 1 0\n", &nonce2);
    const Header h1 = open(req1)->header;
    const std::string answer1 = node2.answer(Kind::sync_answer, "DLBS", h1);
    CHECK(client.answer(answer1, Kind::sync_answer, 2, nonce1, kIp2, unix_us()));
    // The same answer captured and offered to the next request.
    CHECK_FALSE(client.answer(answer1, Kind::sync_answer, 2, nonce2, kIp2, unix_us()));
    CHECK(client.drops().get(Drop::replayed) == 1);
    CHECK_FALSE(client.answer(answer1, Kind::sync_answer, 1, nonce1, kIp2, unix_us()));
    CHECK(client.drops().get(Drop::unknown_sender) == 1);
}

TEST_CASE("the signer's counters never repeat, even within one microsecond", "[auth]") {
    Signer s(KeyRing({kKey}), 1);
    uint64_t last = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t c = open(s.one_way(Kind::heartbeat, ""))->header.counter;
        CHECK(c > last);
        last = c;
    }
}
