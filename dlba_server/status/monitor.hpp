// The server's monitoring answers, in the one table format the scheduler uses (io::Table), served read-only on
// the node's monitor socket and shown by `dlbactl backends` / `dlbactl status`:
//
//   backends  the back-end status table: key, address, port, state (up/down/drain/disabled), weight, open
//             connections, hits, average response time, errors, connect failures, pooled reuses
//   status    the node's own figures: connections, requests, answers by class, TLS handshakes, ...
//
// and the few operator commands the server takes: `backend KEY enable|disable|drain`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/table_format.hpp"
#include "net/shared.hpp"
#include "status/stats.hpp"

namespace dlba::server {

struct ProcessFacts {
    int64_t now_ms = 0;      // monotonic, as the back-end state uses
    int64_t uptime_s = 0;
    unsigned workers = 0;
    long pid = 0;
};

io::Table backends_table(const Shared& shared, std::span<const WorkerStats* const> workers, const ProcessFacts& facts);
io::Table status_table(const Shared& shared, std::span<const WorkerStats* const> workers, const ProcessFacts& facts);

// Answers one monitor-socket request line.
std::string handle_monitor_request(std::string_view request, Shared& shared,
                                   std::span<const WorkerStats* const> workers, const ProcessFacts& facts);

}  // namespace dlba::server
