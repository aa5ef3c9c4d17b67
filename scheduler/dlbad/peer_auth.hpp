// dlbad's side of peer authentication (common/auth): the signer (this node's number, the first peer key) and one
// guard per port it listens or asks on, each owned by the thread of that job. Their drop counters are shown in the
// failover table (`dlbactl failover`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/peer_guard.hpp"
#include "auth/signer.hpp"
#include "config/array_config.hpp"

namespace dlba::dlbad {

struct PeerAuth {
    PeerAuth(const ArrayConfig& config, uint16_t node);

    auth::Signer signer;
    auth::PeerGuard heartbeats;       // the failover loop's thread
    auth::PeerGuard config_requests;  // the config port's thread
    auth::PeerGuard sweep_answers;    // the status sweep's thread
    auth::PeerGuard status_requests;  // the prototype status daemon's thread
    const size_t keys;
    const std::vector<std::string> key_ids;  // auth::key_id of each key, the signing one first
    const bool insecure;
};

// "auth.*" facts for a table's meta: keys, insecure, drops per reason (all ports), the last drop.
void add_auth_meta(const PeerAuth& a, nlohmann::json& meta);

}  // namespace dlba::dlbad
