#include "node_daemon.hpp"

#include <algorithm>
#include <cstdio>

namespace dlba::dlbad {

namespace {

constexpr size_t kMaxEvents = 20;
constexpr uint32_t kOwnProbePatience = 5;  // own-probe window, in peer windows, while the local poll loop runs
constexpr int kPollCheckTimeoutMs = 200;   // reading the local poll counter after a missed own probe
constexpr int kRoleCheckTimeoutMs = 500;
constexpr uint64_t kRoleCheckMs = 500;     // the local scheduler's role is read this often
constexpr uint64_t kVipArpRoundMs = 1000;  // one ARP request for the VIP from eth0 this often
constexpr uint64_t kSteerRoundMs = 500;    // the active's load-steering decision this often
constexpr uint32_t kYieldGraceMs = 30;     // a stepping-down active keeps forwarding this long after yielding
constexpr uint32_t kYieldHeartbeats = 5;   // heartbeats that carry the "yielded" flag after a step-down

std::vector<ElectionMember> members_of(const ArrayConfig& c) {
    std::vector<ElectionMember> m;
    for (const NodeConfig& n : c.nodes) m.push_back({n.number, n.priority, n.enabled});
    return m;
}

ElectionTiming timing_of(const FailoverConfig& f) { return {f.heartbeat_interval_ms, f.dead_after_ms, f.probe_misses}; }

}  // namespace

std::optional<uint16_t> node_of_sched_mac(const ArrayConfig& config, const MacAddr& m) {
    for (const NodeConfig& n : config.nodes) {
        if (n.sched_mac == m) return n.number;
    }
    return std::nullopt;
}

FailoverLoop::FailoverLoop(const ArrayConfig& config, FailoverIdentity identity, FailoverNet& net, LocalLink& link,
                           const TimeSource& time, RoleListener on_role)
    : config_(config), id_(identity), self_(*config.node(identity.node)), net_(net), link_(link), time_(time),
      on_role_(std::move(on_role)), election_(id_.node, members_of(config), timing_of(config.failover)) {
    local_misses_ = config.failover.probe_misses;  // unknown until the first probe answers
    if (id_.initial_term) election_.set_local_role(false, id_.initial_term);
    publish();
}

void FailoverLoop::run(const std::function<bool()>& stopping) {
    const uint32_t interval = config_.failover.heartbeat_interval_ms;
    uint64_t next_round = time_.monotonic_ms();
    uint64_t next_role_check = next_round;
    const auto heard = [this](const hb::Message& m, uint32_t from_ip) {
        on_heartbeat(m, from_ip, time_.monotonic_ms());
    };
    while (!stopping()) {
        const uint64_t now0 = time_.monotonic_ms();
        const int wait = next_round > now0 ? static_cast<int>(std::min<uint64_t>(next_round - now0, interval)) : 0;
        net_.wait(wait, heard);
        const uint64_t now = time_.monotonic_ms();
        if (now >= next_role_check) {
            refresh_local_role();
            next_role_check = now + kRoleCheckMs;
        }
        if (now >= next_round) {
            round(now);
            next_round = now + interval;
        }
    }
}

void FailoverLoop::hand_over() {
    if (!election_.active()) return;
    link_.set_standby();
    election_.set_local_role(false, election_.term());
    set_local_active(false);
    send_heartbeat(false, false);  // "not a candidate" either: we are leaving
    std::fprintf(stderr, "<5>dlbad[node %u]: stopping: handed the VIP over\n", id_.node);
    publish();
}

void FailoverLoop::round(uint64_t now) {
    // 1. What the previous round's probes found.
    local_misses_ = net_.probe_answered(id_.node) ? 0 : local_misses_ + 1;
    // Our own data plane is judged more patiently than a peer's while its poll loop is seen running: on a loaded
    // host the echo reply can come late although forwarding goes on, and an active that stepped down for that would
    // hand the VIP around for nothing. A wedged or dead scheduler stops polling, and then the usual window applies.
    // The poll counter is read again on every miss, not only every 500 ms: a killed scheduler must lose the
    // patience at once, or its node would stay the best-ranked "healthy" candidate and hold the takeover back.
    if (local_misses_ > 0) update_local_polling(kPollCheckTimeoutMs);
    const uint32_t own_window = config_.failover.probe_misses * (local_polling_ ? kOwnProbePatience : 1);
    local_dataplane_ok_ = local_misses_ < own_window;
    check_unverified(now);
    // An isolated node (its peers' heartbeats do not verify: its key is likely the wrong one) hears nobody, so it
    // would think itself alone and take the VIP: it is no candidate. An active that finds itself isolated keeps the
    // role (in an array of two, the other node sees the same and must not take over either).
    election_.set_local_dataplane(local_dataplane_ok_ && (!isolated_ || election_.active()));
    const std::optional<uint16_t> active = election_.known_active();
    if (active && *active != id_.node && net_.probed(*active)) {
        election_.on_probe(*active, net_.probe_answered(*active), now);
    }
    // 2. Decide and act.
    act(election_.tick(now));
    // 3. Keep the active role's lease (a role set by hand has none: take it, we are the elected active).
    if (election_.active() && local_active_) {
        if (!link_.renew().ok()) link_.set_role_active(lease_ms());
    }
    // 4. Next probes: our own data plane, and the active scheduler's.
    std::map<uint16_t, uint32_t> targets{{id_.node, self_.sched_ip}};
    if (const auto a = election_.known_active(); a && *a != id_.node) {
        if (const NodeConfig* n = config_.node(*a)) targets[*a] = n->sched_ip;
    }
    net_.send_probes(targets);
    // 5. Heartbeats to every peer.
    send_heartbeat(election_.active(), local_dataplane_ok_);
    // 6. The active decides who is steered away from new buckets by load (failover.load).
    if (election_.active() && local_active_ && config_.failover.load.enabled && now >= next_steer_ms_) {
        steer_round(now);
        next_steer_ms_ = now + kSteerRoundMs;
    }
    if (!election_.active()) steered_.clear();
    // 7. Now and then, who really answers for the VIP.
    if (now >= next_vip_arp_ms_) {
        check_vip_arp();
        next_vip_arp_ms_ = now + kVipArpRoundMs;
    }
    publish();
}

// The ARP answer for the VIP against the heartbeat view. An active that is not alone on the wire announces the VIP
// again (the other claimant may be an orphan, whose dlbad died, that no heartbeat can reach: its periodic
// announcements would otherwise take the router back until its node is repaired). Disagreements are logged.
void FailoverLoop::check_vip_arp() {
    net_.next_vip_arp_round();  // the round that just ended becomes the last one
    vip_arp_macs_ = net_.vip_arp_last_round();
    if (net_.vip_arp_rounds() < 2) return;  // nothing asked yet
    const auto list = [this](const std::vector<MacAddr>& macs) {
        std::string who;
        for (const MacAddr& m : macs) who += (who.empty() ? "" : ", ") + describe_mac(m);
        return who;
    };
    if (election_.active() && local_active_) {
        std::vector<MacAddr> others;
        for (const MacAddr& m : vip_arp_macs_) {
            if (!(m == self_.sched_mac)) others.push_back(m);
        }
        vip_arp_rival_rounds_ = others.empty() ? 0 : vip_arp_rival_rounds_ + 1;
        // Two rounds in a row: a split brain being resolved by heartbeats is over well within one.
        if (vip_arp_rival_rounds_ >= 2) {
            link_.set_role_active(lease_ms());
            event("another MAC answers ARP for the VIP beside ours: " + list(others) + "; announced the VIP again");
        }
        vip_arp_mismatch_rounds_ = 0;
        return;
    }
    vip_arp_rival_rounds_ = 0;
    const auto known = election_.known_active();
    const bool agrees = known && vip_arp_macs_.size() == 1 && node_of_sched_mac(config_, vip_arp_macs_[0]) == known;
    vip_arp_mismatch_rounds_ = agrees || !known ? 0 : vip_arp_mismatch_rounds_ + 1;
    // Logged on the second disagreeing round, then every 30 rounds while it lasts.
    if (vip_arp_mismatch_rounds_ == 2 || (vip_arp_mismatch_rounds_ > 2 && vip_arp_mismatch_rounds_ % 30 == 0)) {
        const std::string who = list(vip_arp_macs_);
        event("the VIP's ARP answer (" + (who.empty() ? std::string("nobody") : who) + ") is not the active node " +
              std::to_string(*known));
    }
}

// Peers whose heartbeats come from their address but do not verify, within the peer window; isolated when they
// outnumber the peers heard properly.
void FailoverLoop::check_unverified(uint64_t now) {
    std::vector<uint16_t> bad;
    for (const auto& [node, at] : net_.unverified_peers()) {
        if (now - at > config_.failover.dead_after_ms) continue;
        const auto heard = peers_.find(node);
        if (heard != peers_.end() && now - heard->second.last_ms <= config_.failover.dead_after_ms) continue;
        bad.push_back(node);
    }
    size_t verified = 0;
    for (const auto& [node, p] : peers_) verified += now - p.last_ms <= config_.failover.dead_after_ms ? 1 : 0;
    const bool isolated = !bad.empty() && bad.size() > verified;
    std::string list;
    for (uint16_t n : bad) list += (list.empty() ? "" : ", ") + std::to_string(n);
    if (bad != unverified_ && !bad.empty()) {
        event("heartbeats from node(s) " + list + " do not verify with our peer keys (a wrong or missing key)");
    }
    if (isolated != isolated_) {
        event(isolated ? "isolated: our peers' heartbeats do not verify with our keys (is our failover.peer_keys "
                         "wrong?); not a candidate for the active role"
                       : "no longer isolated: peers' heartbeats verify again");
    }
    unverified_ = std::move(bad);
    isolated_ = isolated;
}

std::string FailoverLoop::describe_mac(const MacAddr& m) const {
    const auto n = node_of_sched_mac(config_, m);
    return m.str() + (n ? " (node " + std::to_string(*n) + ")" : std::string(" (not a scheduler of this array)"));
}

void FailoverLoop::send_heartbeat(bool active, bool dataplane_ok) {
    hb::Message m;
    m.beat = {id_.node, election_.term(), active, dataplane_ok, yield_rounds_ > 0};
    if (yield_rounds_ > 0) --yield_rounds_;
    m.table_version = local_version_;
    m.config_id = id_.config_id;
    const auto load = own_load();
    m.load_pct = load && *load <= 100 ? static_cast<uint8_t>(*load) : hb::kLoadUnknown;
    net_.send_heartbeat(m);
}

void FailoverLoop::on_heartbeat(const hb::Message& m, uint32_t from_ip, uint64_t now) {
    const NodeConfig* peer = config_.node(m.beat.node);
    // Only a configured node, from its own eth0 address, has a say.
    if (!peer || peer->eth0_ip != from_ip || peer->number == id_.node) return;
    election_.on_heartbeat(m.beat, now);
    peers_[peer->number] = {m, now};
    // A rival that yields to us is about to stop answering for the VIP: announce it again now, not at the next
    // round, so that the router's entry moves before the rival turns standby (see act(), step_down).
    if (m.beat.yielded && election_.active()) act(election_.tick(now));
    publish();
}

// The scheduler keeps the role while we renew it: twice the time after which our peers give up on us.
uint32_t FailoverLoop::lease_ms() const { return 2 * config_.failover.dead_after_ms; }

// One line on stderr (journald) and the last few in the failover table.
void FailoverLoop::event(const std::string& text) {
    std::fprintf(stderr, "<5>dlbad[node %u]: %s\n", id_.node, text.c_str());
    events_.push_back(std::to_string(time_.unix_s()) + " " + text);
    if (events_.size() > kMaxEvents) events_.erase(events_.begin());
}

void FailoverLoop::act(const Decision& d) {
    if (d.action == ElectionAction::become_active) {
        local_active_ = link_.set_role_active(lease_ms()).ok();
        if (local_active_) ++takeovers_;
        link_.sync_from(std::nullopt);
        sync_source_.reset();
        event("became the active scheduler (term " + std::to_string(d.term) + ")" +
              (local_active_ ? "" : ", but the local scheduler did not confirm"));
    } else if (d.action == ElectionAction::reannounce) {
        link_.set_role_active(lease_ms());  // already active: sends a fresh burst of gratuitous ARPs
        event("another scheduler was active too: announced the VIP again (term " + std::to_string(d.term) + ")");
    } else if (d.action == ElectionAction::step_down) {
        // Tell the winner first (its announcement may have been overridden by ours), and keep forwarding a moment
        // while it announces the VIP again: turning standby first would leave the router pointing at a scheduler
        // that drops the VIP's traffic until the winner's next round.
        yield_rounds_ = kYieldHeartbeats;
        if (d.active && *d.active != id_.node) {
            send_heartbeat(false, local_dataplane_ok_);
            time_.sleep_ms(kYieldGraceMs);
        }
        link_.set_standby();
        local_active_ = false;
        event("stepped down to standby (active: " + (d.active ? std::to_string(*d.active) : std::string("none")) + ")");
    }
    if (d.active && *d.active != id_.node && sync_source_ != d.active) {
        if (link_.sync_from(d.active).answered()) {
            sync_source_ = d.active;
            event("table sync from node " + std::to_string(*d.active));
        }
    }
    set_local_active(local_active_);
}

void FailoverLoop::set_local_active(bool active) {
    local_active_ = active;
    if (on_role_) on_role_(active);
}

void FailoverLoop::refresh_local_role() {
    const CountersReading r = link_.counters(kRoleCheckTimeoutMs);
    if (!r.counters && r.nobody_listens) forget_sync_source();
    apply_local_counters(r.counters);
    publish();
}

// The local scheduler is gone: the one that comes back starts with an empty table and no sync source, so the next
// round must name the active to it again even if the active did not change (found by scripts/chaos: a standby
// scheduler restarted under a running dlbad stayed at table version 0).
void FailoverLoop::forget_sync_source() { sync_source_.reset(); }

// Whether the local scheduler's poll loop advanced since the last look.
void FailoverLoop::update_local_polling(int timeout_ms) {
    const CountersReading r = link_.counters(timeout_ms);
    if (!r.counters && r.nobody_listens) {
        forget_sync_source();
        // Nobody listens: the scheduler is gone. Say so at once (not a candidate, not active) instead of waiting for
        // the probe window or the next role check, so that the peers elect without delay.
        apply_local_counters(std::nullopt);
        return;
    }
    if (!r.counters) {
        local_polling_ = false;  // slow or unreadable: no patience, the usual window applies
        return;
    }
    note_polls(*r.counters);
}

// The data-plane poll counter: did it move since the last look?
void FailoverLoop::note_polls(const LocalCounters& c) {
    const uint64_t polls = c.polls.value_or(local_polls_);
    local_polling_ = polls != local_polls_;
    local_polls_ = polls;
}

// The local scheduler's role, table version and poll counter, or none when it did not answer.
void FailoverLoop::apply_local_counters(const std::optional<LocalCounters>& c) {
    if (!c) {
        // No scheduler: certainly not forwarding, and not a candidate either until it answers its probes again.
        local_dataplane_ok_ = false;
        local_polling_ = false;
        local_misses_ = std::max(local_misses_, config_.failover.probe_misses);
        election_.set_local_dataplane(false);
        election_.set_local_role(false, election_.term());
        set_local_active(false);
        return;
    }
    local_version_ = c->table_version;
    note_polls(*c);
    if (c->active != election_.active()) election_.set_local_role(c->active, election_.term());  // changed by hand
    set_local_active(c->active);
}

void FailoverLoop::publish() {
    std::lock_guard<std::mutex> lock(published_mutex_);
    published_.node = id_.node;
    published_.config_id = id_.config_id;
    published_.active = election_.active();
    published_.term = election_.term();
    published_.known_active = election_.known_active();
    published_.sync_from = sync_source_;
    published_.local_dataplane_ok = local_dataplane_ok_;
    published_.local_version = local_version_;
    published_.vip_arp = vip_arp_macs_;
    published_.events = events_;
    published_.peers = peers_;
    published_.unverified = unverified_;
    published_.isolated = isolated_;
    published_.takeovers = takeovers_;
    published_.own_load = own_load();
    published_.steered = steered_;
    published_.heartbeats_refused = net_.heartbeats_refused();
}

FailoverSnapshot FailoverLoop::snapshot() const {
    std::lock_guard<std::mutex> lock(published_mutex_);
    return published_;
}

}  // namespace dlba::dlbad
