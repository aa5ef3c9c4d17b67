// DPDK telemetry: the scheduler's own commands beside DPDK's (/ethdev/stats, /eal/...), readable with
// `dpdk-telemetry.py -f FILE_PREFIX` (Debian package dpdk) on the socket EAL opens in the runtime directory:
//
//   /dlba/counters  the counters table (rx, forwarded, dropped, drop_REASON, ...), as dlbactl counters shows it
//   /dlba/table     the bucket table: size, version, assigned/unassigned, assignments, buckets per node
//   /dlba/role      node, role, lease, table version
//
// The callbacks run on DPDK's telemetry thread. They read the control plane the way the control socket does: by
// asking it for the same tables, under the same lock the control thread holds while it answers a request, so the
// telemetry thread never sees the control plane half-way through a change. The data plane is never touched.
#pragma once

#include <mutex>

namespace dlba::sched {

class ControlPlane;

// Registers the commands (once per process) and points them at `control`, guarded by `lock`.
void telemetry_attach(ControlPlane& control, std::mutex& lock);
// Before `control` goes away: the commands answer "not running" from then on.
void telemetry_detach();

}  // namespace dlba::sched
