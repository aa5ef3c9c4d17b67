// The server's monitoring answers, in the one table format the scheduler uses (io::Table), served read-only on
// the node's monitor socket and shown by `dlbactl backends` / `dlbactl status`:
//
//   backends  the back-end status table: key, address, port, state (up/down/drain/disabled), weight, open
//             connections, hits, average response time, errors, connect failures, pooled reuses
//   status    the node's own figures: connections, requests, answers by class, TLS handshakes, ...; its meta
//             says which configuration generation is in force and when it was loaded
//
// and the few operator commands the server takes: `backend KEY enable|disable|drain`, and (when the caller
// provides them) `reload` and `check-reload PATH`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "auth/drops.hpp"
#include "io/table_format.hpp"
#include "net/shared.hpp"
#include "protocol/node_status.hpp"
#include "status/stats.hpp"

namespace dlba::server {

struct ProcessFacts {
    int64_t now_ms = 0;      // monotonic, as the back-end state uses
    int64_t uptime_s = 0;
    unsigned workers = 0;
    long pid = 0;
    uint64_t reloads_refused = 0;  // reload attempts whose file was refused (the running generation stayed)
    // Sweep requests on the status port dropped by peer authentication, by reason (auth::Drop's order).
    std::array<uint64_t, auth::kDropReasons> sweep_auth_drops{};
};

// The reload commands, answered by whoever owns the reload (main's Reloader); each returns a dlba-reply document.
struct ReloadCommands {
    std::function<std::string()> reload;
    std::function<std::string(const std::string& path)> check_reload;
};

// The per-back-end counters are kept per worker inside each BackendState, so no worker list is needed here.
io::Table backends_table(const Generation& gen, const ProcessFacts& facts);
io::Table status_table(const Generation& gen, std::span<const WorkerStats* const> workers, const ProcessFacts& facts);
// The response-time histograms (cumulative le_ columns, per worker merged; metrics.histogram) and the responses
// by class, per back end: what dlbad's metrics endpoint serves as dlba_backend_response_seconds and
// dlba_backend_requests_total.
io::Table latency_table(const Generation& gen, const ProcessFacts& facts);
io::Table routes_table(const Generation& gen, const ProcessFacts& facts);

// The answer to the active scheduler's status sweep (TCP failover.status_port on this node's eth0 IP): the node's
// back ends, its status counters, healthy (protocol/node_status.hpp; as a table: the back-end table's rows, the
// counters in the meta). The server answers the sweep itself, so the verdict "this node can serve" comes from the
// process that serves (a dead node daemon does not fail the node).
proto::NodeStatus node_status(const Generation& gen, std::span<const WorkerStats* const> workers,
                              const ProcessFacts& facts, int64_t unix_time);
io::Table node_status_table(const Generation& gen, std::span<const WorkerStats* const> workers,
                            const ProcessFacts& facts, int64_t unix_time);

// Answers one monitor-socket request line (the requests: proto::Daemon::server). `reload` may be nullptr (then
// `reload` and `check-reload` are refused).
std::string handle_monitor_request(std::string_view request, const Generation& gen,
                                   std::span<const WorkerStats* const> workers, const ProcessFacts& facts,
                                   const ReloadCommands* reload = nullptr);

}  // namespace dlba::server
