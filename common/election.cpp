#include "election.hpp"

#include <algorithm>

namespace dlba {

Election::Election(uint16_t self, std::vector<ElectionMember> members, ElectionTiming timing)
    : self_(self), timing_(timing) {
    for (const ElectionMember& m : members) peers_.push_back({m});
}

Election::Peer* Election::peer(uint16_t node) {
    for (Peer& p : peers_) {
        if (p.member.node == node) return &p;
    }
    return nullptr;
}

const Election::Peer* Election::peer(uint16_t node) const {
    for (const Peer& p : peers_) {
        if (p.member.node == node) return &p;
    }
    return nullptr;
}

bool Election::outranks(uint16_t a, uint16_t b) const {
    const Peer* pa = peer(a);
    const Peer* pb = peer(b);
    const uint32_t prio_a = pa ? pa->member.priority : 0;
    const uint32_t prio_b = pb ? pb->member.priority : 0;
    if (prio_a != prio_b) return prio_a > prio_b;
    return a < b;
}

bool Election::fresh(const Peer& p, uint64_t now_ms) const {
    if (p.member.node == self_) return true;
    return p.seen && now_ms - p.last_heartbeat_ms <= timing_.dead_after_ms;
}

bool Election::candidate(const Peer& p, uint64_t now_ms) const {
    if (!p.member.enabled || !fresh(p, now_ms)) return false;
    return p.member.node == self_ ? local_ok_ : p.last.dataplane_ok;
}

bool Election::active_alive(uint16_t node, uint64_t now_ms) const {
    if (node == self_) return self_active_ && local_ok_;
    const Peer* p = peer(node);
    if (!p || !fresh(*p, now_ms) || !p->last.active) return false;
    return p->probe_misses < timing_.probe_misses;
}

void Election::on_heartbeat(const Heartbeat& hb, uint64_t now_ms) {
    Peer* p = peer(hb.node);
    if (!p || hb.node == self_) return;  // unknown nodes carry no vote
    p->seen = true;
    p->last_heartbeat_ms = now_ms;
    p->last = hb;
    if (hb.yielded) yield_seen_ = true;
    max_term_ = std::max(max_term_, hb.term);
    if (hb.active) {
        // A newly announced active starts with a clean probe record.
        if (active_ != hb.node) p->probe_misses = 0;
    }
}

void Election::on_probe(uint16_t target, bool answered, uint64_t /*now_ms*/) {
    Peer* p = peer(target);
    if (!p) return;
    p->probe_misses = answered ? 0 : p->probe_misses + 1;
}

void Election::set_local_role(bool active, uint64_t term) {
    self_active_ = active;
    self_term_ = term;
    max_term_ = std::max(max_term_, term);
}

Decision Election::tick(uint64_t now_ms) {
    Decision d;
    if (!start_ms_) start_ms_ = now_ms;
    // 1. Split brain: among every live active (self included), the highest term, then the best rank, stays.
    std::optional<uint16_t> winner;
    uint64_t winner_term = 0;
    const auto consider = [&](uint16_t node, uint64_t term) {
        if (!winner || term > winner_term || (term == winner_term && outranks(node, *winner))) {
            winner = node;
            winner_term = term;
        }
    };
    if (self_active_) consider(self_, self_term_);
    for (const Peer& p : peers_) {
        if (p.member.node != self_ && active_alive(p.member.node, now_ms)) consider(p.member.node, p.last.term);
    }
    bool rival = false;  // another live active beside us
    for (const Peer& p : peers_) {
        if (p.member.node != self_ && active_alive(p.member.node, now_ms)) rival = true;
    }
    if (self_active_ && winner && *winner == self_ && (rival || yield_seen_)) d.action = ElectionAction::reannounce;
    yield_seen_ = false;
    if (self_active_ && winner && *winner != self_) {
        self_active_ = false;
        d.action = ElectionAction::step_down;
    }
    if (winner && (*winner != self_ || self_active_)) {
        active_ = winner;
        d.term = winner == self_ ? self_term_ : winner_term;
        d.active = active_;
        const bool settled = now_ms - *start_ms_ >= timing_.dead_after_ms;  // our own probes had time to answer
        if (!local_ok_ && self_active_ && settled) {
            // Our own data plane stopped answering: let a healthy node take over.
            self_active_ = false;
            d.action = ElectionAction::step_down;
            d.active.reset();
            active_.reset();
        }
        return d;
    }

    // 2. No live active: the best-ranked candidate takes over with a new term, once every peer had time to speak.
    active_.reset();
    if (now_ms - *start_ms_ < timing_.dead_after_ms) return d;
    std::optional<uint16_t> best;
    for (const Peer& p : peers_) {
        if (candidate(p, now_ms) && (!best || outranks(p.member.node, *best))) best = p.member.node;
    }
    if (best && *best == self_) {
        self_active_ = true;
        self_term_ = max_term_ + 1;
        max_term_ = self_term_;
        active_ = self_;
        d.action = ElectionAction::become_active;
        d.term = self_term_;
        d.active = self_;
    }
    return d;
}

}  // namespace dlba
