// The control plane's side of the nodes' direct IPs (issue 13): the list the data plane is given, and the status
// table's columns saying who serves each address.
#pragma once

#include <vector>

#include "config/nodes_section.hpp"
#include "dataplane/direct_ips.hpp"
#include "io/table_format.hpp"

namespace dlba::sched {

static_assert(kMaxDirectIpCount == pkt::kMaxDirectIps, "the configuration and the data plane agree on the limit");

// The configuration's (direct IP, node) pairs, in node order.
DirectIpList direct_ip_list(const std::vector<NodeConfig>& nodes);

// For the status table row of `node`: its direct IP (null: none), who serves it ("self", "buckets" while taken
// over, "returning" while established flows finish elsewhere; null when the data plane has no such slot yet) and the
// address's packet counters.
void direct_ip_cells(const DirectIps* direct, const NodeConfig& node, std::vector<nlohmann::json>& row);
// The matching columns, appended in the same order.
void direct_ip_columns(std::vector<io::Column>& columns);

}  // namespace dlba::sched
