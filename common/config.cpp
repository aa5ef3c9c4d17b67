#include "config.hpp"

#include <libconfig.h++>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

namespace dlba {

namespace {

// Thrown inside the loader only, turned into a ConfigError at the public boundary.
struct Refusal {
    ConfigError error;
};

class Loader {
public:
    explicit Loader(std::string name) : name_(std::move(name)) {}

    [[noreturn]] void refuse(const libconfig::Setting& at, const std::string& reason) const {
        const char* file = at.getSourceFile();
        throw Refusal{{file ? file : name_, static_cast<int>(at.getSourceLine()), reason}};
    }

    static std::string path_of(const libconfig::Setting& s) {
        const std::string p = s.getPath();
        return p.empty() ? "(top level)" : p;
    }

    // Every setting in a group must be one we know: a misspelt key must not silently fall back to a default.
    void only_keys(const libconfig::Setting& group, std::initializer_list<std::string_view> known) const {
        for (int i = 0; i < group.getLength(); ++i) {
            const libconfig::Setting& child = group[i];
            const char* key = child.getName();
            if (!key) continue;
            if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
                refuse(child, "unknown setting '" + std::string(key) + "' in " + path_of(group));
            }
        }
    }

    const libconfig::Setting& group(const libconfig::Setting& parent, const char* key, bool required) const {
        if (!parent.exists(key)) {
            if (required) refuse(parent, "missing group '" + std::string(key) + "' in " + path_of(parent));
            return parent;  // caller checks exists() before using optional groups
        }
        const libconfig::Setting& s = parent[key];
        if (!s.isGroup()) refuse(s, "'" + s.getPath() + "' must be a group { ... }");
        return s;
    }

    int64_t integer(const libconfig::Setting& parent, const char* key, std::optional<int64_t> fallback, int64_t lo,
                    int64_t hi) const {
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
            refuse(s, "'" + s.getPath() + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "]");
        }
        return v;
    }

    std::string text(const libconfig::Setting& parent, const char* key, std::optional<std::string> fallback) const {
        if (!parent.exists(key)) {
            if (!fallback) refuse(parent, "missing setting '" + std::string(key) + "' in " + path_of(parent));
            return *fallback;
        }
        const libconfig::Setting& s = parent[key];
        if (s.getType() != libconfig::Setting::TypeString) refuse(s, "'" + s.getPath() + "' must be a string");
        return static_cast<const char*>(s);
    }

    bool boolean(const libconfig::Setting& parent, const char* key, bool fallback) const {
        if (!parent.exists(key)) return fallback;
        const libconfig::Setting& s = parent[key];
        if (s.getType() != libconfig::Setting::TypeBoolean) refuse(s, "'" + s.getPath() + "' must be true or false");
        return static_cast<bool>(s);
    }

    uint32_t ipv4(const libconfig::Setting& parent, const char* key) const {
        const std::string t = text(parent, key, std::nullopt);
        const auto ip = parse_ipv4(t);
        if (!ip) refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + t + "\" is not an IPv4 address");
        return *ip;
    }

    MacAddr mac(const libconfig::Setting& parent, const char* key) const {
        const std::string t = text(parent, key, std::nullopt);
        const auto m = MacAddr::parse(t);
        if (!m) refuse(parent[key], "'" + parent[key].getPath() + "' = \"" + t + "\" is not a MAC address (aa:bb:cc:dd:ee:ff)");
        if (m->is_zero() || (m->bytes[0] & 1)) {
            refuse(parent[key], "'" + parent[key].getPath() + "' must be a unicast, non-zero MAC address");
        }
        return *m;
    }

    std::vector<uint16_t> ports(const libconfig::Setting& parent, const char* key) const {
        std::vector<uint16_t> out;
        if (!parent.exists(key)) return out;
        const libconfig::Setting& s = parent[key];
        if (!s.isArray() && !s.isList()) refuse(s, "'" + s.getPath() + "' must be an array of ports [80, 443]");
        for (int i = 0; i < s.getLength(); ++i) {
            const libconfig::Setting& p = s[i];
            if (p.getType() != libconfig::Setting::TypeInt) refuse(p, "'" + s.getPath() + "' holds a non-integer");
            const int v = p;
            if (v < 1 || v > 65535) refuse(p, "port " + std::to_string(v) + " in '" + s.getPath() + "' is out of range [1, 65535]");
            if (std::find(out.begin(), out.end(), v) != out.end()) {
                refuse(p, "port " + std::to_string(v) + " appears twice in '" + s.getPath() + "'");
            }
            out.push_back(static_cast<uint16_t>(v));
        }
        return out;
    }

    ArrayConfig load(const libconfig::Config& cfg) const {
        ArrayConfig out;
        const libconfig::Setting& root = cfg.getRoot();
        // Sections later parts of the array add are listed here as they arrive, so a typo is still refused.
        only_keys(root, {"array", "scheduler", "nodes"});

        const libconfig::Setting& array = group(root, "array", true);
        only_keys(array, {"name", "vip", "tcp_ports", "udp_ports"});
        out.name = text(array, "name", std::string("dlba"));
        out.vip = ipv4(array, "vip");
        out.tcp_ports = ports(array, "tcp_ports");
        out.udp_ports = ports(array, "udp_ports");
        if (out.tcp_ports.empty() && out.udp_ports.empty()) {
            refuse(array, "'array' needs at least one port in tcp_ports or udp_ports");
        }

        load_scheduler(root, out.scheduler);
        load_nodes(root, out);
        return out;
    }

    void load_scheduler(const libconfig::Setting& root, SchedulerConfig& sc) const {
        if (!root.exists("scheduler")) return;
        const libconfig::Setting& s = group(root, "scheduler", false);
        only_keys(s, {"table_size", "hash", "hash_seed", "bucket_idle_timeout", "control_socket", "idle_poll",
                      "gratuitous_arp", "fragments"});
        sc.table_size = static_cast<uint32_t>(integer(s, "table_size", sc.table_size, 1024, 1 << 26));
        const std::string hash = text(s, "hash", std::string(hash_kind_name(sc.hash)));
        const auto kind = parse_hash_kind(hash);
        if (!kind) refuse(s["hash"], "'scheduler.hash' = \"" + hash + "\" is not one of \"mix\", \"seed_sum\"");
        sc.hash = *kind;
        sc.hash_seed = static_cast<uint64_t>(integer(s, "hash_seed", static_cast<int64_t>(sc.hash_seed & INT64_MAX), 0, INT64_MAX));
        sc.bucket_idle_timeout_s = static_cast<uint32_t>(integer(s, "bucket_idle_timeout", sc.bucket_idle_timeout_s, 1, 86400 * 7));
        sc.control_socket = text(s, "control_socket", sc.control_socket);
        if (sc.control_socket.empty() || sc.control_socket.size() >= 108) {
            refuse(s, "'scheduler.control_socket' must be a path of 1..107 characters");
        }
        if (s.exists("idle_poll")) {
            const libconfig::Setting& p = group(s, "idle_poll", false);
            only_keys(p, {"spin_polls", "sleep_min_us", "sleep_max_us"});
            sc.idle_poll.spin_polls = static_cast<uint32_t>(integer(p, "spin_polls", sc.idle_poll.spin_polls, 0, 1 << 30));
            sc.idle_poll.sleep_min_us = static_cast<uint32_t>(integer(p, "sleep_min_us", sc.idle_poll.sleep_min_us, 0, 100000));
            sc.idle_poll.sleep_max_us = static_cast<uint32_t>(integer(p, "sleep_max_us", sc.idle_poll.sleep_max_us, 0, 100000));
            if (sc.idle_poll.sleep_max_us < sc.idle_poll.sleep_min_us) {
                refuse(p, "'scheduler.idle_poll.sleep_max_us' is below sleep_min_us");
            }
        }
        if (s.exists("gratuitous_arp")) {
            const libconfig::Setting& g = group(s, "gratuitous_arp", false);
            only_keys(g, {"count", "interval_ms"});
            sc.garp_count = static_cast<uint32_t>(integer(g, "count", sc.garp_count, 0, 100));
            sc.garp_interval_ms = static_cast<uint32_t>(integer(g, "interval_ms", sc.garp_interval_ms, 1, 60000));
        }
        if (s.exists("fragments")) {
            const libconfig::Setting& f = group(s, "fragments", false);
            only_keys(f, {"table_size", "timeout_ms"});
            sc.fragment_table_size = static_cast<uint32_t>(integer(f, "table_size", sc.fragment_table_size, 16, 1 << 22));
            sc.fragment_timeout_ms = static_cast<uint32_t>(integer(f, "timeout_ms", sc.fragment_timeout_ms, 1, 60000));
        }
    }

    void load_nodes(const libconfig::Setting& root, ArrayConfig& out) const {
        if (!root.exists("nodes")) refuse(root, "missing list 'nodes' (one entry per array node)");
        const libconfig::Setting& list = root["nodes"];
        if (!list.isList()) refuse(list, "'nodes' must be a list ( {...}, {...} )");
        if (list.getLength() == 0) refuse(list, "'nodes' is empty");
        std::set<uint16_t> numbers;
        std::set<uint32_t> ips;
        std::set<std::string> macs;
        for (int i = 0; i < list.getLength(); ++i) {
            const libconfig::Setting& n = list[i];
            if (!n.isGroup()) refuse(n, "each entry of 'nodes' must be a group { number = ...; ... }");
            only_keys(n, {"number", "eth0_mac", "eth0_ip", "sched_mac", "sched_ip", "weight", "enabled"});
            NodeConfig node;
            node.number = static_cast<uint16_t>(integer(n, "number", std::nullopt, 1, 255));
            node.eth0_mac = mac(n, "eth0_mac");
            node.eth0_ip = ipv4(n, "eth0_ip");
            node.sched_mac = mac(n, "sched_mac");
            node.sched_ip = ipv4(n, "sched_ip");
            node.weight = static_cast<uint32_t>(integer(n, "weight", 1, 0, 1000000));
            node.enabled = boolean(n, "enabled", true);
            if (!numbers.insert(node.number).second) refuse(n, "node number " + std::to_string(node.number) + " is used twice");
            for (const uint32_t ip : {node.eth0_ip, node.sched_ip}) {
                if (ip == out.vip) refuse(n, "node " + std::to_string(node.number) + " uses the VIP as its own address");
                if (!ips.insert(ip).second) refuse(n, "address " + format_ipv4(ip) + " is used twice among the nodes");
            }
            for (const MacAddr& m : {node.eth0_mac, node.sched_mac}) {
                if (!macs.insert(m.str()).second) refuse(n, "MAC " + m.str() + " is used twice among the nodes");
            }
            out.nodes.push_back(node);
        }
    }

private:
    std::string name_;
};

ConfigResult run(const std::string& name, const std::function<void(libconfig::Config&)>& read) {
    libconfig::Config cfg;
    cfg.setAutoConvert(true);  // accept 300 where an int64 is expected, and the like
    try {
        read(cfg);
    } catch (const libconfig::FileIOException&) {
        return ConfigError{name, 0, "cannot read the file"};
    } catch (const libconfig::ParseException& e) {
        return ConfigError{e.getFile() ? e.getFile() : name, e.getLine(), std::string("syntax error: ") + e.getError()};
    }
    try {
        ArrayConfig out = Loader(name).load(cfg);
        out.source = name;
        return out;
    } catch (const Refusal& r) {
        return r.error;
    } catch (const libconfig::SettingException& e) {
        return ConfigError{name, 0, std::string("bad setting '") + e.getPath() + "'"};
    }
}

}  // namespace

const NodeConfig* ArrayConfig::node(uint16_t number) const {
    for (const NodeConfig& n : nodes) {
        if (n.number == number) return &n;
    }
    return nullptr;
}

std::string ConfigError::str() const {
    std::ostringstream os;
    os << file;
    if (line > 0) os << ':' << line;
    os << ": " << reason;
    return os.str();
}

ConfigResult load_config(const std::string& path) {
    return run(path, [&](libconfig::Config& cfg) { cfg.readFile(path.c_str()); });
}

ConfigResult parse_config(const std::string& text, const std::string& name) {
    return run(name, [&](libconfig::Config& cfg) { cfg.readString(text); });
}

}  // namespace dlba
