// What every peer port's guard (common/auth/peer_guard.hpp) needs from the array's configuration: the keys, each
// node's eth0 address, the replay window.
#pragma once

#include "auth/peer_guard.hpp"
#include "config/array_config.hpp"

namespace dlba {

inline auth::GuardSettings peer_guard_settings(const ArrayConfig& c) {
    auth::GuardSettings s;
    s.ring = c.failover.ring();
    for (const NodeConfig& n : c.nodes) s.nodes[n.number] = n.eth0_ip;
    s.window_us = static_cast<uint64_t>(c.failover.replay_window_ms) * 1000;
    return s;
}

}  // namespace dlba
