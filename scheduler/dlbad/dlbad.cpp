#include "dlbad.hpp"

#include <chrono>
#include <variant>

#include "io/table_format.hpp"
#include "protocol/request.hpp"

namespace dlba::dlbad {

Dlbad::Dlbad(const Config& config, DaemonOptions options) : config_(config), opt_(std::move(options)) {}

Dlbad::~Dlbad() = default;

bool Dlbad::start(std::string* err) {
    const NodeConfig* self = config_.node(opt_.node);
    if (!self) {
        *err = "node " + std::to_string(opt_.node) + " is not in the configuration";
        return false;
    }
    if (const std::string problem = config_.failover.auth_problem(); !problem.empty()) {
        *err = problem;
        return false;
    }
    auth_ = std::make_unique<PeerAuth>(config_, opt_.node);
    link_ = std::make_unique<SocketLink>(opt_.node, opt_.scheduler_socket, opt_.server_socket, time_);
    net_ = std::make_unique<FailoverSockets>(config_, *self, *auth_);
    fetcher_ = std::make_unique<TcpStatusFetcher>(config_.failover.status_port, *auth_);
    sweep_ = std::make_unique<StatusSweep>(config_, opt_.node, *link_, *fetcher_, time_);
    failover_ = std::make_unique<FailoverLoop>(config_, FailoverIdentity{opt_.node, opt_.config_id, opt_.initial_term},
                                               *net_, *link_, time_,
                                               [this](bool active) { sweep_->set_active(active); });
    // The node's load for the heartbeat and the active's steering (failover.load). Without a DLBA server the
    // connections source has no figure: the load is then not known.
    load_meter_ = std::make_unique<LoadMeter>(config_.failover.load,
                                              config_.server ? config_.server->max_connections : 0, *link_, time_);
    failover_->set_load_inputs([this] { return load_meter_->load_pct(); }, [this](uint16_t n) {
        // Not eligible: failed by the sweep, or drained, disabled or weighted 0 by the operator (the admin state
        // this node's dlbad keeps; the configured enabled/weight are the steering round's own inputs).
        if (keeper_ && keeper_->node_out_of_service(n)) return true;
        const SweepSnapshot s = sweep_->snapshot();
        const auto it = s.results.find(n);
        return it != s.results.end() && it->second.failed_by_sweep;
    });
    tables_ = std::make_unique<MonitorTables>(
        config_, opt_.node, [this] { return failover_->snapshot(); }, [this] { return sweep_->snapshot(); }, time_);
    tables_->show_auth(auth_.get());
    keeper_ = std::make_unique<AdminKeeper>(
        config_, opt_.node,
        admin_state_path(opt_.admin_state_file.empty() ? config_.failover.admin_state_file : opt_.admin_state_file,
                         opt_.node),
        *link_);
    keeper_->load();
    // The monitor socket: the tables, and the operator's admin-state requests (kept, then passed on).
    monitor_ = std::make_unique<MonitorSocket>(opt_.monitor_socket, [this](std::string_view line) {
        const proto::Parsed p = proto::parse(line, proto::Daemon::dlbad_monitor);
        if (const auto* r = std::get_if<proto::Request>(&p); r && proto::is_admin_state(r->verb)) {
            return keeper_->apply(*r);
        }
        if (const auto* e = std::get_if<proto::ParseError>(&p); e && e->kind == proto::ParseError::Kind::bad_arguments &&
                                                                 e->verb && proto::is_admin_state(*e->verb)) {
            return io::reply_error(e->message);
        }
        return tables_->answer(line);
    });
    config_port_ = std::make_unique<ConfigPort>(
        config_, opt_.node, opt_.config_path, *link_, [this](std::string_view t) { return tables_->answer(t); },
        [this] { restart_.store(true); });

    config_port_->authenticate_with(*auth_);
    config_port_->keep_admin_with(*keeper_);
    if (!net_->open_heartbeat(err)) return false;
    // The status daemon. With a DLBA server the server answers the sweep itself (the witness that the node can
    // serve is the process that serves); this daemon answers only for the prototype (plain web servers).
    if (!config_.server) {
        status_daemon_ = std::make_unique<StatusDaemon>(config_, *self, time_, *auth_);
        if (!status_daemon_->open(err)) return false;
    }
    if (!config_port_->open(err)) return false;
    if (!net_->open_probes(err)) return false;
    if (!monitor_->open(err)) return false;
    if (const auto& listen = config_.metrics.listen) {
        metrics_ = std::make_unique<MetricsEndpoint>([this] { return render_metrics(); });
        if (!metrics_->open(listen->ip.value_or(self->eth0_ip), listen->port, err)) {
            *err = "metrics.listen: " + *err;
            return false;
        }
    }
    failover_->refresh_local_role();
    return true;
}

void Dlbad::run(const std::atomic<bool>& stop, const std::function<void()>& each_turn) {
    // Stop on the caller's request, or to restart on a freshly pushed configuration.
    const auto stopping = [&] {
        if (each_turn) each_turn();
        return stop.load(std::memory_order_relaxed) || restart_.load(std::memory_order_relaxed);
    };
    sweep_->start();
    load_meter_->start();
    keeper_->start();
    config_port_->start();
    monitor_->start();
    if (status_daemon_) status_daemon_->start();
    if (metrics_) metrics_->start();
    failover_->run(stopping);
    sweep_->request_stop();
    load_meter_->request_stop();
    keeper_->request_stop();
    config_port_->request_stop();
    monitor_->request_stop();
    if (status_daemon_) status_daemon_->request_stop();
    if (metrics_) metrics_->request_stop();
    // Hand over before waiting for the other threads: a sweep in progress may take its timeouts.
    if (!restart_.load()) failover_->hand_over();
    sweep_->join();
    load_meter_->join();
    keeper_->join();
    config_port_->join();
    monitor_->join();
    if (status_daemon_) status_daemon_->join();
    if (metrics_) metrics_->join();
}

std::string Dlbad::render_metrics() const {
    const auto started = std::chrono::steady_clock::now();
    metrics::NodeTables t;
    t.node = opt_.node;
    t.failover = failover_table(config_, failover_->snapshot(), time_.monotonic_ms());
    t.sweep = sweep_table(config_, opt_.node, sweep_->snapshot());
    fetch_local_tables({opt_.scheduler_socket, config_.server ? opt_.server_socket : std::string()},
                       kMetricsFetchTimeoutMs, t);
    t.scrape_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return metrics::render_node_metrics(t);
}

std::string Dlbad::service_status() const {
    if (!failover_) return "node " + std::to_string(opt_.node) + ": starting";
    const FailoverSnapshot s = failover_->snapshot();
    std::string text = "node " + std::to_string(opt_.node) + ": ";
    if (s.active) {
        text += "active scheduler";
    } else {
        text += "standby";
        text += s.known_active ? " (active: node " + std::to_string(*s.known_active) + ")" : " (no active node known)";
    }
    text += ", term " + std::to_string(s.term);
    if (s.isolated) text += ", isolated: peers' heartbeats do not verify";
    return text;
}

uint64_t Dlbad::term() const { return failover_ ? failover_->snapshot().term : opt_.initial_term; }

}  // namespace dlba::dlbad
