#include "node_daemon.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstring>

#include "clock.hpp"
#include "push_protocol.hpp"
#include "io/sockaddr.hpp"
#include "io/tcp.hpp"
#include "io/words.hpp"

namespace dlba::dlbad {

namespace {

constexpr size_t kMaxEvents = 20;
constexpr uint32_t kOwnProbePatience = 5;   // own-probe window, in peer windows, while the local poll loop runs
constexpr int kPollCheckTimeoutMs = 200;   // reading the local poll counter after a missed own probe
constexpr uint64_t kLogRepeatMs = 10000;    // the same scheduler request failure is logged once per this
constexpr uint64_t kVipArpRoundMs = 1000;  // one ARP request for the VIP from eth0 this often
constexpr int kYieldGraceMs = 30;           // a stepping-down active keeps forwarding this long after yielding

std::vector<ElectionMember> members_of(const ArrayConfig& c) {
    std::vector<ElectionMember> m;
    for (const NodeConfig& n : c.nodes) m.push_back({n.number, n.priority, n.enabled});
    return m;
}

ElectionTiming timing_of(const FailoverConfig& f) { return {f.heartbeat_interval_ms, f.dead_after_ms, f.probe_misses}; }

std::optional<io::Table> parse_table(const std::string& text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    std::string err;
    return doc.is_discarded() ? std::nullopt : io::Table::from_json(doc, &err);
}

// A cell by column name, or null.
nlohmann::json cell(const io::Table& t, const std::vector<nlohmann::json>& row, const char* name) {
    for (size_t i = 0; i < t.columns.size() && i < row.size(); ++i) {
        if (t.columns[i].name == name) return row[i];
    }
    return nullptr;
}

bool reply_ok(const std::optional<std::string>& answer) {
    if (!answer) return false;
    const auto doc = nlohmann::json::parse(*answer, nullptr, false);
    return !doc.is_discarded() && doc.value("ok", false);
}

std::string reply_text(const std::optional<std::string>& answer) {
    if (!answer) return "no answer";
    const auto doc = nlohmann::json::parse(*answer, nullptr, false);
    if (doc.is_discarded()) return "unreadable answer";
    if (doc.value("ok", false)) return "";
    return doc.value("error", std::string("refused"));
}

}  // namespace

NodeDaemon::NodeDaemon(const Config& config, DaemonOptions options)
    : config_(config), opt_(std::move(options)), self_(config.node(opt_.node)),
      election_(opt_.node, members_of(config), timing_of(config.failover)), monitor_(opt_.monitor_socket) {
    local_misses_ = config.failover.probe_misses;  // unknown until the first probe answers
    if (opt_.initial_term) election_.set_local_role(false, opt_.initial_term);
}

NodeDaemon::~NodeDaemon() {
    if (sweep_thread_.joinable()) sweep_thread_.join();
    if (config_thread_.joinable()) config_thread_.join();
}

bool NodeDaemon::start(std::string* err) {
    if (!self_) {
        *err = "node " + std::to_string(opt_.node) + " is not in the configuration";
        return false;
    }
    const FailoverConfig& f = config_.failover;
    hb_fd_ = io::udp_socket(self_->eth0_ip, f.heartbeat_port, err);
    if (!hb_fd_) return false;
    // The status daemon. With a DLBA server the server answers the sweep itself (the witness that the node can
    // serve is the process that serves); this daemon answers only for the prototype (plain web servers).
    if (!config_.server) {
        status_fd_ = io::tcp_listener(self_->eth0_ip, f.status_port, err);
        if (!status_fd_) return false;
    }
    config_fd_ = io::tcp_listener(self_->eth0_ip, f.config_port, err);
    if (!config_fd_) return false;
    if (!prober_.open(err)) return false;
    if (!vip_arp_.open(self_->eth0_ip, config_.vip, err)) return false;
    if (!monitor_.start(err)) return false;
    refresh_local_role();
    return true;
}

void NodeDaemon::run(const std::atomic<bool>& outer_stop) {
    // Stop on the caller's request, or to restart on a freshly pushed configuration.
    std::atomic<bool> stop{false};
    const auto stopping = [&] {
        if (outer_stop.load(std::memory_order_relaxed) || restart_.load(std::memory_order_relaxed)) stop.store(true);
        return stop.load(std::memory_order_relaxed);
    };
    sweep_thread_ = std::thread([this, &stop] { sweep_loop(stop); });
    config_thread_ = std::thread([this, &stop] { config_loop(stop); });
    const uint32_t interval = config_.failover.heartbeat_interval_ms;
    uint64_t next_round = clock::monotonic_ms();
    uint64_t next_role_check = next_round;
    while (!stopping()) {
        pollfd fds[5] = {{hb_fd_.get(), POLLIN, 0}, {prober_.fd(), POLLIN, 0}, {status_fd_.get(), POLLIN, 0},
                         {monitor_.fd(), POLLIN, 0}, {vip_arp_.fd(), POLLIN, 0}};
        const uint64_t now0 = clock::monotonic_ms();
        const int wait = next_round > now0 ? static_cast<int>(std::min<uint64_t>(next_round - now0, interval)) : 0;
        if (poll(fds, 5, wait) > 0) {
            if (fds[4].revents & POLLIN) vip_arp_.receive();
            if (fds[0].revents & POLLIN) receive_heartbeats(clock::monotonic_ms());
            if (fds[1].revents & POLLIN) prober_.receive();
            if (fds[2].revents & POLLIN) serve_status_request();
            if (fds[3].revents & POLLIN) monitor_.poll_once(0, [this](std::string_view r) { return handle_monitor(r); });
        }
        const uint64_t now = clock::monotonic_ms();
        if (now >= next_role_check) {
            refresh_local_role();
            next_role_check = now + 500;
        }
        if (now >= next_round) {
            heartbeat_round(now);
            next_round = now + interval;
        }
    }
    // Hand over before waiting for the sweep and config threads: a sweep in progress may take its timeouts.
    if (!restart_.load()) hand_over();
    if (sweep_thread_.joinable()) sweep_thread_.join();
    if (config_thread_.joinable()) config_thread_.join();
}

// A graceful stop of the active scheduler's daemon hands the VIP over at once instead of waiting for the
// failure detector: the scheduler turns standby and the peers see a heartbeat without the active flag.
void NodeDaemon::hand_over() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!election_.active()) return;
    scheduler_request("role standby");
    election_.set_local_role(false, election_.term());
    local_active_ = false;
    send_heartbeat(false, false);  // "not a candidate" either: we are leaving
    std::fprintf(stderr, "dlbad[node %u]: stopping: handed the VIP over\n", opt_.node);
}

void NodeDaemon::heartbeat_round(uint64_t now) {
    std::lock_guard<std::mutex> lock(mutex_);
    // 1. What the previous round's probes found.
    local_misses_ = prober_.answered(opt_.node) ? 0 : local_misses_ + 1;
    // Our own data plane is judged more patiently than a peer's while its poll loop is seen running: on a loaded
    // host the echo reply can come late although forwarding goes on, and an active that stepped down for that would
    // hand the VIP around for nothing. A wedged or dead scheduler stops polling, and then the usual window applies.
    // The poll counter is read again on every miss, not only every 500 ms: a killed scheduler must lose the
    // patience at once, or its node would stay the best-ranked "healthy" candidate and hold the takeover back.
    if (local_misses_ > 0) update_local_polling(kPollCheckTimeoutMs);
    const uint32_t own_window = config_.failover.probe_misses * (local_polling_ ? kOwnProbePatience : 1);
    local_dataplane_ok_ = local_misses_ < own_window;
    election_.set_local_dataplane(local_dataplane_ok_);
    const std::optional<uint16_t> active = election_.known_active();
    if (active && *active != opt_.node && prober_.probed(*active)) {
        election_.on_probe(*active, prober_.answered(*active), now);
    }
    // 2. Decide and act.
    act(election_.tick(now));
    // 3. Keep the active role's lease (a role set by hand has none: take it, we are the elected active).
    if (election_.active() && local_active_) {
        if (!reply_ok(scheduler_request("renew"))) scheduler_request(role_active_request());
    }
    // 4. Next probes: our own data plane, and the active scheduler's.
    std::map<uint16_t, uint32_t> targets{{opt_.node, self_->sched_ip}};
    if (const auto a = election_.known_active(); a && *a != opt_.node) {
        if (const NodeConfig* n = config_.node(*a)) targets[*a] = n->sched_ip;
    }
    prober_.send_round(targets);
    // 5. Heartbeats to every peer.
    send_heartbeat(election_.active(), local_dataplane_ok_);
    // 6. Now and then, who really answers for the VIP.
    if (now >= next_vip_arp_ms_) {
        check_vip_arp();
        next_vip_arp_ms_ = now + kVipArpRoundMs;
    }
}

// The ARP answer for the VIP against the heartbeat view. An active that is not alone on the wire announces the VIP
// again (the other claimant may be an orphan, whose dlbad died, that no heartbeat can reach: its periodic
// announcements would otherwise take the router back until its node is repaired). Disagreements are logged.
void NodeDaemon::check_vip_arp() {
    vip_arp_.next_round();  // the round that just ended becomes last_round()
    vip_arp_macs_ = vip_arp_.last_round();
    if (vip_arp_.rounds() < 2) return;  // nothing asked yet
    const auto describe = [&](const MacAddr& m) {
        const auto n = node_of_sched_mac(m);
        return m.str() + (n ? " (node " + std::to_string(*n) + ")" : std::string(" (not a scheduler of this array)"));
    };
    if (election_.active() && local_active_) {
        std::vector<MacAddr> others;
        for (const MacAddr& m : vip_arp_macs_) {
            if (!(m == self_->sched_mac)) others.push_back(m);
        }
        vip_arp_rival_rounds_ = others.empty() ? 0 : vip_arp_rival_rounds_ + 1;
        // Two rounds in a row: a split brain being resolved by heartbeats is over well within one.
        if (vip_arp_rival_rounds_ >= 2) {
            std::string who;
            for (const MacAddr& m : others) who += (who.empty() ? "" : ", ") + describe(m);
            scheduler_request(role_active_request());
            event("another MAC answers ARP for the VIP beside ours: " + who + "; announced the VIP again");
        }
        vip_arp_mismatch_rounds_ = 0;
        return;
    }
    vip_arp_rival_rounds_ = 0;
    const auto known = election_.known_active();
    const bool agrees = known && vip_arp_macs_.size() == 1 && node_of_sched_mac(vip_arp_macs_[0]) == known;
    vip_arp_mismatch_rounds_ = agrees || !known ? 0 : vip_arp_mismatch_rounds_ + 1;
    // Logged on the second disagreeing round, then every 30 rounds while it lasts.
    if (vip_arp_mismatch_rounds_ == 2 || (vip_arp_mismatch_rounds_ > 2 && vip_arp_mismatch_rounds_ % 30 == 0)) {
        std::string who;
        for (const MacAddr& m : vip_arp_macs_) who += (who.empty() ? "" : ", ") + describe(m);
        event("the VIP's ARP answer (" + (who.empty() ? std::string("nobody") : who) + ") is not the active node " +
              std::to_string(*known));
    }
}

void NodeDaemon::send_heartbeat(bool active, bool dataplane_ok) {
    hb::Message m;
    m.beat = {opt_.node, election_.term(), active, dataplane_ok, yield_rounds_ > 0};
    if (yield_rounds_ > 0) --yield_rounds_;
    m.table_version = local_version_;
    m.config_id = opt_.config_id;
    const auto bytes = hb::encode(m);
    for (const NodeConfig& n : config_.nodes) {
        if (n.number == opt_.node) continue;
        const sockaddr_in a = io::ipv4_sockaddr(n.eth0_ip, config_.failover.heartbeat_port);
        sendto(hb_fd_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    }
}

void NodeDaemon::receive_heartbeats(uint64_t now) {
    std::lock_guard<std::mutex> lock(mutex_);
    uint8_t buf[64];
    for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = recvfrom(hb_fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return;
        const auto m = hb::decode(buf, static_cast<size_t>(n));
        if (!m) continue;
        const NodeConfig* peer = config_.node(m->beat.node);
        // Only a configured node, from its own eth0 address, has a say.
        if (!peer || peer->eth0_ip != ntohl(from.sin_addr.s_addr) || peer->number == opt_.node) continue;
        election_.on_heartbeat(m->beat, now);
        PeerInfo& p = peers_[peer->number];
        p.last = *m;
        p.last_ms = now;
        p.seen = true;
        // A rival that yields to us is about to stop answering for the VIP: announce it again now, not at the next
        // round, so that the router's entry moves before the rival turns standby (see act(), step_down).
        if (m->beat.yielded && election_.active()) act(election_.tick(now));
    }
}

std::optional<uint16_t> NodeDaemon::node_of_sched_mac(const MacAddr& m) const {
    for (const NodeConfig& n : config_.nodes) {
        if (n.sched_mac == m) return n.number;
    }
    return std::nullopt;
}

// The scheduler keeps the role while we renew it: twice the time after which our peers give up on us.
std::string NodeDaemon::role_active_request() const {
    return "role active lease " + std::to_string(2 * config_.failover.dead_after_ms);
}

// One line on stderr (journald) and the last few in the failover table.
void NodeDaemon::event(const std::string& text) {
    std::fprintf(stderr, "dlbad[node %u]: %s\n", opt_.node, text.c_str());
    events_.push_back(std::to_string(clock::unix_s()) + " " + text);
    if (events_.size() > kMaxEvents) events_.erase(events_.begin());
}

void NodeDaemon::act(const Decision& d) {
    if (d.action == ElectionAction::become_active) {
        const auto r = scheduler_request(role_active_request());
        local_active_ = r && r->find("\"ok\":true") != std::string::npos;
        scheduler_request("sync-from none");
        sync_source_.reset();
        event("became the active scheduler (term " + std::to_string(d.term) + ")" +
              (local_active_ ? "" : ", but the local scheduler did not confirm"));
    } else if (d.action == ElectionAction::reannounce) {
        scheduler_request(role_active_request());  // already active: sends a fresh burst of gratuitous ARPs
        event("another scheduler was active too: announced the VIP again (term " + std::to_string(d.term) + ")");
    } else if (d.action == ElectionAction::step_down) {
        // Tell the winner first (its announcement may have been overridden by ours), and keep forwarding a moment
        // while it announces the VIP again: turning standby first would leave the router pointing at a scheduler
        // that drops the VIP's traffic until the winner's next round.
        yield_rounds_ = 5;
        if (d.active && *d.active != opt_.node) {
            send_heartbeat(false, local_dataplane_ok_);
            std::this_thread::sleep_for(std::chrono::milliseconds(kYieldGraceMs));
        }
        scheduler_request("role standby");
        local_active_ = false;
        event("stepped down to standby (active: " + (d.active ? std::to_string(*d.active) : std::string("none")) + ")");
    }
    if (d.active && *d.active != opt_.node && sync_source_ != d.active) {
        if (scheduler_request("sync-from " + std::to_string(*d.active))) {
            sync_source_ = d.active;
            event("table sync from node " + std::to_string(*d.active));
        }
    }
    sweeping_active_.store(local_active_, std::memory_order_relaxed);
}

std::optional<std::string> NodeDaemon::scheduler_request(const std::string& line) {
    std::string err;
    auto r = io::request(opt_.scheduler_socket, line, 1000, &err);
    if (r) return r;
    // While the local scheduler is down the same request fails every round: one line per kLogRepeatMs.
    const std::string verb = line.substr(0, line.find(' '));
    std::lock_guard<std::mutex> lock(log_mutex_);
    LogLimit& l = log_limits_[verb + ": " + err];
    const uint64_t now = clock::monotonic_ms();
    if (l.last_ms != 0 && now - l.last_ms < kLogRepeatMs) {
        ++l.suppressed;
        return r;
    }
    if (l.suppressed > 0) {
        std::fprintf(stderr, "dlbad[node %u]: scheduler: %s: %s (%llu more since the last report)\n", opt_.node,
                     line.c_str(), err.c_str(), static_cast<unsigned long long>(l.suppressed));
    } else {
        std::fprintf(stderr, "dlbad[node %u]: scheduler: %s: %s\n", opt_.node, line.c_str(), err.c_str());
    }
    l.last_ms = now;
    l.suppressed = 0;
    return r;
}

void NodeDaemon::refresh_local_role() {
    std::string err;
    // The counters table carries the role and the table version in its meta, and the poll loop's counter.
    const auto r = io::request(opt_.scheduler_socket, "counters", 500, &err);
    std::lock_guard<std::mutex> lock(mutex_);
    apply_local_counters(r ? parse_table(*r) : std::nullopt);
}

// Whether the local scheduler's poll loop advanced since the last look (caller holds mutex_).
void NodeDaemon::update_local_polling(int timeout_ms) {
    std::string err;
    int connect_errno = 0;
    const auto r = io::request(opt_.scheduler_socket, "counters", timeout_ms, &err, &connect_errno);
    if (!r && (connect_errno == ECONNREFUSED || connect_errno == ENOENT)) {
        // Nobody listens: the scheduler is gone. Say so at once (not a candidate, not active) instead of waiting for
        // the probe window or the next role check, so that the peers elect without delay.
        apply_local_counters(std::nullopt);
        return;
    }
    const auto t = r ? parse_table(*r) : std::nullopt;
    if (!t) {
        local_polling_ = false;  // slow or unreadable: no patience, the usual window applies
        return;
    }
    note_polls(*t);
}

// The data-plane poll counter in the local scheduler's counters table: did it move since the last look?
void NodeDaemon::note_polls(const io::Table& t) {
    uint64_t polls = local_polls_;
    for (const auto& row : t.rows) {
        if (row.size() == 2 && row[0] == "polls" && row[1].is_number_unsigned()) polls = row[1].get<uint64_t>();
    }
    local_polling_ = polls != local_polls_;
    local_polls_ = polls;
}

// The local scheduler's role, table version and poll counter, from its counters table (caller holds mutex_).
void NodeDaemon::apply_local_counters(const std::optional<io::Table>& t) {
    if (!t) {
        // No scheduler: certainly not forwarding, and not a candidate either until it answers its probes again.
        local_active_ = false;
        local_dataplane_ok_ = false;
        local_polling_ = false;
        local_misses_ = std::max(local_misses_, config_.failover.probe_misses);
        election_.set_local_dataplane(false);
        election_.set_local_role(false, election_.term());
        sweeping_active_.store(false, std::memory_order_relaxed);
        return;
    }
    local_version_ = t->version;
    note_polls(*t);
    const bool active = t->meta.value("role", std::string()) == "active";
    if (active != election_.active()) election_.set_local_role(active, election_.term());  // changed by hand
    local_active_ = active;
    sweeping_active_.store(active, std::memory_order_relaxed);
}

// ---- status daemon ------------------------------------------------------------------------------------------

void NodeDaemon::serve_status_request() {
    io::Fd client(accept4(status_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) return;
    const std::string answer = local_status_answer();
    // An unhealthy node closes without answering: to the sweep that is the same as a dead one.
    if (!answer.empty()) io::write_all(client.get(), answer, io::deadline_in(1000));
}

std::string NodeDaemon::local_status_answer() {
    io::Table t;
    t.name = "node-status";
    t.source = "dlbad";
    t.meta = {{"node", opt_.node}, {"time", clock::unix_s()}};
    // The prototype: plain web servers on the VIP. Healthy when something accepts on the VIP's first port.
    const uint16_t port = config_.tcp_ports.empty() ? 80 : config_.tcp_ports.front();
    if (!io::tcp_probe(config_.vip, port, 300)) return "";
    t.meta["server"] = "prototype";
    t.meta["healthy"] = true;
    return t.to_json().dump();
}

// ---- status sweep -------------------------------------------------------------------------------------------

void NodeDaemon::sweep_loop(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_relaxed)) {
        if (!sweeping_active_.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        sweep_once();
        for (uint32_t waited = 0; waited < config_.failover.sweep_delay_ms && !stop.load(); waited += 50) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

void NodeDaemon::sweep_once() {
    const FailoverConfig& f = config_.failover;
    // What the scheduler holds now decides whether a verdict needs a command (this daemon may have restarted,
    // or an operator may have changed a flag by hand).
    std::map<uint16_t, bool> failed_now;
    if (const auto st = scheduler_request("status")) {
        if (const auto t = parse_table(*st)) {
            for (const auto& row : t->rows) {
                const auto node = cell(*t, row, "node");
                const auto failed = cell(*t, row, "failed");
                if (node.is_number() && failed.is_boolean()) failed_now[node.get<uint16_t>()] = failed.get<bool>();
            }
        }
    }
    for (const NodeConfig& n : config_.nodes) {
        if (!sweeping_active_.load(std::memory_order_relaxed)) return;  // stepped down mid-sweep
        SweepResult r;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            r = sweep_[n.number];
        }
        std::optional<io::Table> answer;
        uint32_t attempts = 0;
        std::string err;
        while (!answer && attempts <= f.sweep_retries) {
            if (attempts > 0) {
                // Space the attempts a timeout apart even when a refusal comes back at once, so the retries span
                // a daemon restart rather than failing a node in a few milliseconds.
                std::this_thread::sleep_for(std::chrono::milliseconds(f.sweep_timeout_ms));
            }
            ++attempts;
            const auto text = io::tcp_fetch(n.eth0_ip, f.status_port, static_cast<int>(f.sweep_timeout_ms), 1 << 20, &err);
            if (text && text->empty()) {
                err = "closed without an answer (the node reports itself unable to serve)";
            } else if (text) {
                answer = parse_table(*text);
                if (!answer) err = "malformed answer";
            }
        }
        r.attempts = attempts;
        if (answer) {
            r.answered = true;
            r.last_answer_unix = clock::unix_s();
            r.figures = answer->to_json();
            r.last_error.clear();
            if (failed_now[n.number] && scheduler_request("node " + std::to_string(n.number) + " live")) {
                std::fprintf(stderr, "dlbad[node %u]: node %u answers the sweep again: live\n", opt_.node, n.number);
            }
            r.failed_by_sweep = false;
            // The server status table's dynamic columns: hits, open connections, average response time.
            uint64_t hits = 0, open = 0;
            double weighted = 0;
            for (const auto& row : answer->rows) {
                const auto h = cell(*answer, row, "hits");
                const auto o = cell(*answer, row, "open_conns");
                const auto a = cell(*answer, row, "avg_resp_ms");
                if (h.is_number()) hits += h.get<uint64_t>();
                if (o.is_number()) open += o.get<uint64_t>();
                if (a.is_number() && h.is_number()) weighted += a.get<double>() * h.get<double>();
            }
            if (answer->meta.contains("connections_open") && answer->meta["connections_open"].is_number()) {
                open = answer->meta["connections_open"].get<uint64_t>();
            }
            char line[160];
            if (answer->rows.empty()) {
                std::snprintf(line, sizeof line, "node %u stats - - -", n.number);
            } else {
                std::snprintf(line, sizeof line, "node %u stats %llu %llu %.3f", n.number,
                              static_cast<unsigned long long>(hits), static_cast<unsigned long long>(open),
                              hits ? weighted / static_cast<double>(hits) : 0.0);
            }
            scheduler_request(line);
        } else {
            r.answered = false;
            r.last_error = err;
            r.figures = nullptr;
            if (!failed_now[n.number] && scheduler_request("node " + std::to_string(n.number) + " fail")) {
                std::fprintf(stderr, "dlbad[node %u]: node %u did not answer the sweep (%s): marked failed\n",
                             opt_.node, n.number, err.c_str());
            }
            r.failed_by_sweep = true;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        sweep_[n.number] = r;
    }
    const uint64_t t = clock::unix_s();
    scheduler_request("sweep-done " + std::to_string(t));
    std::lock_guard<std::mutex> lock(mutex_);
    last_sweep_unix_ = t;
    ++sweeps_;
}

// ---- monitoring ---------------------------------------------------------------------------------------------

std::string NodeDaemon::handle_monitor(std::string_view request) {
    if (request == "failover" || request == "status") return failover_table().to_json().dump();
    if (request == "sweep") return sweep_table().to_json().dump();
    if (request == "summary") return summary_table().to_json().dump();
    return io::reply_error("unknown request (failover | sweep | summary)");
}

io::Table NodeDaemon::failover_table() {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t now = clock::monotonic_ms();
    io::Table t;
    t.name = "failover";
    t.source = "dlbad";
    t.version = election_.term();
    const auto active = election_.known_active();
    nlohmann::json vip_arp = nlohmann::json::array();  // who answered ARP for the VIP in the last round
    for (const MacAddr& m : vip_arp_macs_) {
        const auto n = node_of_sched_mac(m);
        vip_arp.push_back({{"mac", m.str()}, {"node", n ? nlohmann::json(*n) : nlohmann::json(nullptr)}});
    }
    t.meta = {{"node", opt_.node},
              {"role", election_.active() ? "active" : "standby"},
              {"term", election_.term()},
              {"active", active ? nlohmann::json(*active) : nlohmann::json(nullptr)},
              {"sync_from", sync_source_ ? nlohmann::json(*sync_source_) : nlohmann::json(nullptr)},
              {"local_dataplane_ok", local_dataplane_ok_},
              {"vip_arp", vip_arp},
              {"events", events_}};
    using io::ColumnType;
    t.columns = {{"node", ColumnType::unsigned_integer}, {"priority", ColumnType::unsigned_integer},
                 {"heard_ms_ago", ColumnType::unsigned_integer}, {"alive", ColumnType::boolean},
                 {"active", ColumnType::boolean}, {"term", ColumnType::unsigned_integer},
                 {"dataplane_ok", ColumnType::boolean}, {"table_version", ColumnType::unsigned_integer},
                 {"same_config", ColumnType::boolean}};
    for (const NodeConfig& n : config_.nodes) {
        if (n.number == opt_.node) {
            t.rows.push_back({n.number, n.priority, 0, true, election_.active(), election_.term(), local_dataplane_ok_,
                              local_version_, true});
            continue;
        }
        const auto it = peers_.find(n.number);
        if (it == peers_.end() || !it->second.seen) {
            t.rows.push_back({n.number, n.priority, nullptr, false, nullptr, nullptr, nullptr, nullptr, nullptr});
            continue;
        }
        const PeerInfo& p = it->second;
        const uint64_t ago = now - p.last_ms;
        t.rows.push_back({n.number, n.priority, ago, ago <= config_.failover.dead_after_ms, p.last.beat.active,
                          p.last.beat.term, p.last.beat.dataplane_ok, p.last.table_version,
                          p.last.config_id == opt_.config_id});
    }
    return t;
}

io::Table NodeDaemon::sweep_table() {
    std::lock_guard<std::mutex> lock(mutex_);
    io::Table t;
    t.name = "sweep";
    t.source = "dlbad";
    t.version = sweeps_;
    t.meta = {{"node", opt_.node},
              {"sweeping", sweeping_active_.load()},
              {"last_sweep", last_sweep_unix_ ? nlohmann::json(last_sweep_unix_) : nlohmann::json(nullptr)},
              {"sweeps", sweeps_}};
    using io::ColumnType;
    t.columns = {{"node", ColumnType::unsigned_integer}, {"answered", ColumnType::boolean},
                 {"attempts", ColumnType::unsigned_integer}, {"failed_by_sweep", ColumnType::boolean},
                 {"last_answer", ColumnType::time}, {"server", ColumnType::string},
                 {"last_error", ColumnType::string}};
    for (const NodeConfig& n : config_.nodes) {
        const auto it = sweep_.find(n.number);
        if (it == sweep_.end()) {
            t.rows.push_back({n.number, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
            continue;
        }
        const SweepResult& r = it->second;
        nlohmann::json server = nullptr;
        if (r.figures.is_object() && r.figures.contains("meta")) server = r.figures["meta"].value("server", "");
        t.rows.push_back({n.number, r.answered, r.attempts, r.failed_by_sweep, r.last_answer_unix, server,
                          r.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.last_error)});
    }
    return t;
}

io::Table NodeDaemon::summary_table() {
    std::lock_guard<std::mutex> lock(mutex_);
    struct Sum {
        std::string address;
        uint64_t hits = 0, open = 0;
        nlohmann::json cookie_groups = nullptr;
    };
    std::map<std::string, Sum> sums;
    for (const auto& [node, r] : sweep_) {
        if (!r.answered || !r.figures.is_object()) continue;
        std::string err;
        const auto t = io::Table::from_json(r.figures, &err);
        if (!t) continue;
        for (const auto& row : t->rows) {
            const auto key = cell(*t, row, "key");
            if (!key.is_string()) continue;
            Sum& s = sums[key.get<std::string>()];
            const auto addr = cell(*t, row, "address");
            if (addr.is_string()) s.address = addr.get<std::string>();
            const auto h = cell(*t, row, "hits");
            const auto o = cell(*t, row, "open_conns");
            const auto c = cell(*t, row, "cookie_groups");
            if (h.is_number()) s.hits += h.get<uint64_t>();
            if (o.is_number()) s.open += o.get<uint64_t>();
            if (c.is_number()) s.cookie_groups = (s.cookie_groups.is_number() ? s.cookie_groups.get<uint64_t>() : 0) + c.get<uint64_t>();
        }
    }
    io::Table t;
    t.name = "summary";
    t.source = "dlbad";
    t.version = sweeps_;
    t.meta = {{"node", opt_.node},
              {"last_sweep", last_sweep_unix_ ? nlohmann::json(last_sweep_unix_) : nlohmann::json(nullptr)}};
    using io::ColumnType;
    t.columns = {{"backend", ColumnType::string}, {"address", ColumnType::ipv4},
                 {"cookie_groups", ColumnType::unsigned_integer}, {"total_hits", ColumnType::unsigned_integer},
                 {"total_open_conns", ColumnType::unsigned_integer}};
    for (const auto& [key, s] : sums) {
        t.rows.push_back({key, s.address.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.address),
                          s.cookie_groups, s.hits, s.open});
    }
    return t;
}

}  // namespace dlba::dlbad

// ---- configuration push -------------------------------------------------------------------------------------

namespace dlba::dlbad {

namespace {

// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part: temp, fsync, rename.
bool write_atomically(const std::string& path, const std::string& bytes, std::string* err) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        *err = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                    fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        *err = "cannot write " + path + ": " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}


}  // namespace

void NodeDaemon::config_loop(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd p{config_fd_.get(), POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        io::Fd client(accept4(config_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) continue;
        const std::string answer = config_request(client.get());
        io::write_all(client.get(), answer, io::deadline_in(2000));
    }
}

std::string NodeDaemon::config_request(int fd) {
    const auto deadline = io::deadline_in(10000);
    std::string line;
    if (!io::read_line(fd, line, 200, deadline)) return "ERR no request line\n";
    const std::string staged = opt_.config_path + ".staged";
    char verb[16] = {0}, id[32] = {0};
    unsigned long long length = 0;
    const int fields = std::sscanf(line.c_str(), "%15s %31s %llu", verb, id, &length);
    if (fields >= 1) verb[sizeof verb - 1] = '\0';
    const std::string v = fields >= 1 ? verb : "";
    if (v == "PREPARE" && fields == 3) {
        if (length > push::kMaxConfigBytes) return "ERR file too large\n";
        std::string bytes(length, '\0');
        if (!io::read_exact(fd, bytes.data(), length, deadline)) return "ERR short body\n";
        if (push::config_id(bytes) != id) return "ERR body does not match its id\n";
        std::string err;
        if (!write_atomically(staged, bytes, &err)) return "ERR " + err + "\n";
        // The same checks as a reload: the file itself, then what the running scheduler can take.
        const ConfigResult parsed = load_config(staged);
        if (const auto* e = std::get_if<ConfigError>(&parsed)) {
            std::remove(staged.c_str());
            return "ERR " + e->str() + "\n";
        }
        const Config& next = std::get<Config>(parsed);
        const NodeConfig* me = next.node(opt_.node);
        std::string why, note;
        if (!me) {
            why = "node " + std::to_string(opt_.node) + " is not in the new file";
        } else if (me->eth0_ip != self_->eth0_ip) {
            why = "this node's eth0_ip cannot change by a push";
        } else if (const std::string s = reply_text(scheduler_request("check-reload " + staged)); !s.empty()) {
            why = "scheduler: " + s;
        } else if (next.server && !opt_.server_socket.empty()) {
            // The server checks what only it can: its TLS files, its new listeners' addresses. A server that is not
            // running refuses nothing (it reads the file when it starts); the answer says so.
            const auto r = io::request(opt_.server_socket, "check-reload " + staged, 5000, &err);
            if (!r) {
                note = " (server not checked: " + err + ")";
            } else if (const std::string refused = reply_text(r); !refused.empty()) {
                why = "server: " + refused;
            }
        }
        if (!why.empty()) {
            std::remove(staged.c_str());
            return "ERR " + why + "\n";
        }
        pending_id_ = id;
        return "OK prepared " + std::string(id) + " on node " + std::to_string(opt_.node) + note + "\n";
    }
    if (v == "COMMIT" && fields == 2) {
        if (pending_id_ != id) return "ERR nothing prepared under " + std::string(id) + "\n";
        if (std::rename(staged.c_str(), opt_.config_path.c_str()) != 0) {
            return "ERR cannot replace " + opt_.config_path + ": " + std::strerror(errno) + "\n";
        }
        pending_id_.clear();
        std::string result = "OK node " + std::to_string(opt_.node) + " committed " + id;
        if (const std::string s = reply_text(scheduler_request("reload")); !s.empty()) {
            result += "; scheduler reload: " + s;
        }
        if (config_.server && !opt_.server_socket.empty()) {
            std::string err;
            const auto r = io::request(opt_.server_socket, "reload", 2000, &err);
            const std::string s = reply_text(r);
            if (!s.empty()) result += "; server reload: " + (r ? s : err);
        }
        restart_.store(true);  // the daemon itself restarts on the new file once this answer is out
        return result + "\n";
    }
    if (v == "SHOW") {
        // Read-only tables for `dlbactl --node N`: this daemon's own, or the local scheduler's and server's.
        const std::string what = line.substr(5);
        if (what == "failover" || what == "sweep" || what == "summary") return handle_monitor(what) + "\n";
        std::string err;
        if (what == "status" || what == "hash" || what == "counters" || what == "sync" ||
            what.rfind("hash all", 0) == 0) {
            const auto r = io::request(opt_.scheduler_socket, what, 5000, &err);
            return (r ? *r : io::reply_error("scheduler: " + err)) + "\n";
        }
        if (what == "backends" && !opt_.server_socket.empty()) {
            const auto r = io::request(opt_.server_socket, what, 5000, &err);
            return (r ? *r : io::reply_error("server: " + err)) + "\n";
        }
        return io::reply_error("not a read-only table: " + what) + "\n";
    }
    if (v == "ADMIN") {
        // dlbactl --all-nodes: the operator's admin state, passed to the local scheduler or DLBA server. Only the
        // admin commands: the sweep's verdicts (fail/live) and the role stay with the daemons.
        const std::string what = line.size() > 6 ? line.substr(6) : "";
        const auto w = io::split_words(what);
        std::string err;
        std::optional<std::string> r;
        if (w.size() >= 3 && w[0] == "node" &&
            (w[2] == "enable" || w[2] == "disable" || w[2] == "drain" || w[2] == "weight")) {
            r = io::request(opt_.scheduler_socket, what, 5000, &err);
            if (!r) return io::reply_error("scheduler: " + err) + "\n";
        } else if (w.size() == 3 && w[0] == "backend") {
            if (!config_.server || opt_.server_socket.empty()) return io::reply_error("no DLBA server here") + "\n";
            r = io::request(opt_.server_socket, what, 5000, &err);
            if (!r) return io::reply_error("server: " + err) + "\n";
        } else {
            return io::reply_error("not an admin command: " + what) + "\n";
        }
        std::fprintf(stderr, "dlbad[node %u]: admin request '%s': %s\n", opt_.node, what.c_str(),
                     reply_text(r).empty() ? "applied" : reply_text(r).c_str());
        return *r + "\n";
    }
    if (v == "ABORT" && fields == 2) {
        if (pending_id_ == id) {
            std::remove(staged.c_str());
            pending_id_.clear();
        }
        return "OK aborted\n";
    }
    return "ERR bad request\n";
}

}  // namespace dlba::dlbad
