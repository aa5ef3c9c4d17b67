#include "config/server_section.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <string_view>
#include <utility>

#include "config/reader.hpp"

namespace dlba {

namespace {

// In the enum's order: the words the file uses, and what forwarded_header_name prints.
constexpr std::string_view kForwardedNames[] = {"x-forwarded-for", "forwarded", "both", "none"};

std::vector<ListenerConfig> read_listeners(const ConfigReader& in, const libconfig::Setting& s, uint32_t vip,
                                           const std::vector<ServiceConfig>& services, bool have_tls) {
    std::vector<ListenerConfig> out;
    if (!s.exists("listeners")) in.refuse(s, "missing list 'listeners' in server");
    const libconfig::Setting& list = s["listeners"];
    if (!list.isList()) in.refuse(list, "'server.listeners' must be a list ( {...}, {...} )");
    if (list.getLength() == 0) in.refuse(list, "'server.listeners' is empty");
    std::set<std::pair<uint32_t, uint16_t>> seen;
    for (int i = 0; i < list.getLength(); ++i) {
        const libconfig::Setting& l = list[i];
        if (!l.isGroup()) in.refuse(l, "each entry of 'server.listeners' must be a group { port = 80; ... }");
        in.only_keys(l, {"address", "port", "tls", "http2", "service", "routes"});
        ListenerConfig lc;
        lc.address = l.exists("address") ? in.ipv4(l, "address") : vip;
        lc.port = static_cast<uint16_t>(in.integer(l, "port", std::nullopt, 1, 65535));
        lc.tls = in.boolean(l, "tls", false);
        lc.http2 = in.boolean(l, "http2", lc.tls);
        lc.service = in.text(l, "service", std::nullopt);
        const auto it = std::find_if(services.begin(), services.end(),
                                     [&](const ServiceConfig& sv) { return sv.name == lc.service; });
        if (it == services.end()) in.refuse(l["service"], "no service named '" + lc.service + "' in 'services'");
        lc.service_index = static_cast<size_t>(it - services.begin());
        lc.routes = read_listener_routes(in, l, services);
        if (lc.tls && !have_tls) in.refuse(l, "a TLS listener needs the 'tls' section (certificate and key)");
        if (!seen.insert({lc.address, lc.port}).second) {
            in.refuse(l, "listener " + format_ipv4(lc.address) + ":" + std::to_string(lc.port) + " is listed twice");
        }
        out.push_back(std::move(lc));
    }
    // The TLS-session policy binds a TLS session: a service that only plain listeners reach has none, and its
    // every request would silently fall back. Named at the first listener that reaches it.
    for (size_t sv = 0; sv < services.size(); ++sv) {
        if (services[sv].policy != BalancePolicy::tls_session) continue;
        const libconfig::Setting* first_plain = nullptr;
        bool any_tls = false;
        for (size_t i = 0; i < out.size(); ++i) {
            if (out[i].service_index != sv) continue;
            if (out[i].tls) any_tls = true;
            if (!out[i].tls && !first_plain) first_plain = &list[static_cast<int>(i)];
        }
        if (first_plain && !any_tls) {
            in.refuse(*first_plain, "service '" + services[sv].name + "' has policy \"tls_session\" (line " +
                                        std::to_string(services[sv].policy_line) +
                                        ") but is reached only through plain (non-TLS) listeners: it needs a "
                                        "listener with tls = true");
        }
    }
    return out;
}

void read_timeouts(const ConfigReader& in, const libconfig::Setting& s, ServerTimeouts& to) {
    const libconfig::Setting& t = in.group(s, "timeouts", false);
    in.only_keys(t, {"header_ms", "handshake_ms", "idle_ms", "body_ms", "backend_connect_ms", "backend_response_ms", "shutdown_ms",
                     "tunnel_ms"});
    const auto ms = [&](const char* key, uint32_t& v) { v = static_cast<uint32_t>(in.integer(t, key, v, 1, 86400000)); };
    ms("header_ms", to.header_ms);
    ms("handshake_ms", to.handshake_ms);
    ms("idle_ms", to.idle_ms);
    ms("body_ms", to.body_ms);
    ms("backend_connect_ms", to.backend_connect_ms);
    ms("backend_response_ms", to.backend_response_ms);
    ms("shutdown_ms", to.shutdown_ms);
    ms("tunnel_ms", to.tunnel_ms);
}

void read_limits(const ConfigReader& in, const libconfig::Setting& s, ServerLimits& li, uint32_t max_connections) {
    const libconfig::Setting& l = in.group(s, "limits", false);
    in.only_keys(l, {"max_header_bytes", "max_header_count", "max_uri_bytes", "max_body_bytes",
                     "max_connections_per_ip"});
    li.max_header_bytes = static_cast<uint32_t>(in.integer(l, "max_header_bytes", li.max_header_bytes, 256, 1 << 20));
    li.max_header_count = static_cast<uint32_t>(in.integer(l, "max_header_count", li.max_header_count, 4, 1000));
    li.max_uri_bytes = static_cast<uint32_t>(in.integer(l, "max_uri_bytes", li.max_uri_bytes, 16, 1 << 20));
    li.max_body_bytes = static_cast<uint64_t>(in.integer(l, "max_body_bytes", 0, 0, INT64_MAX));
    li.max_connections_per_ip = static_cast<uint32_t>(in.integer(l, "max_connections_per_ip", 0, 0, 10000000));
    // A per-address limit at or above the process's limit could never refuse anything: surely a mistake.
    if (li.max_connections_per_ip >= max_connections && li.max_connections_per_ip != 0) {
        in.refuse(l["max_connections_per_ip"], "'server.limits.max_connections_per_ip' (" +
                                                   std::to_string(li.max_connections_per_ip) +
                                                   ") must be below 'server.max_connections' (" +
                                                   std::to_string(max_connections) + "), or 0 for no limit");
    }
}

void read_http2(const ConfigReader& in, const libconfig::Setting& s, Http2Limits& h) {
    const libconfig::Setting& g = in.group(s, "http2", false);
    in.only_keys(g, {"max_concurrent_streams", "max_header_list_bytes", "initial_window_bytes", "reset_burst",
                     "reset_rate", "max_queued_acks", "max_settings_entries", "max_continuations",
                     "max_empty_frames"});
    const auto num = [&](const char* key, uint32_t& v, int64_t lo, int64_t hi) {
        v = static_cast<uint32_t>(in.integer(g, key, v, lo, hi));
    };
    num("max_concurrent_streams", h.max_concurrent_streams, 1, 1000);
    num("max_header_list_bytes", h.max_header_list_bytes, 1024, 1 << 20);
    num("initial_window_bytes", h.initial_window_bytes, 16384, (1 << 24));
    num("reset_burst", h.reset_burst, 1, 100000);
    num("reset_rate", h.reset_rate, 1, 100000);
    num("max_queued_acks", h.max_queued_acks, 10, 100000);
    num("max_settings_entries", h.max_settings_entries, 6, 1000);
    num("max_continuations", h.max_continuations, 1, 1000);
    num("max_empty_frames", h.max_empty_frames, 1, 1000000);
}

}  // namespace

const char* forwarded_header_name(ForwardedHeader f) {
    const auto i = static_cast<size_t>(f);
    return i < std::size(kForwardedNames) ? kForwardedNames[i].data() : "?";
}

std::optional<ServerConfig> read_server_section(const ConfigReader& in, const libconfig::Setting& root, uint32_t vip,
                                                const std::vector<ServiceConfig>& services, bool have_tls) {
    if (!root.exists("server")) return std::nullopt;
    const libconfig::Setting& s = in.group(root, "server", false);
    in.only_keys(s, {"listeners", "workers", "monitor_socket", "max_connections", "timeouts", "limits", "forwarded",
                     "access_log", "http2"});
    ServerConfig sc;
    sc.listeners = read_listeners(in, s, vip, services, have_tls);
    sc.workers = static_cast<uint32_t>(in.integer(s, "workers", sc.workers, 0, 256));
    sc.monitor_socket = in.text(s, "monitor_socket", sc.monitor_socket);
    if (sc.monitor_socket.empty() || sc.monitor_socket.size() >= 108) {
        in.refuse(s, "'server.monitor_socket' must be a path of 1..107 characters");
    }
    sc.max_connections = static_cast<uint32_t>(in.integer(s, "max_connections", sc.max_connections, 1, 10000000));
    if (s.exists("timeouts")) read_timeouts(in, s, sc.timeouts);
    if (s.exists("limits")) read_limits(in, s, sc.limits, sc.max_connections);
    if (s.exists("http2")) read_http2(in, s, sc.http2);
    sc.forwarded = in.choice(s, "forwarded", sc.forwarded, kForwardedNames);
    sc.access_log = in.text(s, "access_log", sc.access_log);
    return sc;
}

}  // namespace dlba
