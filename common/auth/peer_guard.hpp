// The receiving side of peer authentication, one per port: which addresses may talk to it, which keys verify,
// the replay window, and the drop counters. Every check runs before the message's content is looked at, and a
// message that fails one changes nothing but a counter (and, rate-limited, a log line).
//
// Order: the sender's address (a configured node's eth0), the envelope's structure, the tag (any key of the ring),
// then what the now-authenticated header claims: a sender id that matches its address (or the operator, 0, from
// any node's address where operators are allowed), the kind this port expects, and freshness.
//
// One owner thread per guard (the replay state is not locked); the counters may be read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/drops.hpp"
#include "auth/envelope.hpp"
#include "auth/keys.hpp"
#include "auth/replay.hpp"

namespace dlba::auth {

struct GuardSettings {
    KeyRing ring;
    std::map<uint16_t, uint32_t> nodes;  // node number -> eth0 IP (host order)
    uint64_t window_us = 10'000'000;
};

class PeerGuard {
public:
    PeerGuard(std::string who, GuardSettings settings);

    // On accept (TCP) or receipt (UDP): counts unknown_sender and returns false for an address that is no node's.
    bool admit_address(uint32_t from_ip, uint64_t now_us);
    // A heartbeat: highest counter per sender.
    std::optional<Opened> one_way(std::string_view bytes, Kind kind, uint32_t from_ip, uint64_t now_us);
    // A request on a TCP port; operator_ok lets dlbactl (sender 0) in from any node's address.
    std::optional<Opened> request(std::string_view bytes, Kind kind, uint32_t from_ip, bool operator_ok,
                                  uint64_t now_us);
    // The answer to our request (nonce) from node `expected_sender`.
    std::optional<Opened> answer(std::string_view bytes, Kind kind, uint16_t expected_sender, uint64_t nonce,
                                 uint32_t from_ip, uint64_t now_us);
    // A message dropped before it could be opened (e.g. a stream that did not start with a header).
    void drop(Drop d, uint32_t from_ip, uint64_t now_us, const std::string& what);

    // A reloaded configuration's keys and nodes; the replay state and the counters carry over. Owner thread only.
    void update(GuardSettings settings);

    const DropCounters& drops() const { return drops_; }
    // Why the last message this guard judged was dropped; nullopt when it was taken (owner thread only).
    std::optional<Drop> last_verdict() const { return last_verdict_; }
    const KeyRing& ring() const { return settings_.ring; }

private:
    std::optional<Opened> authenticate(std::string_view bytes, Kind kind, uint32_t from_ip, uint64_t now_us);
    bool sender_matches(uint16_t sender, uint32_t from_ip, bool operator_ok) const;
    // Each drops (counted, logged as `what`) and returns false when the message fails its check.
    bool admit_sender(const Opened& e, uint32_t from_ip, bool operator_ok, uint64_t now_us, const std::string& what);
    bool admit_fresh(Freshness f, uint32_t from_ip, uint64_t now_us, const std::string& what);
    bool is_node_address(uint32_t ip) const;

    const std::string who_;
    GuardSettings settings_;
    ReplayGuard replay_;
    DropCounters drops_;
    DropLog log_;
    std::optional<Drop> last_verdict_;
};

}  // namespace dlba::auth
