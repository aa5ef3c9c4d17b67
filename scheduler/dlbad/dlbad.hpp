// dlbad, the node daemon: one per node, beside the scheduler and the DLBA server. Its jobs, each in its own file
// with its own state and thread:
//
//   * the failover loop (node_daemon.hpp), on the calling thread: heartbeats, probes, election, the local role;
//   * the status sweep (status_sweep.hpp), while the local scheduler is active: every node's health and figures;
//   * the config port (config_port.hpp): configuration push, and dlbactl's --node / --all-nodes requests;
//   * the monitoring socket (monitor_tables.hpp): failover, sweep and summary tables, read-only;
//   * the metrics endpoint (metrics_endpoint.hpp), with metrics.listen: Prometheus, this node's daemons' figures;
//   * the status daemon (status_daemon.hpp), in the prototype only: answers the sweep for plain web servers;
//
// and the one link to the local scheduler and server they all talk through (local_link.hpp). This class only
// wires them together, starts them and stops them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "admin_keeper.hpp"
#include "config_port.hpp"
#include "failover_net.hpp"
#include "local_link.hpp"
#include "metrics_endpoint.hpp"
#include "monitor_tables.hpp"
#include "load_meter.hpp"
#include "node_daemon.hpp"
#include "peer_auth.hpp"
#include "status_daemon.hpp"
#include "status_sweep.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

struct DaemonOptions {
    uint16_t node = 0;
    std::string scheduler_socket;  // the local dlba-scheduler's control socket
    std::string server_socket;     // the local dlba-server's monitor socket (when the config has a server section)
    std::string monitor_socket;    // ours
    uint64_t config_id = 0;        // hash of the configuration file's bytes
    std::string config_path;       // the running configuration file (config push replaces it)
    std::string admin_state_file;  // overrides failover.admin_state_file
    uint64_t initial_term = 0;     // carried over a restart after a configuration push
};

class Dlbad {
public:
    Dlbad(const Config& config, DaemonOptions options);
    ~Dlbad();

    bool start(std::string* err);
    // Returns when `stop` is set, or after a configuration push committed a new file: then restart_requested()
    // is true and the caller re-executes the daemon on the new file (sockets and timings may have changed).
    // each_turn runs on every turn of the failover loop (the service manager's watchdog and status).
    void run(const std::atomic<bool>& stop, const std::function<void()>& each_turn = {});
    bool restart_requested() const { return restart_.load(); }
    void request_restart() { restart_.store(true); }  // SIGHUP: start again on the file as it is now
    uint64_t term() const;
    // One line for systemd's STATUS=: this node's role in the election, whom it knows as active, the term.
    std::string service_status() const;

private:
    static constexpr int kMetricsFetchTimeoutMs = 500;  // per table, per scrape
    std::string render_metrics() const;  // one scrape (the metrics endpoint's thread)

    const Config& config_;
    const DaemonOptions opt_;
    SystemTime time_;
    std::atomic<bool> restart_{false};
    // Made by start() once this node is known to be in the configuration; declared so that each is destroyed
    // (its thread joined) before what it uses.
    std::unique_ptr<PeerAuth> auth_;
    std::unique_ptr<SocketLink> link_;
    std::unique_ptr<AdminKeeper> keeper_;
    std::unique_ptr<FailoverSockets> net_;
    std::unique_ptr<TcpStatusFetcher> fetcher_;
    std::unique_ptr<StatusSweep> sweep_;
    std::unique_ptr<FailoverLoop> failover_;
    std::unique_ptr<LoadMeter> load_meter_;
    std::unique_ptr<MonitorTables> tables_;
    std::unique_ptr<MonitorSocket> monitor_;
    std::unique_ptr<ConfigPort> config_port_;
    std::unique_ptr<StatusDaemon> status_daemon_;
    std::unique_ptr<MetricsEndpoint> metrics_;
};

}  // namespace dlba::dlbad
