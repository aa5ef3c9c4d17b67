// The server's self-diagnosis for the status sweep (seed 004, issue 13): a node none of whose listeners' services
// has a usable back end cannot serve, and says so (healthy: false and the reason); the sweep then fails the node
// as if it had not answered, and it is live again once it reports healthy.
//
// Usable: the back end may take a new request now (BackendState::usable_for_new: in service, weight, not marked
// down after a connect failure, its active check and load agent passing). A back end marked down after a failed
// connect is tried again once its down interval passes; configure an active check (backends[].check) for a verdict
// that does not wait for a client's request.
#pragma once

#include <cstdint>
#include <string>

#include "net/shared.hpp"

namespace dlba::server {

struct Diagnosis {
    bool healthy = true;
    std::string reason;  // "" when healthy
};

Diagnosis diagnose(const Generation& gen, int64_t now_ms);

}  // namespace dlba::server
