// The response head the client sees: rebuilt from the scanned back-end head (the scanner tolerates things a client
// should not be sent, so the raw bytes are never passed on), with cookie injection for the persistent-cookie policy.
// Also the proxy's own answers (400, 408, 502, 503, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/response_scanner.hpp"

namespace dlba::server {

struct ResponseContext {
    uint8_t client_minor = 1;  // the client's HTTP/1.<minor>
    bool close = false;        // the client connection closes after this response
    bool dechunk = false;      // the body is sent decoded and close-delimited (a chunked body to an HTTP/1.0 client)
    bool rechunk = false;      // a close-delimited, transfer-coded body ("gzip") is sent chunked to the client
    bool rewritten = false;    // the body is rewritten (CDN URLs): no Content-Length; chunked to an HTTP/1.1
                               // client, close-delimited to HTTP/1.0; a strong ETag is weakened (W/)
    std::string_view pin_cookie;  // a Set-Cookie value of the service's pin (policy/pin.hpp), after the others
};

// Appends the head to `out`: "HTTP/1.1 <status> <reason>", the back end's fields minus hop-by-hop ones (Connection
// and what it names, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade), then `extra_set_cookies` and the pin's
// cookie as Set-Cookie fields, then our Connection field.
//
// The framing fields say exactly how the body the client gets is delimited, whatever Connection names: Content-Length
// as received (the scanner checked it; HEAD and 304 answers carry the length of what a GET would get);
// Transfer-Encoding as received, with "chunked" added when rechunk, and none to an HTTP/1.0 client or when dechunk;
// neither on 1xx and 204 answers, which must not have them (RFC 9110 §8.6, RFC 9112 §6.1) and have no body.
// A 101 (Switching Protocols) keeps its Upgrade field and says "Connection: Upgrade".
void write_response_head(const http::ResponseHead& head, const ResponseContext& ctx,
                         const std::vector<std::string>& extra_set_cookies, std::string& out);

// Cookie injection for one response of a cookie-policy service. Appends to `out` the Set-Cookie values for the
// injected cookie: one per Set-Cookie of the session cookie in the response (same attributes; an empty value when
// the session cookie is deleted), or, when none and `force` (the request was rerouted away from the back end its
// cookie named), a bare "<inject>=<key>; Path=/" so the client sticks to the new back end from now on.
void cookie_injections(const http::ResponseHead& head, std::string_view session_cookie,
                       std::string_view inject_cookie, std::string_view backend_key, bool force, int64_t now,
                       std::vector<std::string>& out);

// A complete response of the proxy's own: status line, a short text body, Content-Length, and Connection: close
// when `close`; Retry-After when `retry_after_s` is not 0 (QoS: a 503 from the queue). The reason phrase comes
// from the status.
void write_error_response(uint16_t status, bool close, std::string& out, uint32_t retry_after_s = 0);
const char* status_reason(uint16_t status);

}  // namespace dlba::server
