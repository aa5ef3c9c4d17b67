#include "control_plane.hpp"

#include <optional>
#include <random>
#include <variant>

#include "clock.hpp"
#include "config/peer_settings.hpp"
#include "control/direct_ip_status.hpp"

namespace dlba::sched {

namespace {

using io::ColumnType;
using proto::Verb;

constexpr uint32_t kMaxWeight = 1000000;

// The error reply for a command the data plane did not apply; nullopt when it did.
std::optional<std::string> not_applied(CommandOutcome outcome) {
    if (outcome == CommandOutcome::applied) return std::nullopt;
    return io::reply_error(outcome_text(outcome));
}

}  // namespace

ControlPlane::ControlPlane(const ArrayConfig& config, uint16_t self, const MacAddr& port_mac, const BucketTable& table,
                           const CounterArray& counters, CommandQueue& commands, const std::atomic<bool>& active,
                           TableSync& sync, MonotonicMs now_ms)
    : config_(config), self_(self), port_mac_(port_mac), table_(table), counters_(counters), commands_(commands),
      active_(active), sync_(sync), now_ms_(std::move(now_ms)) {
    for (const NodeConfig& n : config.nodes) {
        nodes_.push_back({n, n.enabled ? NodeAdmin::enabled : NodeAdmin::disabled, false, n.weight});
    }
}

NodeState* ControlPlane::find_node(uint16_t number) {
    for (NodeState& n : nodes_) {
        if (n.config.number == number) return &n;
    }
    return nullptr;
}

namespace {

uint64_t process_instance() {
    static const uint64_t id = [] {
        std::random_device rd;
        return (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }();
    return id;
}

}  // namespace

std::string ControlPlane::handle(std::string_view request) {
    const proto::Parsed parsed = proto::parse(request, proto::Daemon::scheduler);
    if (const auto* e = std::get_if<proto::ParseError>(&parsed)) return io::reply_error(e->message);
    const proto::Request& r = std::get<proto::Request>(parsed);
    switch (r.verb) {
        case Verb::status: return status_table().to_json().dump();
        case Verb::hash: return hash_table(false).to_json().dump();
        case Verb::hash_all: return hash_table(true).to_json().dump();
        case Verb::hash_page: return hash_table(true, r.from_bucket).to_json().dump();
        case Verb::counters: return counters_table().to_json().dump();
        case Verb::sync: return sync_.table().to_json().dump();
        case Verb::role: return set_role(r.active, 0);
        case Verb::role_active_lease: return set_role(true, r.lease_ms);
        case Verb::renew: return renew_lease();
        case Verb::reload: return reload();
        case Verb::check_reload: return check_reload(r.path);
        case Verb::sync_from: return sync_from(r.node);
        case Verb::sync_stop:
            sync_.set_source(0, 0);
            return io::reply_ok("table sync stopped");
        case Verb::sweep_done:
            last_sweep_unix_ = r.unix_time;
            return io::reply_ok("sweep recorded");
        case Verb::node_admin:
        case Verb::node_weight:
        case Verb::node_failed:
        case Verb::node_load:
        case Verb::node_stats: return node_request(r);
        default: break;  // not a scheduler verb: parse() does not give it
    }
    return io::reply_error("not a scheduler request: " + std::string(request));
}

namespace {

// What a running scheduler cannot take from a new configuration (a restart is needed), or "" if nothing.
std::string immutable_change(const ArrayConfig& a, const ArrayConfig& b, uint16_t self) {
    if (a.vip != b.vip) return "array.vip";
    if (a.tcp_ports != b.tcp_ports || a.udp_ports != b.udp_ports) return "array ports";
    const SchedulerConfig &x = a.scheduler, &y = b.scheduler;
    if (x.table_size != y.table_size) return "scheduler.table_size";
    if (x.hash != y.hash || x.hash_seed != y.hash_seed) return "scheduler.hash / hash_seed";
    if (x.control_socket != y.control_socket) return "scheduler.control_socket";
    if (x.fragment_table_size != y.fragment_table_size || x.fragment_timeout_ms != y.fragment_timeout_ms) {
        return "scheduler.fragments";
    }
    if (x.bucket_idle_timeout_s != y.bucket_idle_timeout_s) return "scheduler.bucket_idle_timeout";
    if (x.idle_poll.spin_polls != y.idle_poll.spin_polls || x.idle_poll.sleep_min_us != y.idle_poll.sleep_min_us ||
        x.idle_poll.sleep_max_us != y.idle_poll.sleep_max_us) {
        return "scheduler.idle_poll";
    }
    if (x.garp_count != y.garp_count || x.garp_interval_ms != y.garp_interval_ms ||
        x.garp_refresh_ms != y.garp_refresh_ms) {
        return "scheduler.gratuitous_arp";
    }
    if (a.failover.sync_port != b.failover.sync_port || a.failover.sync_interval_ms != b.failover.sync_interval_ms ||
        a.failover.journal_size != b.failover.journal_size) {
        return "failover sync settings";
    }
    const NodeConfig* s1 = a.node(self);
    const NodeConfig* s2 = b.node(self);
    if (!s2) return "this node (" + std::to_string(self) + ") is no longer in nodes";
    if (!(s1->sched_mac == s2->sched_mac) || s1->sched_ip != s2->sched_ip || s1->eth0_ip != s2->eth0_ip) {
        return "this node's own addresses";
    }
    return "";
}

}  // namespace

static bool direct_ip_changed(const std::vector<NodeConfig>& before, const std::vector<NodeConfig>& after) {
    const DirectIpList a = direct_ip_list(before);
    const DirectIpList b = direct_ip_list(after);
    return a.count != b.count || a.ip != b.ip || a.node != b.node;
}

std::string ControlPlane::check_reload(const std::string& path) const {
    ArrayConfigResult loaded = load_array_config(path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) return io::reply_error(e->str());
    if (const std::string what = immutable_change(config_, std::get<ArrayConfig>(loaded), self_); !what.empty()) {
        return io::reply_error(path + ": " + what + " cannot change while the scheduler runs (restart it)");
    }
    // A file without keys (and not explicitly insecure) is refused, unless the running one is no better.
    if (const std::string a = std::get<ArrayConfig>(loaded).failover.auth_problem();
        !a.empty() && config_.failover.auth_problem().empty()) {
        return io::reply_error(path + ": " + a);
    }
    return io::reply_ok("the scheduler can take " + path);
}

std::string ControlPlane::reload() {
    ArrayConfigResult loaded = load_array_config(config_.source);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        return io::reply_error("configuration refused, the running one stays: " + e->str());
    }
    ArrayConfig next = std::move(std::get<ArrayConfig>(loaded));
    if (const std::string what = immutable_change(config_, next, self_); !what.empty()) {
        return io::reply_error("configuration refused, the running one stays: " + config_.source + ": " + what +
                               " cannot change while the scheduler runs (restart it)");
    }
    // Nodes: removed ones lose their buckets; new ones join; changed MAC, weight or enabled flag take effect.
    std::vector<std::string> changes;
    for (const NodeState& old : nodes_) {
        if (!next.node(old.config.number)) {
            if (auto e = not_applied(run_command(commands_, CommandKind::remove_node, old.config.number, 0))) return *e;
            changes.push_back("removed node " + std::to_string(old.config.number));
        }
    }
    std::vector<NodeState> nodes;
    for (const NodeConfig& n : next.nodes) {
        const NodeConfig* before = config_.node(n.number);
        NodeState st{n, n.enabled ? NodeAdmin::enabled : NodeAdmin::disabled, false, n.weight};
        if (before) {
            const NodeState& cur = *find_node(n.number);
            st = cur;
            st.config = n;
            if (before->enabled != n.enabled) st.admin = n.enabled ? NodeAdmin::enabled : NodeAdmin::disabled;
            if (before->weight != n.weight) st.weight = n.weight;
            if (before->enabled == n.enabled && before->weight == n.weight && before->eth0_mac == n.eth0_mac) {
                nodes.push_back(st);
                continue;
            }
        }
        NodeUpdate u{n.eth0_mac, st.weight, static_cast<uint8_t>(st.admin)};
        if (auto e = not_applied(run_command(commands_, CommandKind::set_node, n.number, 0, &u))) return *e;
        changes.push_back((before ? "changed node " : "added node ") + std::to_string(n.number));
        nodes.push_back(st);
    }
    if (direct_ip_changed(config_.nodes, next.nodes)) {
        // Leaked if the data plane does not take it in time: it may still read it later (run_command).
        auto* list = new DirectIpList(direct_ip_list(next.nodes));
        const CommandOutcome o = run_command(commands_, CommandKind::set_direct_ips, 0, 0, list);
        if (o != CommandOutcome::timed_out) delete list;
        if (auto e = not_applied(o)) return *e;
        changes.push_back("direct IPs changed");
    }
    nodes_ = std::move(nodes);
    config_ = std::move(next);
    sync_.update_peers(peer_guard_settings(config_));  // rotated keys, changed nodes: the table sync follows
    std::string summary = "configuration reloaded";
    for (size_t i = 0; i < changes.size(); ++i) summary += (i ? ", " : ": ") + changes[i];
    if (changes.empty()) summary += ": no change for the scheduler";
    return io::reply_ok(summary);
}

std::string ControlPlane::sync_from(uint16_t number) {
    // The failover daemon names the active scheduler's node; its eth0 IP and the sync port come from the config.
    const NodeConfig* n = config_.node(number);
    if (!n) return io::reply_error("no node " + std::to_string(number) + " in the configuration");
    if (number == self_) return io::reply_error("a scheduler does not sync from itself");
    sync_.set_source(n->eth0_ip, config_.failover.sync_port);
    return io::reply_ok("syncing from node " + std::to_string(number) + " (" + format_ipv4(n->eth0_ip) + ":" +
                        std::to_string(config_.failover.sync_port) + ")");
}

std::string ControlPlane::set_role(bool to_active, uint32_t lease) {
    if (auto e = not_applied(run_command(commands_, CommandKind::set_role, 0, to_active ? 1 : 0))) return *e;
    lease_ms_ = lease;
    lease_until_ms_ = lease ? now_ms_() + lease : 0;
    return io::reply_ok(std::string("role is now ") + (to_active ? "active" : "standby") +
                        (lease ? ", lease " + std::to_string(lease) + " ms" : std::string()));
}

std::string ControlPlane::renew_lease() {
    if (lease_ms_ == 0 || !active_.load(std::memory_order_relaxed)) return io::reply_error("no lease to renew");
    lease_until_ms_ = now_ms_() + lease_ms_;
    return io::reply_ok("lease renewed");
}

std::string ControlPlane::expire_lease() {
    if (lease_ms_ == 0 || now_ms_() < lease_until_ms_) return "";
    const uint32_t lease = lease_ms_;
    lease_ms_ = 0;
    if (!active_.load(std::memory_order_relaxed)) return "";
    if (const CommandOutcome o = run_command(commands_, CommandKind::set_role, 0, 0); o != CommandOutcome::applied) {
        return std::string("lease ran out, but turning standby failed: ") + outcome_text(o);
    }
    return "the active role's lease (" + std::to_string(lease) + " ms) was not renewed by dlbad: turned standby";
}

std::string ControlPlane::node_request(const proto::Request& r) {
    NodeState* node = find_node(r.node);
    if (!node) return io::reply_error("no node " + std::to_string(r.node) + " in the configuration");
    const std::string name = "node " + std::to_string(r.node);
    switch (r.verb) {
        case Verb::node_admin: {
            const auto admin = static_cast<uint32_t>(r.admin);
            if (auto e = not_applied(run_command(commands_, CommandKind::set_admin, r.node, admin))) return *e;
            node->admin = r.admin;
            return io::reply_ok(name + " is now " + node_admin_name(r.admin));
        }
        case Verb::node_failed: {
            if (auto e = not_applied(run_command(commands_, CommandKind::set_failed, r.node, r.failed ? 1 : 0))) {
                return *e;
            }
            node->failed = r.failed;
            return io::reply_ok(name + " is now " + (r.failed ? "failed" : "live"));
        }
        case Verb::node_weight: {
            if (r.weight > kMaxWeight) return io::reply_error("usage: node N weight W (0..1000000)");
            if (auto e = not_applied(run_command(commands_, CommandKind::set_weight, r.node, r.weight))) return *e;
            node->weight = r.weight;
            return io::reply_ok(name + " weight is now " + std::to_string(r.weight));
        }
        case Verb::node_load:
            // From the active's dlbad twice a second: the node's load and its steering verdict
            // (common/load_steering). Posted every time, so a table that lost the flag (reload) gets it back.
            if (auto e = not_applied(run_command(commands_, CommandKind::set_steered, r.node, r.steered ? 1 : 0))) {
                return *e;
            }
            node->steered = r.steered;
            node->load_pct = r.load_pct;
            return io::reply_ok(name + (r.steered ? " is steered away" : " takes buckets"));
        case Verb::node_stats:
            // From the status sweep: hits, open connections, average response time (unknown ones stay unknown).
            node->figures = r.figures;
            return io::reply_ok("figures recorded");
        default: break;
    }
    return io::reply_error("not a node request");
}

io::Table ControlPlane::status_table() const {
    io::Table t;
    t.name = "status";
    t.source = "scheduler";
    t.version = table_.version();
    t.meta = {
        {"node", self_},
        {"role", active_.load(std::memory_order_relaxed) ? "active" : "standby"},
        {"vip", format_ipv4(config_.vip)},
        {"scheduler_port_mac", port_mac_.str()},
        {"table_size", table_.size()},
        {"mirror", table_.mirror()},
        // The status sweep (dlbad) fills the dynamic columns; until then they are unknown.
        {"last_sweep", last_sweep_unix_ ? nlohmann::json(last_sweep_unix_) : nlohmann::json(nullptr)},
        // The active role's lease from dlbad (null: none, e.g. set by hand).
        {"lease_ms", lease_ms_ ? nlohmann::json(lease_ms_) : nlohmann::json(nullptr)},
        // This process, told apart from the one before it: dlbad replays the operator's node admin state to a new one.
        {"instance", process_instance()},
    };
    t.columns = {
        {"node", ColumnType::unsigned_integer}, {"eth0_mac", ColumnType::mac},
        {"eth0_ip", ColumnType::ipv4},          {"sched_ip", ColumnType::ipv4},
        {"state", ColumnType::string},          {"weight", ColumnType::unsigned_integer},
        {"failed", ColumnType::boolean},        {"buckets", ColumnType::unsigned_integer},
        {"share_pct", ColumnType::floating},    {"packets", ColumnType::unsigned_integer},
        {"bytes", ColumnType::unsigned_integer}, {"hits", ColumnType::unsigned_integer},
        {"open_conns", ColumnType::unsigned_integer}, {"avg_resp_ms", ColumnType::floating},
        {"load_pct", ColumnType::unsigned_integer}, {"steered", ColumnType::boolean},
    };
    direct_ip_columns(t.columns);
    for (const NodeState& n : nodes_) {
        const NodeSlot& slot = table_.node(n.config.number);
        const uint64_t buckets = slot.buckets.get();
        t.rows.push_back({n.config.number, n.config.eth0_mac.str(), format_ipv4(n.config.eth0_ip),
                          format_ipv4(n.config.sched_ip), node_admin_name(n.admin), n.weight, n.failed, buckets,
                          100.0 * static_cast<double>(buckets) / table_.size(), slot.packets.get(), slot.bytes.get(),
                          proto::known_or_null(n.figures.hits), proto::known_or_null(n.figures.open_conns),
                          proto::known_or_null(n.figures.avg_resp_ms), proto::known_or_null(n.load_pct),
                          n.steered});
        direct_ip_cells(direct_, n.config, t.rows.back());
    }
    return t;
}

io::Table ControlPlane::hash_table(bool all, uint32_t from) const {
    io::Table t;
    t.name = all ? "hash-buckets" : "hash";
    t.source = "scheduler";
    t.version = table_.version();
    const uint32_t now = clock::monotonic_s();
    const uint32_t timeout = table_.idle_timeout();
    std::array<uint64_t, kMaxNodeNumber + 1> busy{};
    uint64_t assigned = 0;
    std::optional<uint32_t> next_bucket;
    if (all) {
        t.columns = {{"bucket", ColumnType::unsigned_integer}, {"node", ColumnType::unsigned_integer},
                     {"idle_s", ColumnType::unsigned_integer}};
    }
    for (uint32_t b = 0; b < table_.size(); ++b) {
        const BucketEntry e = table_.entry(b);
        if (e.node == kUnassigned) continue;
        ++assigned;
        const uint32_t idle = now - e.last_access;
        if (idle <= timeout) ++busy[e.node];
        // Listing all buckets lists the assigned ones (the unassigned rest is counted in meta), a page at a time
        // so that a 16M-bucket table never turns into one huge answer; dlbactl fetches the pages in turn.
        if (all && b >= from && !next_bucket) {
            if (t.rows.size() == kHashPageRows) {
                next_bucket = b;
            } else {
                t.rows.push_back({b, e.node, idle});
            }
        }
    }
    t.meta = {
        {"table_size", table_.size()},
        {"hash", hash_kind_name(config_.scheduler.hash)},
        {"idle_timeout_s", timeout},
        {"assigned", assigned},
        {"unassigned", table_.size() - assigned},
        {"assignments", table_.stats().assigned.get()},
        {"reassignments", table_.stats().reassigned.get()},
        {"load_steered", table_.stats().load_steered.get()},
        {"no_node", table_.stats().no_node.get()},
    };
    if (all) t.meta["next_bucket"] = next_bucket ? nlohmann::json(*next_bucket) : nlohmann::json(nullptr);
    if (!all) {
        t.columns = {{"node", ColumnType::unsigned_integer}, {"buckets", ColumnType::unsigned_integer},
                     {"busy", ColumnType::unsigned_integer}, {"share_pct", ColumnType::floating}};
        for (const NodeState& n : nodes_) {
            const uint64_t buckets = table_.node(n.config.number).buckets.get();
            t.rows.push_back({n.config.number, buckets, busy[n.config.number],
                              100.0 * static_cast<double>(buckets) / table_.size()});
        }
    }
    return t;
}

namespace {

// The counters table's rows, in order: the per-lcore counters before the drops, then the drops, then these.
using CounterRow = CounterField<LcoreCounters>;
#define ROW(field) DLBA_COUNTER_FIELD(LcoreCounters, field)
constexpr CounterRow kTrafficRows[] = {
    ROW(rx), ROW(rx_bytes), ROW(forwarded), ROW(forwarded_bytes), ROW(arp_replies), ROW(echo_replies),
    ROW(garp_sent), ROW(fragments_first), ROW(fragments_later), ROW(icmp_errors_steered), ROW(direct_taken_over),
    ROW(tx), ROW(tx_failed), ROW(alloc_failed),
};
constexpr CounterRow kLoopRows[] = {ROW(polls), ROW(idle_sleeps)};
#undef ROW

// Every lcore's counters added up into `sum` (each lcore writes only its own).
void sum_lcores(const CounterArray& counters, LcoreCounters& sum) {
    unsigned lcore_id;
    RTE_LCORE_FOREACH(lcore_id) {
        const LcoreCounters& c = counters[lcore_id];
        for (const CounterRow& r : kTrafficRows) (sum.*r.field).add((c.*r.field).get());
        for (const CounterRow& r : kLoopRows) (sum.*r.field).add((c.*r.field).get());
        for (size_t i = 0; i < pkt::kDropReasons; ++i) sum.drops[i].add(c.drops[i].get());
    }
}

}  // namespace

io::Table ControlPlane::counters_table() const {
    io::Table t;
    t.name = "counters";
    t.source = "scheduler";
    t.version = table_.version();
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    LcoreCounters sum;
    sum_lcores(counters_, sum);
    uint64_t dropped = 0;
    for (size_t i = 1; i < pkt::kDropReasons; ++i) dropped += sum.drops[i].get();
    for (const CounterRow& r : kTrafficRows) t.rows.push_back({r.name, (sum.*r.field).get()});
    t.rows.push_back({"dropped", dropped});
    for (size_t i = 1; i < pkt::kDropReasons; ++i) {
        t.rows.push_back({std::string("drop.") + pkt::drop_name(static_cast<pkt::Drop>(i)), sum.drops[i].get()});
    }
    for (const CounterRow& r : kLoopRows) t.rows.push_back({r.name, (sum.*r.field).get()});
    // Packets in = packets out + counted drops; a difference means frames still in flight or a leak.
    const uint64_t accounted = sum.forwarded.get() + sum.arp_replies.get() + sum.echo_replies.get() + dropped;
    t.meta = {{"node", self_},
              {"role", active_.load(std::memory_order_relaxed) ? "active" : "standby"},
              {"rx_accounted", accounted == sum.rx.get()}};
    return t;
}

}  // namespace dlba::sched
