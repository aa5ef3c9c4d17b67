// The status daemon of the prototype (plain web servers on the VIP, no DLBA server): answers the active scheduler's
// status sweep (TCP on failover.status_port, one answer per connection) with a node-status table, when something
// accepts on the VIP's first port. An unhealthy node closes without answering: to the sweep that is the same as a
// dead one. With a DLBA server the server answers the sweep itself, and this daemon does not run.
#pragma once

#include <cstdint>
#include <string>

#include "config/array_config.hpp"
#include "peer_auth.hpp"
#include "tcp_service.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

// The answer, "" when the VIP's port does not accept.
std::string prototype_status_answer(uint16_t node, uint64_t unix_now, bool vip_accepts);

class StatusDaemon {
public:
    // Requests are checked by auth.status_requests, answers sealed by auth.signer (bound to the request).
    StatusDaemon(const ArrayConfig& config, const NodeConfig& self, const TimeSource& time, PeerAuth& auth);

    bool open(std::string* err);
    void start();  // its own thread
    void request_stop() { service_.request_stop(); }
    void join() { service_.join(); }

private:
    const ArrayConfig& config_;
    const NodeConfig& self_;
    const TimeSource& time_;
    PeerAuth& auth_;
    TcpService service_;
};

}  // namespace dlba::dlbad
