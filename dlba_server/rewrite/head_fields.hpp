// The pieces both rebuilt heads are made of (the request the back end sees, the response the client sees): which
// fields stop at this hop, one field line, a number in text.
#pragma once

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/syntax.hpp"

namespace dlba::server {

// True for the fields RFC 9110 §7.6.1 says a proxy must not forward, plus the framing fields this proxy writes
// itself. Case-insensitive.
bool is_hop_by_hop(std::string_view name);

// Inline: called for every field of every head, from both writers.

// A field named by a Connection header of this message is hop-by-hop too (RFC 9110 §7.6.1).
inline bool named_by_connection(std::string_view name, std::span<const http::Header> headers) {
    for (const http::Header& h : headers) {
        if (http::iequals(h.name, "connection") && http::list_contains(h.value, name)) return true;
    }
    return false;
}

// "<name>: <value>\r\n"
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

// `value` in decimal (or another base), without allocating.
inline void append_number(std::string& out, uint64_t value, int base = 10) {
    char buf[24];  // 2^64 in decimal is 20 digits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, base);
    (void)ec;
    out.append(buf, end);
}

}  // namespace dlba::server
