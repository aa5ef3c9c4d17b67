// The status sweep's figures as one typed structure, serialised once in the one table format (io::Table):
//
//   the node's answer to the sweep   NodeStatus: its back-end rows, its server's status counters, healthy
//                                    (table "node-status": the rows and columns of `backends`, the counters in meta)
//   the scheduler's status table     NodeFigures per node: hits, open connections, average response time
//                                    (summarise(NodeStatus), sent as "node N stats HITS OPEN AVG_MS")
//   dlbad's summary table            BackendTotals: per back end over all nodes (add_to_totals, summary_rows)
//
// The DLBA server builds and serialises a NodeStatus; the sweeping daemon reads it back with from_table() and never
// looks a cell up by column name itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/table_format.hpp"

namespace dlba::proto {

// One node's figures in the scheduler's status table; nullopt: not known (no sweep answer with back ends yet).
struct NodeFigures {
    std::optional<uint64_t> hits;
    std::optional<uint64_t> open_conns;
    std::optional<double> avg_resp_ms;
};

// One back end as the answering node's DLBA server sees it: a row of its `backends` table.
struct BackendRow {
    std::string key;
    uint32_t address = 0;  // host order
    uint16_t port = 0;
    std::string state;     // up, down, drain, disabled, check_failed, agent_down, agent_maint, agent_drain
    std::string admin;     // the operator's: in-service, oos, maintenance, sticky, failed ("" from an older server)
    uint32_t weight = 0;
    uint64_t open_conns = 0;
    uint64_t hits = 0;
    std::optional<double> avg_resp_ms;  // nullopt: never measured
    uint64_t errors = 0;
    uint64_t connect_failures = 0;
    uint64_t bad_responses = 0;  // answers refused for their framing (502 to the client)
    uint64_t pooled_reuses = 0;
    std::optional<uint64_t> cookie_groups;  // persistent sessions started on it; nullopt: not reported
    bool tls = false;                 // the server speaks TLS to it
    uint64_t backend_handshakes = 0;  // TLS handshakes with it (full or resumed)
    uint64_t backend_resumed = 0;     // ... of which resumed
    uint64_t tls_verify_failures = 0; // handshakes refused: its certificate did not verify
    uint64_t max_inflight = 0;    // QoS: its limit of requests in flight per server process (0 = none)
    uint64_t queued = 0;          // QoS: requests waiting that it could take (bound to it, or its service's)
    uint64_t queue_timeouts = 0;  // QoS: such requests that gave up at their queue timeout (503)
    std::string services;  // the services that use it, comma-separated
    uint64_t idle_pooled = 0;  // idle pooled connections to it now, over the server's workers (prewarmed included)
    uint64_t tls_bound = 0;    // tls_session: TLS sessions bound to it
    uint64_t tls_rebound = 0;  // ... of which moved to it from a back end that could not take them
    uint64_t redirects = 0;  // redirect services: requests answered with a redirect to it
    std::string check = "-";  // active check: "-" (none), "up", "failed:REASON" (see BackendState::check_text)
    std::string agent = "-";  // load agent: "-" (none) or "HEALTH,ADMIN,NN%" ("up,drain,100%")
    uint64_t agent_errors = 0;  // agent exchanges that brought no well-formed line (counted and ignored)
    uint64_t tunnels = 0;       // upgraded connections (WebSocket) relayed to it
    uint64_t tunnels_open = 0;  // ... open now
};

// The `backends` table's columns and rows (the server's back-end status table and the sweep answer share them).
void put_backend_rows(io::Table& table, const std::vector<BackendRow>& rows);

// A node's answer to the status sweep.
struct NodeStatus {
    std::string source = "dlba-server";  // who answered: the DLBA server, or dlbad for the prototype
    std::string server = "dlba-server";  // what serves on the node: "dlba-server" or "prototype"
    uint16_t node = 0;
    int64_t time = 0;                    // unix seconds, when answered
    bool healthy = true;
    std::string reason;  // why not healthy (self-diagnosis: no usable back end); "" when healthy
    std::map<std::string, uint64_t> counters;  // the server's status counters (connections_open, requests, ...)
    std::vector<BackendRow> backends;

    std::optional<uint64_t> counter(std::string_view name) const;

    io::Table to_table() const;
    // Reads a "node-status" table: the meta facts, the counters (every other unsigned meta value) and the rows,
    // columns found by name (a table without rows may have no columns). Refuses what it cannot read.
    static std::optional<NodeStatus> from_table(const io::Table& table, std::string* err);
};

// The node's figures for the scheduler's status table: the back ends' hits and open connections summed (open
// connections from the server's own count when it gives one) and the average response time weighted by hits.
// All unknown when the answer has no back-end rows (the prototype).
NodeFigures summarise(const NodeStatus& status);

// The summary table (per back end over all nodes), built one sweep answer at a time.
struct BackendTotal {
    uint32_t address = 0;                   // 0: no node reported it
    std::optional<uint64_t> cookie_groups;  // nullopt unless some node reports it
    uint64_t hits = 0;
    uint64_t open_conns = 0;
    std::map<uint16_t, std::string> admin;  // each reporting node's admin state of it
};
using BackendTotals = std::map<std::string, BackendTotal>;  // by back-end key
void add_to_totals(const NodeStatus& status, BackendTotals& totals);
// The summary table's columns and rows: backend, address, cookie_groups, total_hits, total_open_conns, admin.
// admin is the nodes' common admin state, or "N:state,..." per node where they differ.
void put_summary_rows(io::Table& table, const BackendTotals& totals);

// A cell: the value, or null when not known.
template <class T>
nlohmann::json known_or_null(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace dlba::proto
