// Addresses as plain values: parsing and printing for MAC and IPv4, shared by the config, the data plane and the CLI.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dlba {

struct MacAddr {
    std::array<uint8_t, 6> bytes{};

    static std::optional<MacAddr> parse(std::string_view text);
    std::string str() const;
    bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
    friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

// IPv4 addresses are held in host byte order everywhere outside the wire bytes.
std::optional<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t ip);

}  // namespace dlba
