#include "rewrite/head_fields.hpp"

#include <charconv>

namespace dlba::server {

using http::iequals;

bool is_hop_by_hop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                               "upgrade", "content-length"}) {
        if (iequals(name, h)) return true;
    }
    return false;
}

bool named_by_connection(std::string_view name, std::span<const http::Header> headers) {
    for (const http::Header& h : headers) {
        if (iequals(h.name, "connection") && http::list_contains(h.value, name)) return true;
    }
    return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

void append_number(std::string& out, uint64_t value, int base) {
    char buf[24];  // 2^64 in decimal is 20 digits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, base);
    (void)ec;
    out.append(buf, end);
}

}  // namespace dlba::server
