// The scheduler's control plane: the authoritative copy of what operators asked for (role, node admin state,
// failed flags, weights), the request handler behind the control socket, and read-only views of the data plane.
// It never writes the bucket table: every change goes to the data plane as a Command.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bucket_table.hpp"
#include "clock.hpp"
#include "config/array_config.hpp"
#include "dataplane/command_queue.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/direct_ips.hpp"
#include "control/table_sync.hpp"
#include "io/table_format.hpp"
#include "protocol/node_status.hpp"
#include "protocol/request.hpp"

namespace dlba::sched {

struct NodeState {
    NodeConfig config;
    NodeAdmin admin = NodeAdmin::enabled;
    bool failed = false;
    uint32_t weight = 1;
    proto::NodeFigures figures;  // from the status sweep (dlbad); not known until then
    std::optional<uint32_t> load_pct;  // from the active's dlbad (load steering); not known until then
    bool steered = false;              // steered away from new and idle buckets (load steering)
};

// The monotonic clock in milliseconds the lease runs on (injected in tests).
using MonotonicMs = std::function<uint64_t()>;

class ControlPlane {
public:
    ControlPlane(const ArrayConfig& config, uint16_t self, const MacAddr& port_mac, const BucketTable& table,
                 const CounterArray& counters, CommandQueue& commands, const std::atomic<bool>& active,
                 TableSync& sync, MonotonicMs now_ms = clock::monotonic_ms);

    // One request line in, one dlba-table or dlba-reply JSON document out (the requests: proto::Daemon::scheduler).
    std::string handle(std::string_view request);
    // Re-reads the configuration file (request "reload", or SIGHUP). A file with errors, or one that changes what
    // cannot change while running, is refused and the running configuration stays.
    std::string reload();
    // Whether the file at `path` could be reloaded now (request "check-reload PATH"), without applying it.
    std::string check_reload(const std::string& path) const;

    // The active role's lease: dlbad takes the role with "role active lease MS" and renews it every heartbeat round
    // ("renew"). When the renewals stop (dlbad died, hung, or lost its host's CPU for longer than its peers wait),
    // the scheduler turns standby by itself: its peers, no longer hearing that dlbad, elect another active, and an
    // orphan still answering for the VIP would split the traffic. An operator's plain "role active" has no lease.
    // Called from the control thread's loop; returns the log line when the lease ran out, else "".
    std::string expire_lease();

    // The data plane's direct-IP slots, for the status table (main() sets it before serving requests).
    void watch_direct_ips(const DirectIps* direct) { direct_ = direct; }

    io::Table status_table() const;
    // `all`: one page of assigned buckets from bucket `from` on; meta.next_bucket says where the next page starts.
    static constexpr size_t kHashPageRows = 65536;
    io::Table hash_table(bool all, uint32_t from = 0) const;
    io::Table counters_table() const;

private:
    std::string set_role(bool active, uint32_t lease_ms);
    std::string renew_lease();
    std::string node_request(const proto::Request& request);
    std::string sync_from(uint16_t number);
    NodeState* find_node(uint16_t number);

    ArrayConfig config_;  // the running configuration
    uint16_t self_;
    MacAddr port_mac_;
    const BucketTable& table_;
    const CounterArray& counters_;
    CommandQueue& commands_;
    const std::atomic<bool>& active_;
    TableSync& sync_;
    std::vector<NodeState> nodes_;
    uint64_t last_sweep_unix_ = 0;
    uint32_t lease_ms_ = 0;          // 0: the role has no lease
    uint64_t lease_until_ms_ = 0;    // monotonic
    MonotonicMs now_ms_;
    const DirectIps* direct_ = nullptr;
};

}  // namespace dlba::sched
