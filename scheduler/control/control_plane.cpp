#include "control_plane.hpp"

#include <charconv>
#include <optional>

#include "clock.hpp"
#include "io/words.hpp"

namespace dlba::sched {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

using io::ColumnType;

}  // namespace

ControlPlane::ControlPlane(const ArrayConfig& config, uint16_t self, const MacAddr& port_mac, const BucketTable& table,
                           const CounterArray& counters, CommandQueue& commands, const std::atomic<bool>& active,
                           TableSync& sync)
    : config_(config), self_(self), port_mac_(port_mac), table_(table), counters_(counters), commands_(commands),
      active_(active), sync_(sync) {
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

std::string ControlPlane::handle(std::string_view request) {
    const std::vector<std::string_view> words = io::split_words(request);
    if (words.empty()) return io::reply_error("empty request");
    const std::string_view verb = words[0];
    if (verb == "status" && words.size() == 1) return status_table().to_json().dump();
    if (verb == "hash" && words.size() == 1) return hash_table(false).to_json().dump();
    if (verb == "hash" && words.size() >= 2 && words.size() <= 3 && words[1] == "all") {
        uint32_t from = 0;
        if (words.size() == 3 && !parse_number(words[2], from)) return io::reply_error("usage: hash all [FROM_BUCKET]");
        return hash_table(true, from).to_json().dump();
    }
    if (verb == "counters" && words.size() == 1) return counters_table().to_json().dump();
    if (verb == "role") return set_role(words);
    if (verb == "renew" && words.size() == 1) return renew_lease();
    if (verb == "reload" && words.size() == 1) return reload();
    if (verb == "check-reload" && words.size() == 2) return check_reload(std::string(words[1]));
    if (verb == "sync" && words.size() == 1) return sync_.table().to_json().dump();
    if (verb == "sync-from") return sync_from(words);
    if (verb == "sweep-done" && words.size() == 2 && parse_number(words[1], last_sweep_unix_)) {
        return io::reply_ok("sweep recorded");
    }
    if (verb == "node") return node_command(words);
    return io::reply_error("unknown request '" + std::string(request) +
                           "' (status | hash [all] | counters | role active [lease MS]|standby | renew | node N fail|live|enable|"
                           "disable|drain | node N weight W | sync | sync-from N|none)");
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
    if (x.garp_count != y.garp_count || x.garp_interval_ms != y.garp_interval_ms || x.garp_refresh_ms != y.garp_refresh_ms) {
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

std::string ControlPlane::check_reload(const std::string& path) const {
    ArrayConfigResult loaded = load_array_config(path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) return io::reply_error(e->str());
    if (const std::string what = immutable_change(config_, std::get<ArrayConfig>(loaded), self_); !what.empty()) {
        return io::reply_error(path + ": " + what + " cannot change while the scheduler runs (restart it)");
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
    std::string err;
    for (const NodeState& old : nodes_) {
        if (!next.node(old.config.number)) {
            if (!run_command(commands_, CommandKind::remove_node, old.config.number, 0, &err)) return io::reply_error(err);
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
        if (!run_command(commands_, CommandKind::set_node, n.number, 0, &err, &u)) return io::reply_error(err);
        changes.push_back((before ? "changed node " : "added node ") + std::to_string(n.number));
        nodes.push_back(st);
    }
    nodes_ = std::move(nodes);
    config_ = std::move(next);
    std::string summary = "configuration reloaded";
    for (size_t i = 0; i < changes.size(); ++i) summary += (i ? ", " : ": ") + changes[i];
    if (changes.empty()) summary += ": no change for the scheduler";
    return io::reply_ok(summary);
}

std::string ControlPlane::sync_from(const std::vector<std::string_view>& words) {
    // The failover daemon names the active scheduler's node; its eth0 IP and the sync port come from the config.
    if (words.size() == 2 && words[1] == "none") {
        sync_.set_source(0, 0);
        return io::reply_ok("table sync stopped");
    }
    uint16_t number = 0;
    if (words.size() != 2 || !parse_number(words[1], number)) return io::reply_error("usage: sync-from N|none");
    const NodeConfig* n = config_.node(number);
    if (!n) return io::reply_error("no node " + std::to_string(number) + " in the configuration");
    if (number == self_) return io::reply_error("a scheduler does not sync from itself");
    sync_.set_source(n->eth0_ip, config_.failover.sync_port);
    return io::reply_ok("syncing from node " + std::to_string(number) + " (" + format_ipv4(n->eth0_ip) + ":" +
                        std::to_string(config_.failover.sync_port) + ")");
}

std::string ControlPlane::set_role(const std::vector<std::string_view>& words) {
    uint32_t lease = 0;
    const bool with_lease = words.size() == 4 && words[1] == "active" && words[2] == "lease" &&
                            parse_number(words[3], lease) && lease > 0;
    if (!with_lease && (words.size() != 2 || (words[1] != "active" && words[1] != "standby"))) {
        return io::reply_error("usage: role active [lease MS] | role standby");
    }
    const bool to_active = words[1] == "active";
    std::string err;
    if (!run_command(commands_, CommandKind::set_role, 0, to_active ? 1 : 0, &err)) return io::reply_error(err);
    lease_ms_ = lease;
    lease_until_ms_ = lease ? clock::monotonic_ms() + lease : 0;
    return io::reply_ok(std::string("role is now ") + (to_active ? "active" : "standby") +
                        (lease ? ", lease " + std::to_string(lease) + " ms" : std::string()));
}

std::string ControlPlane::renew_lease() {
    if (lease_ms_ == 0 || !active_.load(std::memory_order_relaxed)) return io::reply_error("no lease to renew");
    lease_until_ms_ = clock::monotonic_ms() + lease_ms_;
    return io::reply_ok("lease renewed");
}

std::string ControlPlane::expire_lease() {
    if (lease_ms_ == 0 || clock::monotonic_ms() < lease_until_ms_) return "";
    const uint32_t lease = lease_ms_;
    lease_ms_ = 0;
    if (!active_.load(std::memory_order_relaxed)) return "";
    std::string err;
    if (!run_command(commands_, CommandKind::set_role, 0, 0, &err)) return "lease ran out, but turning standby failed: " + err;
    return "the active role's lease (" + std::to_string(lease) + " ms) was not renewed by dlbad: turned standby";
}

std::string ControlPlane::node_command(const std::vector<std::string_view>& words) {
    uint16_t number = 0;
    if (words.size() < 3 || !parse_number(words[1], number)) {
        return io::reply_error("usage: node N fail|live|enable|disable|drain | node N weight W");
    }
    NodeState* node = find_node(number);
    if (!node) return io::reply_error("no node " + std::to_string(number) + " in the configuration");
    const std::string_view what = words[2];
    std::string err;
    const auto admin = [&](NodeAdmin a) {
        if (words.size() != 3) return io::reply_error("usage: node N " + std::string(what));
        if (!run_command(commands_, CommandKind::set_admin, number, static_cast<uint32_t>(a), &err)) {
            return io::reply_error(err);
        }
        node->admin = a;
        return io::reply_ok("node " + std::to_string(number) + " is now " + node_admin_name(a));
    };
    const auto failed = [&](bool f) {
        if (words.size() != 3) return io::reply_error("usage: node N " + std::string(what));
        if (!run_command(commands_, CommandKind::set_failed, number, f ? 1 : 0, &err)) return io::reply_error(err);
        node->failed = f;
        return io::reply_ok("node " + std::to_string(number) + " is now " + (f ? "failed" : "live"));
    };
    if (what == "enable") return admin(NodeAdmin::enabled);
    if (what == "disable") return admin(NodeAdmin::disabled);
    if (what == "drain") return admin(NodeAdmin::draining);
    if (what == "fail") return failed(true);
    if (what == "live") return failed(false);
    if (what == "stats") {
        // From the status sweep: hits, open connections, average response time ("-" = not known).
        if (words.size() != 6) return io::reply_error("usage: node N stats HITS OPEN AVG_MS");
        const auto num = [](std::string_view w) -> std::optional<nlohmann::json> {
            if (w == "-") return nlohmann::json(nullptr);
            double v = 0;
            auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
            if (ec != std::errc{} || end != w.data() + w.size() || v < 0) return std::nullopt;
            return nlohmann::json(v);
        };
        const auto h = num(words[3]), o = num(words[4]), a = num(words[5]);
        if (!h || !o || !a) return io::reply_error("bad figures");
        node->hits = h->is_number() ? nlohmann::json(h->get<uint64_t>()) : *h;
        node->open_conns = o->is_number() ? nlohmann::json(o->get<uint64_t>()) : *o;
        node->avg_resp_ms = *a;
        return io::reply_ok("figures recorded");
    }
    if (what == "weight") {
        uint32_t weight = 0;
        if (words.size() != 4 || !parse_number(words[3], weight) || weight > 1000000) {
            return io::reply_error("usage: node N weight W (0..1000000)");
        }
        if (!run_command(commands_, CommandKind::set_weight, number, weight, &err)) return io::reply_error(err);
        node->weight = weight;
        return io::reply_ok("node " + std::to_string(number) + " weight is now " + std::to_string(weight));
    }
    return io::reply_error("unknown node action '" + std::string(what) + "'");
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
    };
    t.columns = {
        {"node", ColumnType::unsigned_integer}, {"eth0_mac", ColumnType::mac},
        {"eth0_ip", ColumnType::ipv4},          {"sched_ip", ColumnType::ipv4},
        {"state", ColumnType::string},          {"weight", ColumnType::unsigned_integer},
        {"failed", ColumnType::boolean},        {"buckets", ColumnType::unsigned_integer},
        {"share_pct", ColumnType::floating},    {"packets", ColumnType::unsigned_integer},
        {"bytes", ColumnType::unsigned_integer}, {"hits", ColumnType::unsigned_integer},
        {"open_conns", ColumnType::unsigned_integer}, {"avg_resp_ms", ColumnType::floating},
    };
    for (const NodeState& n : nodes_) {
        const NodeSlot& slot = table_.node(n.config.number);
        const uint64_t buckets = slot.buckets.get();
        t.rows.push_back({n.config.number, n.config.eth0_mac.str(), format_ipv4(n.config.eth0_ip),
                          format_ipv4(n.config.sched_ip), node_admin_name(n.admin), n.weight, n.failed, buckets,
                          100.0 * static_cast<double>(buckets) / table_.size(), slot.packets.get(), slot.bytes.get(),
                          n.hits, n.open_conns, n.avg_resp_ms});
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

io::Table ControlPlane::counters_table() const {
    io::Table t;
    t.name = "counters";
    t.source = "scheduler";
    t.version = table_.version();
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    LcoreCounters sum;
    unsigned lcore_id;
    RTE_LCORE_FOREACH(lcore_id) {
        const LcoreCounters& c = counters_[lcore_id];
#define DLBA_SUM(field) sum.field.add(c.field.get())
        DLBA_SUM(rx); DLBA_SUM(rx_bytes); DLBA_SUM(forwarded); DLBA_SUM(forwarded_bytes); DLBA_SUM(arp_replies);
        DLBA_SUM(echo_replies); DLBA_SUM(garp_sent); DLBA_SUM(fragments_first); DLBA_SUM(fragments_later);
        DLBA_SUM(icmp_errors_steered); DLBA_SUM(tx); DLBA_SUM(tx_failed); DLBA_SUM(alloc_failed);
        DLBA_SUM(idle_sleeps); DLBA_SUM(polls);
#undef DLBA_SUM
        for (size_t i = 0; i < pkt::kDropReasons; ++i) sum.drops[i].add(c.drops[i].get());
    }
    uint64_t dropped = 0;
    for (size_t i = 1; i < pkt::kDropReasons; ++i) dropped += sum.drops[i].get();
    const auto row = [&](const char* name, uint64_t v) { t.rows.push_back({name, v}); };
    row("rx", sum.rx.get());
    row("rx_bytes", sum.rx_bytes.get());
    row("forwarded", sum.forwarded.get());
    row("forwarded_bytes", sum.forwarded_bytes.get());
    row("arp_replies", sum.arp_replies.get());
    row("echo_replies", sum.echo_replies.get());
    row("garp_sent", sum.garp_sent.get());
    row("fragments_first", sum.fragments_first.get());
    row("fragments_later", sum.fragments_later.get());
    row("icmp_errors_steered", sum.icmp_errors_steered.get());
    row("tx", sum.tx.get());
    row("tx_failed", sum.tx_failed.get());
    row("alloc_failed", sum.alloc_failed.get());
    row("dropped", dropped);
    for (size_t i = 1; i < pkt::kDropReasons; ++i) {
        t.rows.push_back({std::string("drop.") + pkt::drop_name(static_cast<pkt::Drop>(i)), sum.drops[i].get()});
    }
    row("polls", sum.polls.get());
    row("idle_sleeps", sum.idle_sleeps.get());
    // Packets in = packets out + counted drops; a difference means frames still in flight or a leak.
    const uint64_t accounted = sum.forwarded.get() + sum.arp_replies.get() + sum.echo_replies.get() + dropped;
    t.meta = {{"node", self_},
              {"role", active_.load(std::memory_order_relaxed) ? "active" : "standby"},
              {"rx_accounted", accounted == sum.rx.get()}};
    return t;
}

}  // namespace dlba::sched
