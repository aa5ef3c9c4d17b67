#include "rewrite/request_writer.hpp"

#include <charconv>

#include "http/cookie.hpp"

namespace dlba::server {

using http::iequals;

bool is_hop_by_hop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                               "upgrade", "content-length"}) {
        if (iequals(name, h)) return true;
    }
    return false;
}

namespace {

// A field named by a Connection header of this message is hop-by-hop too (RFC 9110 §7.6.1).
bool named_by_connection(std::string_view name, std::span<const http::Header> headers) {
    for (const http::Header& h : headers) {
        if (iequals(h.name, "connection") && http::list_contains(h.value, name)) return true;
    }
    return false;
}

void field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

void append_decimal(std::string& out, uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

}  // namespace

void write_request_head(const http::RequestHead& head, const ForwardContext& ctx, std::string& out,
                        std::string& scratch) {
    out += head.method;
    out += ' ';
    out += head.target;
    out += " HTTP/1.1\r\n";

    const bool xff = ctx.forwarded == ForwardedHeader::x_forwarded_for || ctx.forwarded == ForwardedHeader::both;
    const bool fwd = ctx.forwarded == ForwardedHeader::forwarded || ctx.forwarded == ForwardedHeader::both;
    bool has_host = false, xff_done = false, fwd_done = false;
    const std::string_view proto = ctx.tls ? "https" : "http";

    for (const http::Header& h : head.headers) {
        if (is_hop_by_hop(h.name) || named_by_connection(h.name, head.headers)) continue;
        if (iequals(h.name, "host")) has_host = true;
        if (!ctx.strip_cookie.empty() && iequals(h.name, "cookie")) {
            if (http::remove_cookie(h.value, ctx.strip_cookie, scratch) > 0) {
                if (!scratch.empty()) field(out, h.name, scratch);
                continue;
            }
        }
        if (xff && iequals(h.name, "x-forwarded-proto")) continue;  // ours says how the client reached us
        if (xff && !xff_done && iequals(h.name, "x-forwarded-for")) {
            // Appended to the first one, so the chain stays in one field as most back ends expect.
            out += h.name;
            out += ": ";
            out += h.value;
            out += ", ";
            out += ctx.client_ip;
            out += "\r\n";
            xff_done = true;
            continue;
        }
        if (fwd && !fwd_done && iequals(h.name, "forwarded")) {
            out += h.name;
            out += ": ";
            out += h.value;
            out += ", for=";
            out += ctx.client_ip;
            out += ";proto=";
            out += proto;
            out += "\r\n";
            fwd_done = true;
            continue;
        }
        field(out, h.name, h.value);
    }
    if (!has_host) {
        field(out, "Host", head.host.empty() ? ctx.default_host : head.host);
    }
    if (xff && !xff_done) field(out, "X-Forwarded-For", ctx.client_ip);
    if (xff) field(out, "X-Forwarded-Proto", proto);
    if (fwd && !fwd_done) {
        out += "Forwarded: for=";
        out += ctx.client_ip;
        out += ";proto=";
        out += proto;
        out += "\r\n";
    }
    switch (head.framing) {
        case http::BodyFraming::content_length:
            out += "Content-Length: ";
            append_decimal(out, head.content_length);
            out += "\r\n";
            break;
        case http::BodyFraming::chunked: out += "Transfer-Encoding: chunked\r\n"; break;
        case http::BodyFraming::none:
        case http::BodyFraming::until_close: break;  // requests are never close-delimited
    }
    if (!ctx.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;  // an empty chunk would end the body
    char buf[20];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, data.size(), 16);
    (void)ec;
    out.append(buf, end);
    out += "\r\n";
    out += data;
    out += "\r\n";
}

void append_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

}  // namespace dlba::server
