// The 'server' section: the DLBA server's listeners, workers, timeouts, limits, forwarding header and access log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/routes_section.hpp"
#include "config/services_section.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

// Which forwarding header the server adds for the back end (the client's address, the protocol, the host).
enum class ForwardedHeader : uint8_t { x_forwarded_for, forwarded, both, none };
const char* forwarded_header_name(ForwardedHeader f);

struct ListenerConfig {
    uint32_t address = 0;  // IPv4, host order; defaults to the array's VIP
    uint16_t port = 0;
    bool tls = false;
    bool http2 = false;    // offer h2 (TLS: by ALPN; plain: h2c with prior knowledge); default: tls
    std::string service;   // name of the service whose back ends serve this listener
    size_t service_index = 0;
    std::vector<RouteConfig> routes;  // URI-dedicated services, first match wins (config/routes_section.hpp)
};

struct ServerTimeouts {
    uint32_t header_ms = 10000;            // first byte of a request (or accept) to the end of its head; 408 after
    uint32_t handshake_ms = 5000;          // accept to the end of the TLS handshake; the connection is closed after
    uint32_t idle_ms = 60000;              // keep-alive: no byte of a next request for this long closes
    uint32_t body_ms = 30000;              // request body inactivity; also a client not reading the response
    uint32_t backend_connect_ms = 3000;    // connect() to a back end; then it is marked down and another tried
    uint32_t backend_response_ms = 60000;  // back end silent this long once it has the request: 504 or close
    uint32_t shutdown_ms = 10000;          // SIGTERM: in-flight requests get this long to finish
    uint32_t tunnel_ms = 3600000;          // an upgraded connection (WebSocket) with no byte either way: closed
};

struct ServerLimits {
    uint32_t max_header_bytes = 32768;  // header section (431 above)
    uint32_t max_header_count = 100;    // header fields (431 above)
    uint32_t max_uri_bytes = 8192;      // request target (414 above)
    uint64_t max_body_bytes = 0;        // request body, 0 = unlimited (413 above)
    uint32_t max_connections_per_ip = 0;  // client connections open at once from one IPv4 address, 0 = no limit
};

// HTTP/2 toward clients (listener option http2): the limits of each connection.
struct Http2Limits {
    uint32_t max_concurrent_streams = 100;
    uint32_t max_header_list_bytes = 65536;  // SETTINGS_MAX_HEADER_LIST_SIZE; a larger request head answers 431
    uint32_t initial_window_bytes = 65535;   // per stream, request bodies buffered before the back end takes them
    uint32_t reset_burst = 1000;             // client RST_STREAM token bucket (rapid reset, CVE-2023-44487)
    uint32_t reset_rate = 33;                //   tokens per second
    uint32_t max_queued_acks = 1000;         // SETTINGS/PING acks and resets queued unsent: more is a flood
    uint32_t max_settings_entries = 32;      // per SETTINGS frame
    uint32_t max_continuations = 8;          // CONTINUATION frames per header block (CVE-2024-28182)
    uint32_t max_empty_frames = 100;         // empty DATA frames without END_STREAM per connection
};

struct ServerConfig {
    std::vector<ListenerConfig> listeners;
    uint32_t workers = 0;  // worker threads, 0 = one per online core
    std::string monitor_socket = "/run/dlba/server.sock";
    uint32_t max_connections = 10000;  // client connections open at once in this process
    ServerTimeouts timeouts;
    ServerLimits limits;
    Http2Limits http2;
    ForwardedHeader forwarded = ForwardedHeader::x_forwarded_for;
    std::string access_log;  // "" = off, "stderr", or a file path (appended)
};

// The section is optional (nullopt when absent). Read last: a listener defaults to the array's `vip`, names one of
// `services`, and may be TLS only when the file has a 'tls' section (`have_tls`).
std::optional<ServerConfig> read_server_section(const ConfigReader& in, const libconfig::Setting& root, uint32_t vip,
                                                const std::vector<ServiceConfig>& services, bool have_tls);

}  // namespace dlba
