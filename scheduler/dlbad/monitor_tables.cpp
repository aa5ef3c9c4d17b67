#include "monitor_tables.hpp"

#include <algorithm>
#include <map>

#include "protocol/node_status.hpp"

namespace dlba::dlbad {

namespace {

constexpr int kMonitorPollMs = 200;  // how quickly the monitor thread sees a stop

nlohmann::json or_null(const std::optional<uint16_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json time_or_null(uint64_t unix_s) { return unix_s ? nlohmann::json(unix_s) : nlohmann::json(nullptr); }

}  // namespace

io::Table failover_table(const ArrayConfig& config, const FailoverSnapshot& s, uint64_t now_ms) {
    io::Table t;
    t.name = "failover";
    t.source = "dlbad";
    t.version = s.term;
    nlohmann::json vip_arp = nlohmann::json::array();  // who answered ARP for the VIP in the last round
    for (const MacAddr& m : s.vip_arp) {
        vip_arp.push_back({{"mac", m.str()}, {"node", or_null(node_of_sched_mac(config, m))}});
    }
    t.meta = {{"node", s.node},
              {"role", s.active ? "active" : "standby"},
              {"term", s.term},
              {"active", or_null(s.known_active)},
              {"sync_from", or_null(s.sync_from)},
              {"local_dataplane_ok", s.local_dataplane_ok},
              {"vip_arp", vip_arp},
              {"events", s.events},
              {"auth.unverified_nodes", s.unverified},
              {"auth.isolated", s.isolated},
              {"takeovers", s.takeovers},
              {"heartbeats_refused", s.heartbeats_refused}};
    using io::ColumnType;
    t.columns = {{"node", ColumnType::unsigned_integer}, {"priority", ColumnType::unsigned_integer},
                 {"heard_ms_ago", ColumnType::unsigned_integer}, {"alive", ColumnType::boolean},
                 {"active", ColumnType::boolean}, {"term", ColumnType::unsigned_integer},
                 {"dataplane_ok", ColumnType::boolean}, {"table_version", ColumnType::unsigned_integer},
                 {"same_config", ColumnType::boolean}, {"load_pct", ColumnType::unsigned_integer},
                 {"steered", ColumnType::boolean}};
    // Steered is the active's decision: not known on a standby.
    const auto steered = [&s](uint16_t n) {
        return s.active ? nlohmann::json(std::find(s.steered.begin(), s.steered.end(), n) != s.steered.end())
                        : nlohmann::json(nullptr);
    };
    for (const NodeConfig& n : config.nodes) {
        if (n.number == s.node) {
            t.rows.push_back({n.number, n.priority, 0, true, s.active, s.term, s.local_dataplane_ok, s.local_version,
                              true, proto::known_or_null(s.own_load), steered(n.number)});
            continue;
        }
        const auto it = s.peers.find(n.number);
        if (it == s.peers.end()) {
            t.rows.push_back({n.number, n.priority, nullptr, false, nullptr, nullptr, nullptr, nullptr, nullptr,
                              nullptr, steered(n.number)});
            continue;
        }
        const PeerView& p = it->second;
        const uint64_t ago = now_ms - p.last_ms;
        const uint8_t load = p.last.load_pct;
        t.rows.push_back({n.number, n.priority, ago, ago <= config.failover.dead_after_ms, p.last.beat.active,
                          p.last.beat.term, p.last.beat.dataplane_ok, p.last.table_version,
                          p.last.config_id == s.config_id,
                          load == hb::kLoadUnknown ? nlohmann::json(nullptr) : nlohmann::json(load),
                          steered(n.number)});
    }
    return t;
}

io::Table sweep_table(const ArrayConfig& config, uint16_t node, const SweepSnapshot& s) {
    io::Table t;
    t.name = "sweep";
    t.source = "dlbad";
    t.version = s.sweeps;
    t.meta = {{"node", node},
              {"sweeping", s.sweeping},
              {"last_sweep", time_or_null(s.last_sweep_unix)},
              {"sweeps", s.sweeps}};
    using io::ColumnType;
    t.columns = {{"node", ColumnType::unsigned_integer}, {"answered", ColumnType::boolean},
                 {"attempts", ColumnType::unsigned_integer}, {"failed_by_sweep", ColumnType::boolean},
                 {"last_answer", ColumnType::time}, {"server", ColumnType::string},
                 {"last_error", ColumnType::string}};
    for (const NodeConfig& n : config.nodes) {
        const auto it = s.results.find(n.number);
        if (it == s.results.end()) {
            t.rows.push_back({n.number, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
            continue;
        }
        const SweepResult& r = it->second;
        const nlohmann::json server = r.answer ? nlohmann::json(r.answer->status.server) : nlohmann::json(nullptr);
        t.rows.push_back({n.number, r.answered, r.attempts, r.failed_by_sweep, r.last_answer_unix, server,
                          r.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.last_error)});
    }
    return t;
}

io::Table summary_table(uint16_t node, const SweepSnapshot& s) {
    proto::BackendTotals totals;
    for (const auto& [n, r] : s.results) {
        if (r.answered && r.answer) proto::add_to_totals(r.answer->status, totals);
    }
    io::Table t;
    t.name = "summary";
    t.source = "dlbad";
    t.version = s.sweeps;
    t.meta = {{"node", node}, {"last_sweep", time_or_null(s.last_sweep_unix)}};
    proto::put_summary_rows(t, totals);
    return t;
}

MonitorTables::MonitorTables(const ArrayConfig& config, uint16_t node, FailoverSource failover, SweepSource sweep,
                             const TimeSource& time)
    : config_(config), node_(node), failover_(std::move(failover)), sweep_(std::move(sweep)), time_(time) {}

std::string MonitorTables::answer(std::string_view request) const {
    if (request == "failover" || request == "status") {
        io::Table t = failover_table(config_, failover_(), time_.monotonic_ms());
        if (auth_) add_auth_meta(*auth_, t.meta);
        return t.to_json().dump();
    }
    if (request == "sweep") return sweep_table(config_, node_, sweep_()).to_json().dump();
    if (request == "summary") return summary_table(node_, sweep_()).to_json().dump();
    return io::reply_error("unknown request (failover | sweep | summary)");
}

MonitorSocket::~MonitorSocket() {
    request_stop();
    join();
}

void MonitorSocket::start() {
    thread_ = std::thread([this] {
        while (!stop_.load(std::memory_order_relaxed)) {
            server_.poll_once(kMonitorPollMs, [this](std::string_view r) { return handler_(r); });
        }
    });
}

void MonitorSocket::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace dlba::dlbad
