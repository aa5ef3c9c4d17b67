// Counters of one worker thread. Each worker writes only its own (plain load + store, no locked instruction on the
// request path); the monitor thread sums the workers when asked. The per-back-end counters live in each
// BackendState (one slot per worker), so that they follow the back end across configuration reloads.
#pragma once

#include "counter.hpp"

namespace dlba::server {

struct WorkerStats {
    Counter connections_open;  // gauge: add on accept, sub on close
    Counter connections_accepted;
    Counter connections_refused;  // over max_connections
    Counter connections_refused_per_ip;  // over limits.max_connections_per_ip (the client's address had that many)
    Counter requests;             // request heads parsed
    Counter responses[6];         // by class: [1]=1xx .. [5]=5xx, counted when the head is sent
    Counter local_errors;         // answers the proxy made itself (400, 408, 413, 414, 431, 501, 502, 503, 504, 505)
    Counter no_backend;           // 503: no back end could take the request
    Counter retries;              // requests sent again to another back end (or a fresh connection)
    Counter aborted;              // client connections cut after response bytes had been sent
    Counter header_timeouts;      // 408 for a slow head (or a TLS handshake that never finished)
    Counter handshake_timeouts;   // TLS handshakes not done within timeouts.handshake_ms (closed)
    Counter idle_timeouts;
    Counter bytes_in;             // from clients (after TLS)
    Counter bytes_out;            // to clients (before TLS)
    Counter tls_handshakes;
    Counter tls_resumed;
    Counter tls_handshake_failures;
    Counter cdn_rewritten;  // answers of a cdn service streamed through the HTML rewriter
    Counter cdn_passed;     // answers of a cdn service passed untouched (not HTML, compressed, no body)
    Counter cdn_urls;       // URLs rewritten to the CDN host
    // HTTP/2 (net/h2_connection.hpp)
    Counter h2_connections;      // connections that spoke h2 (ALPN h2, or h2c with prior knowledge)
    Counter h2_streams;          // streams opened by clients (each one request)
    Counter h2_resets_received;  // RST_STREAM from clients
    Counter h2_resets_sent;      // RST_STREAM to clients (refused, malformed, aborted streams)
    Counter h2_limit_streams;    // streams refused over http2.max_concurrent_streams
    Counter h2_limit_headers;    // request heads over http2.max_header_list_bytes (or the field count): 431
    Counter h2_limit_flood;      // connections closed for a flood: acks, resets, CONTINUATION, empty DATA frames
    Counter h2_protocol_errors;  // connections closed for another protocol error
    Counter tunnels;           // upgraded connections (101 relayed, net/tunnel.hpp)
    Counter tunnels_open;      // gauge: ... open now
    Counter upgrades_ignored;  // requests offering only protocols the service does not pass on (served plainly)
    // Stateful-URI pins (policy/pin.hpp), counted when the answer's head goes to the client
    Counter pins_set;       // answers that pinned a client that had no valid pin (or a broken one)
    Counter pins_followed;  // requests that went to the back end their pin named
    Counter pins_broken;    // requests whose pinned back end could not take them (re-pinned elsewhere)
    Counter pins_invalid;   // requests with a pin cookie that is not valid (tampered, cut, unknown): as if none
    Counter pins_cleared;   // exit requests that carried a pin, answered with its deletion
};

}  // namespace dlba::server
