// Chooses the back end for one request of a service, per the service's policy (cookie persistence, URL session id,
// consistent URL hash, least connections, response time). Pure: it reads the request's target and headers and a
// snapshot of the service's back ends that the caller fills in, and returns an index. Every node with the same
// configuration and the same view of which back ends are up decides the same for the cookie, session-id and hash
// policies; nothing here keeps state between requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/backends_section.hpp"
#include "config/services_section.hpp"
#include "http/consistent_hash.hpp"
#include "http/syntax.hpp"

namespace dlba::server {

// What the policies look at in a request.
struct RequestKeys {
    std::string_view target;
    std::span<const http::Header> headers;  // Cookie headers are read from here (there may be several)
    // tls_session: whether the request came over TLS (only a TLS session can be bound), and the back-end key its
    // session is bound to ("" when none).
    bool tls = false;
    std::string_view tls_bound_key;
    // A valid stateful-URI pin (policy/pin.hpp): the back end it names takes the request whatever the policy, if it
    // can take requests that name it.
    std::optional<size_t> pinned;
};

// The service's back ends as the caller sees them now, one entry per back end in the service's order. A back end
// the request has already failed on is passed as unusable, so a retry goes elsewhere.
struct Candidates {
    std::span<const bool> usable_new;     // may take requests that do not name it
    std::span<const bool> usable_sticky;  // may take requests that name it (cookie, URL session id): drain included
    std::span<const uint32_t> active;     // requests in flight
    std::span<const uint32_t> weight;     // in force now: the operator's weight x the load agent's percentage
    std::span<const double> average_ms;   // response-time average; negative when not known yet
};

// Why a back end was chosen (counted, and logged with each request).
enum class ChoiceReason : uint8_t {
    none,             // no back end can take the request: answer 503
    cookie,           // the injected cookie named it
    cookie_rerouted,  // the injected cookie named a back end that cannot take it; the client gets the new key
    session_id,       // the URL session id hashed to it
    url_hash,         // the request target hashed to it
    least_conn,
    response_time,
    queue,            // QoS: it waited, and this was the first back end of the service with a free slot
    tls_session,      // the request's TLS session is bound to it (a secure path of a tls_session service)
    round_robin,      // its weighted turn
    pin,              // the request's stateful-URI pin named it (policy/pin.hpp)
};
const char* choice_reason_name(ChoiceReason r);

// What a tls_session choice does to the session's binding.
enum class TlsBind : uint8_t {
    keep,    // nothing (bound already to the chosen back end, or not a secure request)
    bind,    // the first secure request of the session: bind it to the chosen back end
    rebind,  // the bound back end cannot take it: bind it to the chosen one instead
};

struct Choice {
    std::optional<size_t> index;  // into the service's back ends
    ChoiceReason reason = ChoiceReason::none;
    // The response must set the injected cookie to the chosen back end's key even if it does not start a session,
    // because the client's cookie named a back end that could not take the request.
    bool force_cookie = false;
    TlsBind tls_bind = TlsBind::keep;
};

// Whether `target` is one of the service's secure transactions (a prefix of tls_session_paths; none = all).
bool is_secure_path(const ServiceConfig& service, std::string_view target);

class Balancer {
public:
    // `backends` is the whole array's back-end list; the service's entries index it.
    Balancer(const ServiceConfig& service, const std::vector<BackendConfig>& backends);

    const ServiceConfig& service() const { return service_; }
    size_t size() const { return keys_.size(); }
    const std::string& key(size_t index) const { return keys_[index]; }
    // Position in the array's back-end list of the service's back end `index`.
    size_t backend_index(size_t index) const { return service_.backends[index]; }

    // `rotation` breaks ties among equally loaded back ends (the caller passes a counter), so they share the work.
    Choice choose(const RequestKeys& request, const Candidates& candidates, uint32_t rotation) const;
    // tls_session under TLS 1.2: the back end a session is bound to in its handshake, before any request, by the
    // fallback's rule (a url_hash fallback has no target yet: least connections).
    std::optional<size_t> choose_unbound(const Candidates& candidates, uint32_t rotation) const;
    // The service's back end with key `key`, if it has one.
    std::optional<size_t> find_key(std::string_view key) const;

private:
    Choice by_load_or_hash(BalancePolicy policy, const RequestKeys& request, const Candidates& c,
                           uint32_t rotation) const;
    std::optional<size_t> least_loaded(const Candidates& c, uint32_t rotation, bool use_time) const;
    std::optional<size_t> weighted_turn(const Candidates& c, uint32_t rotation) const;

    ServiceConfig service_;
    std::vector<std::string> keys_;
    http::ConsistentHash hash_;
};

}  // namespace dlba::server
