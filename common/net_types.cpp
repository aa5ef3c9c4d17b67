#include "net_types.hpp"

#include <charconv>
#include <cstdio>

#include "hex.hpp"

namespace dlba {

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
    // Exactly six two-digit hex groups separated by ':' (the form `ip link` prints).
    if (text.size() != 17) return std::nullopt;
    MacAddr mac;
    for (size_t i = 0; i < 6; ++i) {
        const size_t at = i * 3;
        if (i > 0 && text[at - 1] != ':') return std::nullopt;
        const int hi = hex_digit_value(text[at]);
        const int lo = hex_digit_value(text[at + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        mac.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return mac;
}

std::string MacAddr::str() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                  bytes[4], bytes[5]);
    return buf;
}

std::optional<uint32_t> parse_ipv4(std::string_view text) {
    uint32_t ip = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
        // Decimal only, no leading zeros beyond "0" itself: "010" is ambiguous (octal in inet_aton).
        if (p == end || *p < '0' || *p > '9') return std::nullopt;
        if (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9') return std::nullopt;
        unsigned value = 0;
        auto [next, ec] = std::from_chars(p, end, value);
        if (ec != std::errc{} || value > 255) return std::nullopt;
        ip = ip << 8 | value;
        p = next;
    }
    if (p != end) return std::nullopt;
    return ip;
}

std::string format_ipv4(uint32_t ip) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

}  // namespace dlba
