// Which requests may go on an idle pooled back-end connection: HAProxy's `http-reuse safe` rule.
//
// An idle connection may have been closed by the back end just as the request is sent (its keep-alive timeout
// racing ours): the request then meets an empty answer or a reset, and nobody can tell whether the back end acted
// on it. Only a request that is safe to send again may take that risk, because the proxy sends it again (on a fresh
// connection, not held against the back end, see BackendExchange::backend_failed). So a request with a body or a
// non-idempotent method (POST, PATCH, CONNECT, an unknown one) never goes first on a pooled connection: it opens
// its own.
//
// A prewarmed connection that has not carried a request yet counts as pooled here. HAProxy has no prewarm; its
// "safe" mode lets a connection's first request be any request only because that connection was opened for it.
// A prewarmed one was opened ahead of demand and has waited idle since, so the back end may close it at its own
// timeout (nginx's client_header_timeout, 60 s, for a connection that never sent a request) exactly like a reused
// one: it carries the same race, and gets the same rule.
//
// After a non-replayable request has been answered in full its connection is as good as any and may be pooled:
// the rule is about which request goes *first* on a connection that already waited.
#pragma once

#include <string_view>

#include "http/request_parser.hpp"

namespace dlba::server {

// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
constexpr bool idempotent_method(std::string_view method) {
    for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
        if (method == m) return true;
    }
    return false;
}

// May be sent again after an empty answer or a reset: no body and an idempotent method.
constexpr bool replayable_request(http::BodyFraming framing, std::string_view method) {
    return framing == http::BodyFraming::none && idempotent_method(method);
}

// May go first on an idle pooled connection (reused, or prewarmed and never used): only a replayable request.
constexpr bool may_take_idle_connection(bool replayable) { return replayable; }

}  // namespace dlba::server
