// One node's metrics from the tables its daemons serve: dlbad's own (failover, sweep), the local scheduler's
// (status, counters, hash, sync) and the local DLBA server's (status, backends, latency). dlbad's metrics
// endpoint fetches the tables through the sockets dlbactl uses and renders them here, so the exposition is the
// tables' figures under Prometheus names, and a figure is never counted in two places.
//
// Names follow Prometheus' conventions: a unit suffix (_seconds, _bytes), _total on counters; a state is a value
// (a one-hot gauge over all the states, or 0/1), never a label whose value changes. A table that could not be read
// leaves its families without samples and dlba_component_up{component} at 0. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/table_format.hpp"

namespace dlba::metrics {

struct NodeTables {
    uint16_t node = 0;
    std::optional<io::Table> failover, sweep;                          // dlbad's own
    std::optional<io::Table> sched_status, sched_counters, sched_hash, sched_sync;
    bool has_server = false;                                           // the configuration has a server section
    std::optional<io::Table> server_status, server_backends, server_latency;
    double scrape_seconds = 0;  // how long gathering the tables took
};

std::string render_node_metrics(const NodeTables& tables);

}  // namespace dlba::metrics
