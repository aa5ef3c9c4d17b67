// The 'services' list: which back ends serve a listener, and the policy that picks one for each request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/backends_section.hpp"
#include "config/cdn_section.hpp"
#include "config/pin_section.hpp"
#include "config/qos_section.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

// How a service picks a back end for a request.
enum class BalancePolicy : uint8_t {
    cookie,         // persistent cookie: SpServer=<back-end key>, injected next to the session cookie
    url_session,    // a session id in the URL, consistently hashed (every node decides the same)
    url_hash,       // consistent hash of the request target (caches stay hot)
    least_conn,     // fewest open connections relative to weight
    response_time,  // lowest average response time (EWMA) times load, relative to weight
    tls_session,    // a TLS session's secure requests to one back end, the binding carried in its session ticket
    round_robin,    // weighted turns: over every sum-of-weights requests, each back end gets its weight's share
};
const char* balance_policy_name(BalancePolicy p);

// What a service does with a request: proxy it to the chosen back end, or answer it with a redirect to the chosen
// back end's URL (seed 002's HTTP redirection; config/redirect_section.hpp).
enum class ServiceMode : uint8_t { proxy, redirect };

enum class SessionIdPlace : uint8_t { query, path };  // "?sid=ABC" or ";jsessionid=ABC"

struct ServiceConfig {
    std::string name;
    std::vector<size_t> backends;  // indexes into ServerSections::backends
    BalancePolicy policy = BalancePolicy::least_conn;
    BalancePolicy fallback = BalancePolicy::least_conn;  // requests without a (valid) cookie, session id or binding
    std::string session_cookie;                         // cookie policy: the application's session cookie
    std::string inject_cookie = "SpServer";
    bool strip_injected = true;  // remove the injected cookie from Cookie before forwarding
    std::string url_session_param;
    SessionIdPlace url_session_in = SessionIdPlace::query;
    // tls_session: request-path prefixes of the "secure transactions" bound to the session's back end; empty =
    // every request. Other requests are balanced one by one by the fallback.
    std::vector<std::string> tls_session_paths;
    int policy_line = 0;  // where 'policy' was set (0: not set), so a later section can name it
    double hash_bound_load = 0;  // url hashing with bounded loads: c >= 1, 0 = off
    uint32_t retries = 2;        // further back ends tried after a failed connect
    uint32_t down_interval_ms = 5000;  // a back end marked down is tried again after this long
    uint32_t pool_idle_per_backend = 0;  // idle back-end connections kept per back end (per worker), 0 = none
    uint32_t pool_idle_timeout_ms = 10000;
    // Idle connections per back end (per worker) opened ahead of demand and kept past the idle timeout, 0 = none;
    // at most pool_idle_per_backend.
    uint32_t pool_prewarm = 0;
    ServiceQosConfig qos;  // queue and priority classes (config/qos_section.hpp)
    ServiceMode mode = ServiceMode::proxy;
    uint16_t redirect_code = 302;  // 301, 302, 303, 307 or 308
    bool redirect_close = false;   // close the client connection after a redirect
    CdnConfig cdn;         // CDN URL rewriting of HTML answers (config/cdn_section.hpp)
    // HTTP/1.1 Upgrade protocols passed on to the back end (then tunnelled after its 101); other offers are dropped
    // and the request served as a plain one (http/upgrade.hpp). Empty: no upgrade at all.
    std::vector<std::string> upgrade_protocols{"websocket"};
    PinConfig pin;  // stateful-URI pinning (config/pin_section.hpp)
};

// The list is optional: absent, no services. A service names its back ends by key, so `backends` is read first.
std::vector<ServiceConfig> read_services_section(const ConfigReader& in, const libconfig::Setting& root,
                                                 const std::vector<BackendConfig>& backends);

}  // namespace dlba
