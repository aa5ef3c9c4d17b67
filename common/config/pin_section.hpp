// services[].pin: stateful-URI pinning (seed 004's "never move a stateful transaction until its exit URI"). A
// request whose path lies below one of `entry` without a valid pin cookie is balanced by the service's policy and
// its answer pins the client to the back end that served it (cookie `cookie` = "<back-end key>.<tag>"); requests
// below an entry with a valid pin go to that back end whatever the policy; the answer to an `exit` request deletes
// the cookie. The server's side is dlba_server/policy/pin.hpp.
//
// Patterns are compared with the request's raw path (the target up to '?' or '#'), case-sensitively, never
// decoded: "/banking/logout" is that path exactly, "/banking/*" every path that begins with "/banking/".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct PinPattern {
    std::string text;     // as written: "/banking/*"
    std::string literal;  // without the trailing '*': "/banking/"
    bool prefix = false;  // ended in '*'
    int line = 0;         // where it was written

    bool matches(std::string_view path) const {
        return prefix ? path.substr(0, literal.size()) == literal : path == literal;
    }
    // The cookie's Path for a pin taken below this entry: its directory ("/banking/" for "/banking/*" and for
    // "/banking/start"; "/" for "/bank*").
    std::string_view directory() const {
        const std::string_view l = literal;
        return l.substr(0, l.rfind('/') + 1);
    }
};

struct PinConfig {
    bool enabled = false;
    std::vector<PinPattern> entry;  // at least one
    std::vector<PinPattern> exit;   // may be empty: pins then end with their Max-Age only
    std::string cookie = "SpPin";
    uint32_t max_age_s = 1800;
    // The HMAC key of the cookie's tag: `secret` (64 hex digits) when set, else derived by the server (README,
    // "Stateful-URI pinning").
    std::optional<std::array<uint8_t, 32>> secret;
};

inline constexpr size_t kMaxPinPatterns = 32;

// Absent: not enabled. Patterns must begin with '/', hold no '%', "..", '?', '#', space or control, have '*' only as
// their last character, and every exit must lie below some entry; max_age_s in 1..31536000 (a year). The cookie
// name and the checks against the service's other settings are the caller's (config/services_section.cpp).
PinConfig read_service_pin(const ConfigReader& in, const libconfig::Setting& service);

}  // namespace dlba
