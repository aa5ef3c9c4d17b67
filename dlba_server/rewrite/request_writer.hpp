// The request head the back end sees: rebuilt from the parsed head, never copied from the client's bytes, so the
// back end reads exactly the framing this proxy validated.
//
//   - request line: method, target, HTTP/1.1 (the version this proxy speaks to back ends)
//   - hop-by-hop fields dropped (Connection and every field it names, Keep-Alive, Proxy-Connection, TE, Trailer,
//     Transfer-Encoding, Upgrade); Content-Length / Transfer-Encoding written again from the parsed framing
//     (a chunked body is re-chunked as it streams)
//   - the injected persistence cookie removed from Cookie when the service says so (the application never sees it),
//     and the pin cookie of a service with a pin, always
//   - X-Forwarded-For / X-Forwarded-Proto and/or Forwarded appended, per the server's `forwarded` setting
//   - Host added for an HTTP/1.0 request that had none (the back end gets HTTP/1.1, where Host is required)
//   - Connection: close unless the back-end connection is to be kept for the idle pool; for an upgrade the service
//     passes on, "Upgrade: <the allowed protocols>" and "Connection: Upgrade" instead
#pragma once

#include <string>
#include <string_view>

#include "config/server_section.hpp"
#include "http/request_parser.hpp"
#include "rewrite/head_fields.hpp"

namespace dlba::server {

struct ForwardContext {
    ForwardedHeader forwarded = ForwardedHeader::x_forwarded_for;
    std::string_view client_ip;     // the peer of the client connection, "192.0.2.7"
    bool tls = false;               // the client came in over TLS (proto=https)
    std::string_view strip_cookie;  // cookie name to remove from Cookie; empty: leave Cookie alone
    std::string_view strip_pin;     // and another: the service's stateful-URI pin cookie (policy/pin.hpp)
    bool keep_alive = false;        // ask the back end to keep the connection open (idle pool)
    std::string_view default_host;  // Host for a request that has none (the listener's address:port)
    std::string_view upgrade;       // the Upgrade offer passed on ("websocket"); empty: none (the client's dropped)
};

// Appends the head (request line, fields, empty line) to `out`. `scratch` is working space for the rebuilt Cookie
// header; both keep their capacity between calls, so a warmed-up connection does not allocate.
void write_request_head(const http::RequestHead& head, const ForwardContext& ctx, std::string& out,
                        std::string& scratch);

// Re-frames decoded body bytes of a chunked request: appends "<size hex>\r\n<data>\r\n".
void append_chunk(std::string& out, std::string_view data);
// The last chunk of a chunked request (no trailer fields: they were checked and dropped).
void append_last_chunk(std::string& out);

}  // namespace dlba::server
