// Who is the active scheduler: the pure rule every node's failover daemon runs on its own view of the array.
//
// Inputs, each stamped with the caller's clock: heartbeats from peers (their term, whether they are active, whether
// their own data plane answers them), and the results of this node's probes of the active scheduler's data plane
// (ICMP echo to its scheduler-port IP, answered by DPDK, not the kernel).
//
// The rule, deterministic given the same view:
//   * A node is a candidate when it is enabled in the configuration, its heartbeat is fresh (or it is this node)
//     and its own data plane is alive.
//   * Candidates are ranked by priority (higher first), then by node number (lower first).
//   * While a live active scheduler is known, nobody takes over (no pre-emption: a node coming back joins as
//     standby, so the VIP does not flap).
//   * The active is dead when its data plane misses `probe_misses` probes in a row, or its heartbeat is stale.
//     Then the best-ranked candidate becomes active with term = highest term seen + 1; the others wait for it.
//   * Nobody takes over during the first dead_after_ms after start, so that every peer has been heard from.
//   * Two actives (a partition healed, an operator's mistake): the one with the higher term stays; on equal terms
//     the better-ranked one stays. The other steps down at once.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dlba {

struct ElectionTiming {
    uint32_t heartbeat_interval_ms = 50;
    uint32_t dead_after_ms = 250;  // a peer whose last heartbeat is older than this is gone
    uint32_t probe_misses = 4;     // consecutive failed data-plane probes before the active counts as dead
};

struct ElectionMember {
    uint16_t node = 0;
    uint32_t priority = 100;
    bool enabled = true;
};

struct Heartbeat {
    uint16_t node = 0;
    uint64_t term = 0;
    bool active = false;
    bool dataplane_ok = false;  // the sender's own scheduler answers it
    bool yielded = false;       // the sender just stepped down for another active: that one must re-announce
};

enum class ElectionAction : uint8_t {
    none,
    become_active,  // turn the local scheduler active (term in Decision::term), announce the VIP
    step_down,      // turn the local scheduler standby
    reannounce,     // we stay active over another active: announce the VIP again (its ARP may have moved it)
};

struct Decision {
    ElectionAction action = ElectionAction::none;
    uint64_t term = 0;
    std::optional<uint16_t> active;  // who this node believes is active now
};

class Election {
public:
    Election(uint16_t self, std::vector<ElectionMember> members, ElectionTiming timing);

    void on_heartbeat(const Heartbeat& hb, uint64_t now_ms);
    // This node's probe of the active scheduler's data plane.
    void on_probe(uint16_t target, bool answered, uint64_t now_ms);
    // Whether this node's own data plane answers (from the local probe).
    void set_local_dataplane(bool ok) { local_ok_ = ok; }
    // The local scheduler's role as last read from it (an operator may change it by hand).
    void set_local_role(bool active, uint64_t term);

    // Decides what this node must do now. Idempotent: calling it again without new input gives `none`.
    Decision tick(uint64_t now_ms);

    bool active() const { return self_active_; }
    uint64_t term() const { return self_term_; }
    std::optional<uint16_t> known_active() const { return active_; }
    // Ranking, exposed for tests and the README's table: true when a outranks b.
    bool outranks(uint16_t a, uint16_t b) const;

private:
    struct Peer {
        ElectionMember member;
        bool seen = false;
        uint64_t last_heartbeat_ms = 0;
        Heartbeat last;
        uint32_t probe_misses = 0;
    };
    Peer* peer(uint16_t node);
    const Peer* peer(uint16_t node) const;
    bool fresh(const Peer& p, uint64_t now_ms) const;
    bool candidate(const Peer& p, uint64_t now_ms) const;
    bool active_alive(uint16_t node, uint64_t now_ms) const;

    uint16_t self_;
    ElectionTiming timing_;
    std::vector<Peer> peers_;
    bool local_ok_ = false;
    bool self_active_ = false;
    uint64_t self_term_ = 0;
    bool yield_seen_ = false;  // a peer yielded to us since the last tick
    uint64_t max_term_ = 0;
    std::optional<uint16_t> active_;  // the peer (or self) believed active
    std::optional<uint64_t> start_ms_;
};

}  // namespace dlba
