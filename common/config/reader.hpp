// The libconfig look-ups every section's parser shares: typed values with defaults and ranges, unknown-key checks,
// and the refusal that names file:line. Internal to common/config: no header outside this folder includes it.
#pragma once

#include <libconfig.h++>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "net_types.hpp"

namespace dlba {

// Thrown by ConfigReader::refuse only, and caught at the loader's entry point (config.cpp), which returns the error.
struct ConfigRefusal {
    ConfigError error;
};

class ConfigReader {
public:
    explicit ConfigReader(std::string name) : name_(std::move(name)) {}

    [[noreturn]] void refuse(const libconfig::Setting& at, const std::string& reason) const;
    static std::string path_of(const libconfig::Setting& s);  // "(top level)" for the root

    // Every setting in a group must be one we know: a misspelt key must not silently fall back to a default.
    void only_keys(const libconfig::Setting& group, std::initializer_list<std::string_view> known) const;
    // An absent optional group returns `parent`: callers check exists() first.
    const libconfig::Setting& group(const libconfig::Setting& parent, const char* key, bool required) const;

    // Without a fallback the setting is required.
    int64_t integer(const libconfig::Setting& parent, const char* key, std::optional<int64_t> fallback, int64_t lo,
                    int64_t hi) const;
    std::string text(const libconfig::Setting& parent, const char* key, std::optional<std::string> fallback) const;
    bool boolean(const libconfig::Setting& parent, const char* key, bool fallback) const;
    double real(const libconfig::Setting& parent, const char* key, double fallback, double lo, double hi) const;
    uint32_t ipv4(const libconfig::Setting& parent, const char* key) const;  // required
    // Required, and an address a host can own: not in 0.0.0.0/8 ("this network"), multicast 224.0.0.0/4 or
    // reserved 240.0.0.0/4 (which holds the broadcast address).
    uint32_t host_ipv4(const libconfig::Setting& parent, const char* key) const;
    MacAddr mac(const libconfig::Setting& parent, const char* key) const;    // required, unicast, non-zero
    std::vector<uint16_t> ports(const libconfig::Setting& parent, const char* key) const;  // absent: none

    // One of a fixed set of words; `names` lists them in the enum's order.
    template <class Enum>
    Enum choice(const libconfig::Setting& parent, const char* key, Enum fallback,
                std::span<const std::string_view> names) const {
        if (!parent.exists(key)) return fallback;
        const std::string v = text(parent, key, std::nullopt);
        int i = 0;
        for (std::string_view n : names) {
            if (v == n) return static_cast<Enum>(i);
            ++i;
        }
        std::string list;
        for (std::string_view n : names) list += (list.empty() ? "\"" : ", \"") + std::string(n) + "\"";
        refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + v + "\" is not one of " + list);
    }

private:
    std::string name_;  // the file, for settings libconfig does not know the source of
};

}  // namespace dlba
