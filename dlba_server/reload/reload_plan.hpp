// The pure decisions of a configuration reload, kept apart from sockets and threads so they are unit-tested:
//
//   - which listeners are kept, added or removed (by address:port; a kept one takes the new tls/service settings)
//   - which back ends continue from the running configuration (same key, address and port: their state carries)
//   - which changed settings only a restart applies (the number of workers, the monitor socket)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config/backends_section.hpp"
#include "config/server_section.hpp"

namespace dlba::server {

// A listener's identity: what it is bound to. Everything else about it may change on a reload.
struct ListenerKey {
    uint32_t address = 0;
    uint16_t port = 0;
    bool operator==(const ListenerKey&) const = default;
};
inline ListenerKey key_of(const ListenerConfig& l) { return {l.address, l.port}; }
std::string format_listener(const ListenerKey& key);  // "127.0.0.1:8080"

struct ListenerDiff {
    std::vector<std::pair<size_t, size_t>> kept;  // (index before, index after)
    std::vector<size_t> added;                    // indexes after
    std::vector<size_t> removed;                  // indexes before
};
ListenerDiff diff_listeners(std::span<const ListenerConfig> before, std::span<const ListenerConfig> after);

// For each back end of `after`, the index in `before` of the back end it continues (same key, address and port),
// or nullopt when it is new. A back end whose address or port changed is a new one under the old key.
std::vector<std::optional<size_t>> match_backends(std::span<const BackendConfig> before,
                                                  std::span<const BackendConfig> after);

// Settings of `next` that differ from the running ones but only take effect after a restart, as
// "server.workers (running 2, file 4)". Both are compared after the command line's overrides.
std::vector<std::string> restart_only_changes(const ServerConfig& running, const ServerConfig& next);

}  // namespace dlba::server
