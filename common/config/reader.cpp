#include "config/reader.hpp"

#include <algorithm>

namespace dlba {

void ConfigReader::refuse(const libconfig::Setting& at, const std::string& reason) const {
    const char* file = at.getSourceFile();
    throw ConfigRefusal{{file ? file : name_, static_cast<int>(at.getSourceLine()), reason}};
}

std::string ConfigReader::path_of(const libconfig::Setting& s) {
    const std::string p = s.getPath();
    return p.empty() ? "(top level)" : p;
}

void ConfigReader::only_keys(const libconfig::Setting& group, std::initializer_list<std::string_view> known) const {
    for (int i = 0; i < group.getLength(); ++i) {
        const libconfig::Setting& child = group[i];
        const char* key = child.getName();
        if (!key) continue;
        if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
            refuse(child, "unknown setting '" + std::string(key) + "' in " + path_of(group));
        }
    }
}

const libconfig::Setting& ConfigReader::group(const libconfig::Setting& parent, const char* key, bool required) const {
    if (!parent.exists(key)) {
        if (required) refuse(parent, "missing group '" + std::string(key) + "' in " + path_of(parent));
        return parent;
    }
    const libconfig::Setting& s = parent[key];
    if (!s.isGroup()) refuse(s, "'" + s.getPath() + "' must be a group { ... }");
    return s;
}

int64_t ConfigReader::integer(const libconfig::Setting& parent, const char* key, std::optional<int64_t> fallback,
                              int64_t lo, int64_t hi) const {
    if (!parent.exists(key)) {
        if (!fallback) refuse(parent, "missing setting '" + std::string(key) + "' in " + path_of(parent));
        return *fallback;
    }
    const libconfig::Setting& s = parent[key];
    int64_t v = 0;
    if (s.getType() == libconfig::Setting::TypeInt) {
        v = static_cast<int>(s);
    } else if (s.getType() == libconfig::Setting::TypeInt64) {
        v = static_cast<long long>(s);
    } else {
        refuse(s, "'" + s.getPath() + "' must be an integer");
    }
    if (v < lo || v > hi) {
        refuse(s, "'" + s.getPath() + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    }
    return v;
}

std::string ConfigReader::text(const libconfig::Setting& parent, const char* key,
                               std::optional<std::string> fallback) const {
    if (!parent.exists(key)) {
        if (!fallback) refuse(parent, "missing setting '" + std::string(key) + "' in " + path_of(parent));
        return *fallback;
    }
    const libconfig::Setting& s = parent[key];
    if (s.getType() != libconfig::Setting::TypeString) refuse(s, "'" + s.getPath() + "' must be a string");
    return static_cast<const char*>(s);
}

bool ConfigReader::boolean(const libconfig::Setting& parent, const char* key, bool fallback) const {
    if (!parent.exists(key)) return fallback;
    const libconfig::Setting& s = parent[key];
    if (s.getType() != libconfig::Setting::TypeBoolean) refuse(s, "'" + s.getPath() + "' must be true or false");
    return static_cast<bool>(s);
}

double ConfigReader::real(const libconfig::Setting& parent, const char* key, double fallback, double lo,
                          double hi) const {
    if (!parent.exists(key)) return fallback;
    const libconfig::Setting& s = parent[key];
    double v = 0;
    if (s.getType() == libconfig::Setting::TypeFloat) {
        v = static_cast<double>(s);
    } else if (s.getType() == libconfig::Setting::TypeInt || s.getType() == libconfig::Setting::TypeInt64) {
        v = static_cast<double>(static_cast<long long>(s));
    } else {
        refuse(s, "'" + s.getPath() + "' must be a number");
    }
    if (!(v >= lo && v <= hi)) {
        refuse(s, "'" + s.getPath() + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    }
    return v;
}

uint32_t ConfigReader::ipv4(const libconfig::Setting& parent, const char* key) const {
    const std::string t = text(parent, key, std::nullopt);
    const auto ip = parse_ipv4(t);
    if (!ip) refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + t + "\" is not an IPv4 address");
    return *ip;
}

uint32_t ConfigReader::host_ipv4(const libconfig::Setting& parent, const char* key) const {
    const uint32_t ip = ipv4(parent, key);
    if ((ip >> 24) == 0 || (ip >> 28) >= 0xe) {
        refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + format_ipv4(ip) +
                                "\" must be a unicast host address (not 0.0.0.0/8, multicast or reserved)");
    }
    return ip;
}

MacAddr ConfigReader::mac(const libconfig::Setting& parent, const char* key) const {
    const std::string t = text(parent, key, std::nullopt);
    const auto m = MacAddr::parse(t);
    if (!m) {
        refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + t + "\" is not a MAC address (aa:bb:cc:dd:ee:ff)");
    }
    if (m->is_zero() || (m->bytes[0] & 1)) {
        refuse(parent[key], "'" + parent[key].getPath() + "' must be a unicast, non-zero MAC address");
    }
    return *m;
}

std::vector<uint16_t> ConfigReader::ports(const libconfig::Setting& parent, const char* key) const {
    std::vector<uint16_t> out;
    if (!parent.exists(key)) return out;
    const libconfig::Setting& s = parent[key];
    if (!s.isArray() && !s.isList()) refuse(s, "'" + s.getPath() + "' must be an array of ports [80, 443]");
    for (int i = 0; i < s.getLength(); ++i) {
        const libconfig::Setting& p = s[i];
        if (p.getType() != libconfig::Setting::TypeInt) refuse(p, "'" + s.getPath() + "' holds a non-integer");
        const int v = p;
        if (v < 1 || v > 65535) {
            refuse(p, "port " + std::to_string(v) + " in '" + s.getPath() + "' is out of range [1, 65535]");
        }
        if (std::find(out.begin(), out.end(), v) != out.end()) {
            refuse(p, "port " + std::to_string(v) + " appears twice in '" + s.getPath() + "'");
        }
        out.push_back(static_cast<uint16_t>(v));
    }
    return out;
}

}  // namespace dlba
