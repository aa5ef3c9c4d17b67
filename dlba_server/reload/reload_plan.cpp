#include "reload/reload_plan.hpp"

#include "net_types.hpp"

namespace dlba::server {

std::string format_listener(const ListenerKey& key) {
    std::string out = format_ipv4(key.address);
    out += ':';
    out += std::to_string(key.port);
    return out;
}

ListenerDiff diff_listeners(std::span<const ListenerConfig> before, std::span<const ListenerConfig> after) {
    ListenerDiff d;
    std::vector<bool> matched(before.size(), false);
    for (size_t a = 0; a < after.size(); ++a) {
        bool found = false;
        for (size_t b = 0; b < before.size() && !found; ++b) {
            if (!matched[b] && key_of(before[b]) == key_of(after[a])) {
                matched[b] = found = true;
                d.kept.emplace_back(b, a);
            }
        }
        if (!found) d.added.push_back(a);
    }
    for (size_t b = 0; b < before.size(); ++b) {
        if (!matched[b]) d.removed.push_back(b);
    }
    return d;
}

std::vector<std::optional<size_t>> match_backends(std::span<const BackendConfig> before,
                                                  std::span<const BackendConfig> after) {
    std::vector<std::optional<size_t>> out(after.size());
    for (size_t a = 0; a < after.size(); ++a) {
        for (size_t b = 0; b < before.size(); ++b) {
            // Keys are unique within a file, so at most one candidate; address and port decide whether it is the
            // same server (a key moved to another server starts afresh: its health and average say nothing).
            if (before[b].key == after[a].key) {
                if (before[b].address == after[a].address && before[b].port == after[a].port) out[a] = b;
                break;
            }
        }
    }
    return out;
}

std::vector<std::string> restart_only_changes(const ServerConfig& running, const ServerConfig& next) {
    std::vector<std::string> out;
    if (running.workers != next.workers) {
        out.push_back("server.workers (running " + std::to_string(running.workers) + ", file " +
                      std::to_string(next.workers) + ")");
    }
    if (running.monitor_socket != next.monitor_socket) {
        out.push_back("server.monitor_socket (running " + running.monitor_socket + ", file " + next.monitor_socket +
                      ")");
    }
    return out;
}

}  // namespace dlba::server
