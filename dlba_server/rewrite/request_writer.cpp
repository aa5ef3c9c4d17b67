#include "rewrite/request_writer.hpp"

#include "http/cookie.hpp"

namespace dlba::server {

using http::iequals;

namespace {

// This hop's element of a Forwarded list (RFC 7239): "for=192.0.2.7;proto=https".
void append_forwarded_element(std::string& out, std::string_view client_ip, std::string_view proto) {
    out += "for=";
    out += client_ip;
    out += ";proto=";
    out += proto;
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
        if ((!ctx.strip_cookie.empty() || !ctx.strip_pin.empty()) && iequals(h.name, "cookie")) {
            if (http::remove_cookies(h.value, {ctx.strip_cookie, ctx.strip_pin}, scratch) > 0) {
                if (!scratch.empty()) append_field(out, h.name, scratch);
                continue;
            }
        }
        if (xff && iequals(h.name, "x-forwarded-proto")) continue;  // ours says how the client reached us
        // Ours is appended to the first X-Forwarded-For (or Forwarded) field, so the chain stays in one field as
        // most back ends expect.
        const bool extend_xff = xff && !xff_done && iequals(h.name, "x-forwarded-for");
        const bool extend_fwd = fwd && !fwd_done && iequals(h.name, "forwarded");
        if (extend_xff || extend_fwd) {
            out += h.name;
            out += ": ";
            out += h.value;
            out += ", ";
            if (extend_xff) {
                out += ctx.client_ip;
                xff_done = true;
            } else {
                append_forwarded_element(out, ctx.client_ip, proto);
                fwd_done = true;
            }
            out += "\r\n";
            continue;
        }
        append_field(out, h.name, h.value);
    }
    if (!has_host) {
        append_field(out, "Host", head.host.empty() ? ctx.default_host : head.host);
    }
    if (xff && !xff_done) append_field(out, "X-Forwarded-For", ctx.client_ip);
    if (xff) append_field(out, "X-Forwarded-Proto", proto);
    if (fwd && !fwd_done) {
        out += "Forwarded: ";
        append_forwarded_element(out, ctx.client_ip, proto);
        out += "\r\n";
    }
    switch (head.framing) {
        case http::BodyFraming::content_length:
            out += "Content-Length: ";
            append_number(out, head.content_length);
            out += "\r\n";
            break;
        case http::BodyFraming::chunked: out += "Transfer-Encoding: chunked\r\n"; break;
        case http::BodyFraming::none:
        case http::BodyFraming::until_close: break;  // requests are never close-delimited
    }
    if (!ctx.upgrade.empty()) {
        // The protocols the service passes on (http/upgrade.hpp): the back end may switch to one of them. Not
        // "close" beside it: a switched connection has no HTTP close; an answer without a switch ends as framed.
        append_field(out, "Upgrade", ctx.upgrade);
        out += "Connection: Upgrade\r\n";
    } else if (!ctx.keep_alive) {
        out += "Connection: close\r\n";
    }
    out += "\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;  // an empty chunk would end the body
    append_number(out, data.size(), 16);
    out += "\r\n";
    out += data;
    out += "\r\n";
}

void append_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

}  // namespace dlba::server
