#include "config.hpp"

#include <libconfig.h++>

#include <algorithm>
#include <cctype>
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
        only_keys(root, {"array", "scheduler", "failover", "nodes", "server", "tls", "backends", "services"});

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
        load_failover(root, out.failover);
        load_nodes(root, out);
        // The DLBA server's sections, in dependency order whatever their order in the file.
        load_backends(root, out);
        load_services(root, out);
        load_tls(root, out);
        load_server(root, out);
        return out;
    }

    double real(const libconfig::Setting& parent, const char* key, double fallback, double lo, double hi) const {
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
            refuse(s, "'" + s.getPath() + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "]");
        }
        return v;
    }

    // One of a fixed set of words; `names` lists them in the enum's order.
    template <class Enum>
    Enum choice(const libconfig::Setting& parent, const char* key, Enum fallback,
                std::initializer_list<std::string_view> names) const {
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

    static bool is_cookie_octets(std::string_view v) {
        return !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
            const auto c = static_cast<unsigned char>(ch);
            return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
        });
    }

    static bool is_token(std::string_view v) {
        return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        });
    }

    // A back-end key: written `key = 10;` or `key = "web-a";`. It travels in a cookie, so cookie octets only.
    std::string backend_key(const libconfig::Setting& s) const {
        std::string k;
        if (s.getType() == libconfig::Setting::TypeInt || s.getType() == libconfig::Setting::TypeInt64) {
            const long long v = s;
            if (v < 0) refuse(s, "'" + s.getPath() + "' must not be negative");
            k = std::to_string(v);
        } else if (s.getType() == libconfig::Setting::TypeString) {
            k = static_cast<const char*>(s);
        } else {
            refuse(s, "'" + s.getPath() + "' must be a string or an integer");
        }
        if (k.size() > 64 || !is_cookie_octets(k)) {
            refuse(s, "back-end key '" + k + "' must be 1..64 cookie characters (no space, quote, comma, ';' or '\\')");
        }
        return k;
    }

    void load_backends(const libconfig::Setting& root, ArrayConfig& out) const {
        if (!root.exists("backends")) return;
        const libconfig::Setting& list = root["backends"];
        if (!list.isList()) refuse(list, "'backends' must be a list ( {...}, {...} )");
        std::set<std::string> keys;
        std::set<std::pair<uint32_t, uint16_t>> endpoints;
        for (int i = 0; i < list.getLength(); ++i) {
            const libconfig::Setting& b = list[i];
            if (!b.isGroup()) refuse(b, "each entry of 'backends' must be a group { key = ...; address = ...; }");
            only_keys(b, {"key", "address", "port", "weight", "enabled"});
            BackendConfig be;
            if (!b.exists("key")) refuse(b, "missing setting 'key' in " + path_of(b));
            be.key = backend_key(b["key"]);
            be.address = ipv4(b, "address");
            be.port = static_cast<uint16_t>(integer(b, "port", 80, 1, 65535));
            be.weight = static_cast<uint32_t>(integer(b, "weight", 1, 0, 1000000));
            be.enabled = boolean(b, "enabled", true);
            if (!keys.insert(be.key).second) refuse(b, "back-end key '" + be.key + "' is used twice");
            if (!endpoints.insert({be.address, be.port}).second) {
                refuse(b, "back end " + format_ipv4(be.address) + ":" + std::to_string(be.port) + " is listed twice");
            }
            out.backends.push_back(std::move(be));
        }
    }

    void load_services(const libconfig::Setting& root, ArrayConfig& out) const {
        if (!root.exists("services")) return;
        const libconfig::Setting& list = root["services"];
        if (!list.isList()) refuse(list, "'services' must be a list ( {...}, {...} )");
        std::set<std::string> names;
        for (int i = 0; i < list.getLength(); ++i) {
            const libconfig::Setting& g = list[i];
            if (!g.isGroup()) refuse(g, "each entry of 'services' must be a group { name = ...; backends = [...]; }");
            only_keys(g, {"name", "backends", "policy", "fallback", "session_cookie", "inject_cookie",
                          "strip_injected", "url_session_param", "url_session_in", "hash_bound_load", "retries",
                          "down_interval_ms", "pool"});
            ServiceConfig sv;
            sv.name = text(g, "name", std::nullopt);
            if (!is_token(sv.name)) refuse(g["name"], "service name '" + sv.name + "' must be a non-empty token");
            if (!names.insert(sv.name).second) refuse(g, "service name '" + sv.name + "' is used twice");

            if (!g.exists("backends")) refuse(g, "missing setting 'backends' in " + path_of(g));
            const libconfig::Setting& bl = g["backends"];
            if (!bl.isArray() && !bl.isList()) refuse(bl, "'" + bl.getPath() + "' must be a list of back-end keys");
            if (bl.getLength() == 0) refuse(bl, "'" + bl.getPath() + "' is empty");
            for (int j = 0; j < bl.getLength(); ++j) {
                const std::string k = backend_key(bl[j]);
                size_t index = out.backends.size();
                for (size_t b = 0; b < out.backends.size(); ++b) {
                    if (out.backends[b].key == k) index = b;
                }
                if (index == out.backends.size()) refuse(bl[j], "no back end with key '" + k + "' in 'backends'");
                if (std::find(sv.backends.begin(), sv.backends.end(), index) != sv.backends.end()) {
                    refuse(bl[j], "back end '" + k + "' appears twice in '" + bl.getPath() + "'");
                }
                sv.backends.push_back(index);
            }

            const std::initializer_list<std::string_view> policies = {"cookie", "url_session", "url_hash",
                                                                      "least_conn", "response_time"};
            sv.policy = choice(g, "policy", BalancePolicy::least_conn, policies);
            sv.fallback = choice(g, "fallback", BalancePolicy::least_conn, policies);
            if (sv.fallback == BalancePolicy::cookie || sv.fallback == BalancePolicy::url_session) {
                refuse(g["fallback"], "'" + g["fallback"].getPath() +
                                          "' must be \"url_hash\", \"least_conn\" or \"response_time\" (it "
                                          "decides for requests that carry no cookie or session id)");
            }
            sv.session_cookie = text(g, "session_cookie", std::string());
            sv.inject_cookie = text(g, "inject_cookie", sv.inject_cookie);
            sv.strip_injected = boolean(g, "strip_injected", sv.strip_injected);
            if (g.exists("session_cookie") && !is_token(sv.session_cookie)) {
                refuse(g["session_cookie"], "'" + g["session_cookie"].getPath() + "' must be a cookie name (a token)");
            }
            if (!is_token(sv.inject_cookie)) {
                refuse(g["inject_cookie"], "'" + g["inject_cookie"].getPath() + "' must be a cookie name (a token)");
            }
            if (sv.policy == BalancePolicy::cookie) {
                if (sv.session_cookie.empty()) refuse(g, "policy \"cookie\" needs 'session_cookie' in " + path_of(g));
                if (sv.session_cookie == sv.inject_cookie) {
                    refuse(g, "'session_cookie' and 'inject_cookie' must differ in " + path_of(g));
                }
            }
            sv.url_session_param = text(g, "url_session_param", std::string());
            sv.url_session_in = choice(g, "url_session_in", SessionIdPlace::query, {"query", "path"});
            if (g.exists("url_session_param") && !is_token(sv.url_session_param)) {
                refuse(g["url_session_param"], "'" + g["url_session_param"].getPath() + "' must be a parameter name");
            }
            if (sv.policy == BalancePolicy::url_session && sv.url_session_param.empty()) {
                refuse(g, "policy \"url_session\" needs 'url_session_param' in " + path_of(g));
            }
            sv.hash_bound_load = real(g, "hash_bound_load", 0, 0, 100);
            if (sv.hash_bound_load != 0 && sv.hash_bound_load < 1) {
                refuse(g["hash_bound_load"], "'" + g["hash_bound_load"].getPath() + "' must be 0 (off) or at least 1");
            }
            sv.retries = static_cast<uint32_t>(integer(g, "retries", sv.retries, 0, 16));
            sv.down_interval_ms = static_cast<uint32_t>(integer(g, "down_interval_ms", sv.down_interval_ms, 100, 3600000));
            if (g.exists("pool")) {
                const libconfig::Setting& p = group(g, "pool", false);
                only_keys(p, {"idle_per_backend", "idle_timeout_ms"});
                sv.pool_idle_per_backend = static_cast<uint32_t>(integer(p, "idle_per_backend", 0, 0, 10000));
                sv.pool_idle_timeout_ms = static_cast<uint32_t>(integer(p, "idle_timeout_ms", sv.pool_idle_timeout_ms, 100, 3600000));
            }
            out.services.push_back(std::move(sv));
        }
    }

    static int hex_digit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    void load_tls(const libconfig::Setting& root, ArrayConfig& out) const {
        if (!root.exists("tls")) return;
        const libconfig::Setting& t = group(root, "tls", false);
        only_keys(t, {"certificate", "key", "ticket_keys", "ticket_lifetime_s"});
        TlsConfig tls;
        tls.certificate = text(t, "certificate", std::nullopt);
        tls.key = text(t, "key", std::nullopt);
        if (tls.certificate.empty()) refuse(t["certificate"], "'tls.certificate' is empty");
        if (tls.key.empty()) refuse(t["key"], "'tls.key' is empty");
        tls.certificate_line = static_cast<int>(t["certificate"].getSourceLine());
        tls.key_line = static_cast<int>(t["key"].getSourceLine());
        tls.ticket_lifetime_s = static_cast<uint32_t>(integer(t, "ticket_lifetime_s", tls.ticket_lifetime_s, 60, 604800));
        if (t.exists("ticket_keys")) {
            const libconfig::Setting& keys = t["ticket_keys"];
            if (!keys.isArray() && !keys.isList()) refuse(keys, "'tls.ticket_keys' must be a list of hex strings");
            if (keys.getLength() > 8) refuse(keys, "'tls.ticket_keys' holds more than 8 keys");
            std::set<std::string> names;
            for (int i = 0; i < keys.getLength(); ++i) {
                const libconfig::Setting& k = keys[i];
                if (k.getType() != libconfig::Setting::TypeString) refuse(k, "'tls.ticket_keys' holds a non-string");
                const std::string_view hex = static_cast<const char*>(k);
                std::array<uint8_t, 80> raw{};
                bool ok = hex.size() == 2 * raw.size();
                for (size_t j = 0; ok && j < raw.size(); ++j) {
                    const int hi = hex_digit(hex[2 * j]), lo = hex_digit(hex[2 * j + 1]);
                    ok = hi >= 0 && lo >= 0;
                    raw[j] = static_cast<uint8_t>(hi * 16 + lo);
                }
                if (!ok) {
                    refuse(k, "ticket key " + std::to_string(i + 1) +
                                  " must be 160 hex digits (80 bytes: 16 name, 32 HMAC, 32 AES); "
                                  "make one with `openssl rand -hex 80`");
                }
                TicketKey key;
                std::copy_n(raw.begin(), 16, key.name.begin());
                std::copy_n(raw.begin() + 16, 32, key.hmac.begin());
                std::copy_n(raw.begin() + 48, 32, key.aes.begin());
                if (!names.insert(std::string(hex.substr(0, 32))).second) {
                    refuse(k, "ticket key " + std::to_string(i + 1) + " repeats the name (first 16 bytes) of another");
                }
                tls.ticket_keys.push_back(key);
            }
        }
        out.tls = std::move(tls);
    }

    void load_server(const libconfig::Setting& root, ArrayConfig& out) const {
        if (!root.exists("server")) return;
        const libconfig::Setting& s = group(root, "server", false);
        only_keys(s, {"listeners", "workers", "monitor_socket", "max_connections", "timeouts", "limits", "forwarded",
                      "access_log"});
        ServerConfig sc;
        if (!s.exists("listeners")) refuse(s, "missing list 'listeners' in server");
        const libconfig::Setting& list = s["listeners"];
        if (!list.isList()) refuse(list, "'server.listeners' must be a list ( {...}, {...} )");
        if (list.getLength() == 0) refuse(list, "'server.listeners' is empty");
        std::set<std::pair<uint32_t, uint16_t>> seen;
        for (int i = 0; i < list.getLength(); ++i) {
            const libconfig::Setting& l = list[i];
            if (!l.isGroup()) refuse(l, "each entry of 'server.listeners' must be a group { port = 80; ... }");
            only_keys(l, {"address", "port", "tls", "service"});
            ListenerConfig lc;
            lc.address = l.exists("address") ? ipv4(l, "address") : out.vip;
            lc.port = static_cast<uint16_t>(integer(l, "port", std::nullopt, 1, 65535));
            lc.tls = boolean(l, "tls", false);
            lc.service = text(l, "service", std::nullopt);
            const auto it = std::find_if(out.services.begin(), out.services.end(),
                                         [&](const ServiceConfig& sv) { return sv.name == lc.service; });
            if (it == out.services.end()) refuse(l["service"], "no service named '" + lc.service + "' in 'services'");
            lc.service_index = static_cast<size_t>(it - out.services.begin());
            if (lc.tls && !out.tls) refuse(l, "a TLS listener needs the 'tls' section (certificate and key)");
            if (!seen.insert({lc.address, lc.port}).second) {
                refuse(l, "listener " + format_ipv4(lc.address) + ":" + std::to_string(lc.port) + " is listed twice");
            }
            sc.listeners.push_back(std::move(lc));
        }
        sc.workers = static_cast<uint32_t>(integer(s, "workers", sc.workers, 0, 256));
        sc.monitor_socket = text(s, "monitor_socket", sc.monitor_socket);
        if (sc.monitor_socket.empty() || sc.monitor_socket.size() >= 108) {
            refuse(s, "'server.monitor_socket' must be a path of 1..107 characters");
        }
        sc.max_connections = static_cast<uint32_t>(integer(s, "max_connections", sc.max_connections, 1, 10000000));
        if (s.exists("timeouts")) {
            const libconfig::Setting& t = group(s, "timeouts", false);
            only_keys(t, {"header_ms", "idle_ms", "body_ms", "backend_connect_ms", "backend_response_ms", "shutdown_ms"});
            ServerTimeouts& to = sc.timeouts;
            const auto ms = [&](const char* key, uint32_t& v) {
                v = static_cast<uint32_t>(integer(t, key, v, 1, 86400000));
            };
            ms("header_ms", to.header_ms);
            ms("idle_ms", to.idle_ms);
            ms("body_ms", to.body_ms);
            ms("backend_connect_ms", to.backend_connect_ms);
            ms("backend_response_ms", to.backend_response_ms);
            ms("shutdown_ms", to.shutdown_ms);
        }
        if (s.exists("limits")) {
            const libconfig::Setting& l = group(s, "limits", false);
            only_keys(l, {"max_header_bytes", "max_header_count", "max_uri_bytes", "max_body_bytes"});
            ServerLimits& li = sc.limits;
            li.max_header_bytes = static_cast<uint32_t>(integer(l, "max_header_bytes", li.max_header_bytes, 256, 1 << 20));
            li.max_header_count = static_cast<uint32_t>(integer(l, "max_header_count", li.max_header_count, 4, 1000));
            li.max_uri_bytes = static_cast<uint32_t>(integer(l, "max_uri_bytes", li.max_uri_bytes, 16, 1 << 20));
            li.max_body_bytes = static_cast<uint64_t>(integer(l, "max_body_bytes", 0, 0, INT64_MAX));
        }
        sc.forwarded = choice(s, "forwarded", sc.forwarded, {"x-forwarded-for", "forwarded", "both", "none"});
        sc.access_log = text(s, "access_log", sc.access_log);
        out.server = std::move(sc);
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
            only_keys(g, {"count", "interval_ms", "refresh_ms"});
            sc.garp_count = static_cast<uint32_t>(integer(g, "count", sc.garp_count, 0, 100));
            sc.garp_interval_ms = static_cast<uint32_t>(integer(g, "interval_ms", sc.garp_interval_ms, 1, 60000));
            sc.garp_refresh_ms = static_cast<uint32_t>(integer(g, "refresh_ms", sc.garp_refresh_ms, 0, 3600000));
        }
        if (s.exists("fragments")) {
            const libconfig::Setting& f = group(s, "fragments", false);
            only_keys(f, {"table_size", "timeout_ms"});
            sc.fragment_table_size = static_cast<uint32_t>(integer(f, "table_size", sc.fragment_table_size, 16, 1 << 22));
            sc.fragment_timeout_ms = static_cast<uint32_t>(integer(f, "timeout_ms", sc.fragment_timeout_ms, 1, 60000));
        }
    }

    void load_failover(const libconfig::Setting& root, FailoverConfig& f) const {
        if (!root.exists("failover")) return;
        const libconfig::Setting& s = group(root, "failover", false);
        only_keys(s, {"sync_port", "sync_interval_ms", "journal_size", "heartbeat_port", "heartbeat_interval_ms",
                      "dead_after_ms", "probe_misses", "status_port", "config_port", "sweep_delay_ms",
                      "sweep_timeout_ms", "sweep_retries", "monitor_socket"});
        f.sync_port = static_cast<uint16_t>(integer(s, "sync_port", f.sync_port, 1, 65535));
        f.sync_interval_ms = static_cast<uint32_t>(integer(s, "sync_interval_ms", f.sync_interval_ms, 10, 60000));
        f.journal_size = static_cast<uint32_t>(integer(s, "journal_size", f.journal_size, 16, 1 << 24));
        f.heartbeat_port = static_cast<uint16_t>(integer(s, "heartbeat_port", f.heartbeat_port, 1, 65535));
        f.heartbeat_interval_ms = static_cast<uint32_t>(integer(s, "heartbeat_interval_ms", f.heartbeat_interval_ms, 5, 10000));
        f.dead_after_ms = static_cast<uint32_t>(integer(s, "dead_after_ms", f.dead_after_ms, 10, 60000));
        f.probe_misses = static_cast<uint32_t>(integer(s, "probe_misses", f.probe_misses, 1, 1000));
        f.status_port = static_cast<uint16_t>(integer(s, "status_port", f.status_port, 1, 65535));
        f.config_port = static_cast<uint16_t>(integer(s, "config_port", f.config_port, 1, 65535));
        f.sweep_delay_ms = static_cast<uint32_t>(integer(s, "sweep_delay_ms", f.sweep_delay_ms, 0, 600000));
        f.sweep_timeout_ms = static_cast<uint32_t>(integer(s, "sweep_timeout_ms", f.sweep_timeout_ms, 10, 60000));
        f.sweep_retries = static_cast<uint32_t>(integer(s, "sweep_retries", f.sweep_retries, 0, 100));
        f.monitor_socket = text(s, "monitor_socket", f.monitor_socket);
        if (f.dead_after_ms <= f.heartbeat_interval_ms) {
            refuse(s, "'failover.dead_after_ms' must be longer than heartbeat_interval_ms");
        }
        const std::set<uint16_t> ports{f.sync_port, f.status_port, f.config_port};
        if (ports.size() != 3) refuse(s, "'failover.sync_port', 'status_port' and 'config_port' must differ");
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
            only_keys(n, {"number", "eth0_mac", "eth0_ip", "sched_mac", "sched_ip", "weight", "enabled", "priority"});
            NodeConfig node;
            node.number = static_cast<uint16_t>(integer(n, "number", std::nullopt, 1, 255));
            node.eth0_mac = mac(n, "eth0_mac");
            node.eth0_ip = ipv4(n, "eth0_ip");
            node.sched_mac = mac(n, "sched_mac");
            node.sched_ip = ipv4(n, "sched_ip");
            node.weight = static_cast<uint32_t>(integer(n, "weight", 1, 0, 1000000));
            node.enabled = boolean(n, "enabled", true);
            node.priority = static_cast<uint32_t>(integer(n, "priority", 100, 0, 1000000));
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

const ServiceConfig* ArrayConfig::service(const std::string& wanted) const {
    for (const ServiceConfig& s : services) {
        if (s.name == wanted) return &s;
    }
    return nullptr;
}

const char* forwarded_header_name(ForwardedHeader f) {
    switch (f) {
        case ForwardedHeader::x_forwarded_for: return "x-forwarded-for";
        case ForwardedHeader::forwarded: return "forwarded";
        case ForwardedHeader::both: return "both";
        case ForwardedHeader::none: return "none";
    }
    return "?";
}

const char* balance_policy_name(BalancePolicy p) {
    switch (p) {
        case BalancePolicy::cookie: return "cookie";
        case BalancePolicy::url_session: return "url_session";
        case BalancePolicy::url_hash: return "url_hash";
        case BalancePolicy::least_conn: return "least_conn";
        case BalancePolicy::response_time: return "response_time";
    }
    return "?";
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
