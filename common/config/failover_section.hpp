// The 'failover' section: the node daemon (dlbad): liveness, election, table sync, status sweep, config port.
#pragma once

#include <cstdint>
#include <string>

#include "auth/keys.hpp"
#include "config/load_section.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

// Ports are on each node's eth0 IP.
struct FailoverConfig {
    uint16_t sync_port = 7101;           // TCP: standby schedulers pull the bucket map from the active
    uint32_t sync_interval_ms = 100;
    uint32_t journal_size = 65536;       // changes kept for delta sync
    uint16_t heartbeat_port = 7102;      // UDP: dlbad heartbeats
    uint32_t heartbeat_interval_ms = 50;
    uint32_t dead_after_ms = 250;        // a peer silent this long is gone
    uint32_t probe_misses = 4;           // missed data-plane probes (one per heartbeat interval) before takeover
    uint16_t status_port = 7103;         // TCP: the status daemon answers the sweep
    uint16_t config_port = 7104;         // TCP: `dlbactl config push` prepares and commits a new file here
    uint32_t sweep_delay_ms = 1000;      // pause after each status sweep
    uint32_t sweep_timeout_ms = 300;     // per attempt
    uint32_t sweep_retries = 2;          // further attempts before a node is marked failed
    std::string monitor_socket = "/run/dlba/dlbad.sock";
    // dlbad keeps the operator's admin state here (in/out of service, weights; node drain/weight) and replays it to
    // a restarted server or scheduler. "%n" stands for the node number (nodes sharing one file system).
    std::string admin_state_file = "/var/lib/dlba/admin.state";
    // Peer authentication (common/auth): every peer message is signed with the first key and verified with any.
    auth::KeyRing peer_keys;
    bool insecure = false;               // no keys: the daemons start only when this says so explicitly
    uint32_t replay_window_ms = 10000;   // how far a signed message's clock may be from ours
    LoadConfig load;                     // the load in the heartbeat, two-threshold steering (config/load_section)

    // The keys the peer messages are signed and verified with: peer_keys, or the public insecure ring.
    auth::KeyRing ring() const { return peer_keys.empty() ? auth::insecure_ring() : peer_keys; }
    // Why a daemon must not start on this section ("" when it may): no keys and not explicitly insecure.
    std::string auth_problem() const;
};

// The section is optional: absent, every default applies.
FailoverConfig read_failover_section(const ConfigReader& in, const libconfig::Setting& root);

}  // namespace dlba
