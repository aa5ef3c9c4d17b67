#include "rewrite/response_writer.hpp"

#include "http/cookie.hpp"
#include "rewrite/head_fields.hpp"

namespace dlba::server {

using http::iequals;

void write_response_head(const http::ResponseHead& head, const ResponseContext& ctx,
                         const std::vector<std::string>& extra_set_cookies, std::string& out) {
    out += "HTTP/1.1 ";
    append_number(out, head.status);
    out += ' ';
    out += head.reason.empty() ? std::string_view(status_reason(head.status)) : head.reason;
    out += "\r\n";
    const bool switching = head.switching_protocols();
    const bool no_framing_fields = head.informational() || switching || head.status == 204;
    const bool send_coding = !no_framing_fields && !ctx.dechunk && ctx.client_minor == 1;
    for (const http::Header& h : head.headers) {
        // The framing fields describe the body as sent (see the header), so they are decided here, never dropped by
        // is_hop_by_hop (which lists them because requests get fresh ones) or by a Connection field naming them.
        if (iequals(h.name, "content-length")) {
            if (!no_framing_fields && !ctx.rewritten) append_field(out, h.name, h.value);
            continue;
        }
        if (iequals(h.name, "transfer-encoding")) {
            if (send_coding && !ctx.rewritten) append_field(out, h.name, h.value);  // rewritten: only chunked
            continue;
        }
        if (ctx.rewritten && iequals(h.name, "etag") && !h.value.empty() && h.value.front() == '"') {
            // Not the same bytes any more: at most semantically equivalent (RFC 9110 §8.8.1).
            out += h.name;
            out += ": W/";
            out += h.value;
            out += "\r\n";
            continue;
        }
        // A 101 names the protocol the connection switches to: its Upgrade field is for the client (RFC 9110 §7.8).
        if (switching && iequals(h.name, "upgrade")) {
            append_field(out, h.name, h.value);
            continue;
        }
        if (is_hop_by_hop(h.name) || named_by_connection(h.name, head.headers)) continue;
        append_field(out, h.name, h.value);
    }
    if ((ctx.rechunk || ctx.rewritten) && send_coding) append_field(out, "Transfer-Encoding", "chunked");
    for (const std::string& c : extra_set_cookies) append_field(out, "Set-Cookie", c);
    if (!ctx.pin_cookie.empty()) append_field(out, "Set-Cookie", ctx.pin_cookie);
    if (switching) {
        out += "Connection: Upgrade\r\n";
    } else if (head.informational()) {
        // 100 Continue and friends: no Connection field; the final response carries it.
    } else if (ctx.close) {
        out += "Connection: close\r\n";
    } else if (ctx.client_minor == 0) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
}

void cookie_injections(const http::ResponseHead& head, std::string_view session_cookie,
                       std::string_view inject_cookie, std::string_view backend_key, bool force, int64_t now,
                       std::vector<std::string>& out) {
    // A response has few Set-Cookie fields; a small fixed array keeps this free of allocation.
    constexpr size_t kMax = 32;
    std::string_view set_cookies[kMax];
    size_t n = 0;
    for (const http::Header& h : head.headers) {
        if (n < kMax && iequals(h.name, "set-cookie")) set_cookies[n++] = h.value;
    }
    const http::CookieInjection injection{session_cookie, inject_cookie};
    const size_t added = http::inject_server_cookie({set_cookies, n}, injection, backend_key, now, out);
    if (added == 0 && force && http::is_cookie_name(inject_cookie) && http::is_cookie_value(backend_key)) {
        std::string s;
        s.reserve(inject_cookie.size() + backend_key.size() + 9);
        s += inject_cookie;
        s += '=';
        s += backend_key;
        s += "; Path=/";
        out.push_back(std::move(s));
    }
}

const char* status_reason(uint16_t status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}

void write_error_response(uint16_t status, bool close, std::string& out, uint32_t retry_after_s) {
    const std::string_view reason = status_reason(status);
    out += "HTTP/1.1 ";
    append_number(out, status);
    out += ' ';
    out += reason;
    out += "\r\nContent-Type: text/plain\r\nContent-Length: ";
    append_number(out, reason.size() + 1);
    out += "\r\nCache-Control: no-store\r\n";
    if (retry_after_s != 0) {
        out += "Retry-After: ";
        append_number(out, retry_after_s);
        out += "\r\n";
    }
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    out += reason;
    out += '\n';
}

}  // namespace dlba::server
