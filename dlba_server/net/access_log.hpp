// The access log: one line per request, buffered per worker and written in batches.
//
//   2024-05-01T12:00:00Z 192.0.2.7:51234 h1 "GET /index.html" 200 5120 web1 3ms least_conn [attempts=2]
//
// time (UTC, seconds), client address:port, the client's protocol (h1 or h2), method and target (at most 1024 bytes of it), status, bytes sent to
// the client, back end key ("-" when none was chosen), duration, why that back end; attempts when more than one;
// bad_response when the back end's answer broke the framing rules; `class=N queue_ms=M` when the service uses QoS
// (a back end with max_inflight, or class rules); for an upgraded connection (status 101), one line when its tunnel
// ends: `tunnel up=N down=N end=REASON` (bytes client -> back end, back end -> client after the 101, why it ended;
// the bytes field counts the 101's head and the tunnel's bytes to the client, the duration runs to the end); last,
// on a listener with routes, `route=N` (the route's place in the listener's list, from 1), `route=default` (the
// listener's own service) or `route=N,overflow` (the route's overflow service took it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/balancer.hpp"

namespace dlba::server {

struct AccessLogEntry {
    int64_t unix_s = 0;  // when the request ended (wall clock)
    std::string_view client_ip;
    uint16_t client_port = 0;
    std::string_view proto = "h1";  // HTTP/1.x or h2 (net/h2_connection.hpp)
    std::string_view method;
    std::string_view target;
    uint16_t status = 0;
    uint64_t bytes = 0;  // to the client
    std::string_view backend = "-";  // key; "-" when none was chosen
    int64_t duration_ms = 0;
    ChoiceReason reason = ChoiceReason::none;
    unsigned attempts = 0;
    bool bad_response = false;
    bool redirect = false;  // answered with a redirect (a redirect service): the line ends in " redirect"
    int qos_class = -1;    // QoS: the request's class (0..7) when its service classifies; -1 = not shown
    int64_t queue_ms = 0;  // QoS: how long it waited for a slot
    bool tunnel = false;   // an upgraded connection (101): the tunnel's figures follow
    uint64_t tunnel_up = 0, tunnel_down = 0;
    std::string_view tunnel_end;  // net/tunnel.hpp, tunnel_end_name
    // A listener with routes: which took the request, " route=N" (1-based, in the listener's list) or
    // " route=default" (the listener's own service), ",overflow" when the route's overflow service took it.
    int route = -2;  // -2 = not shown (no routes); -1 = default; else the route's index
    bool overflow = false;
};

// Appends the entry's line to `out`, without the newline.
void format_access_line(const AccessLogEntry& e, std::string& out);

// One per worker. Lines go to the file of the generation in force (set_file at each adoption), so lines buffered
// before a reload go to the file that reload opened (the rotated one). One write per batch: with O_APPEND the lines
// of different workers never interleave mid-line.
class AccessLog {
public:
    static constexpr size_t kFlushBytes = 32 * 1024;

    bool enabled() const { return fd_ >= 0; }
    void set_file(int fd) { fd_ = fd; }  // -1: no access log
    void write(const AccessLogEntry& e) {
        if (!enabled()) return;
        format_access_line(e, buffer_);
        buffer_ += '\n';
        if (buffer_.size() > kFlushBytes) flush();
    }
    void flush();  // at every timer scan and when the worker stops

private:
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace dlba::server
