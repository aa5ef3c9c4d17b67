// QoS admission rules that the back-end exchange applies (net/backend_exchange_qos.cpp), kept pure here.
#pragma once

#include <cstdint>

#include "policy/balancer.hpp"

namespace dlba::server {

// A request the policy sent to one particular back end waits for that back end when it is full; any other waits
// for whichever back end of its service frees a slot first. A request of a TLS session bound to a back end
// (policy tls_session) waits for that back end like a cookie's.
constexpr bool binds_backend(ChoiceReason r) {
    return r == ChoiceReason::cookie || r == ChoiceReason::session_id || r == ChoiceReason::tls_session ||
           r == ChoiceReason::pin;
}

// The Retry-After of a 503 from the queue: the queue timeout rounded up to whole seconds, at least 1.
constexpr uint32_t retry_after_seconds(uint32_t queue_timeout_ms) {
    return queue_timeout_ms < 1000 ? 1 : (queue_timeout_ms + 999) / 1000;
}

}  // namespace dlba::server
