// What every worker of one dlba-server process shares: the configuration, the back-end status table, the
// per-service balancers and the TLS context. Built once before the workers start and never replaced while they
// run (a configuration change restarts the process), so workers read it without locks; the mutable parts are the
// atomics inside BackendState and the open-connection count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "config.hpp"
#include "policy/backend_state.hpp"
#include "policy/balancer.hpp"
#include "tls/tls_context.hpp"

namespace dlba::server {

struct Shared {
    explicit Shared(const ArrayConfig& c, uint16_t node_number) : config(c), server(*c.server), node(node_number) {
        for (const BackendConfig& b : c.backends) backends.push_back(std::make_unique<BackendState>(b));
        for (const ServiceConfig& s : c.services) balancers.emplace_back(s, c.backends);
        // The idle pool of a back end is as deep as the deepest pool among the services that use it.
        pool_depth.assign(c.backends.size(), 0);
        pool_timeout_ms.assign(c.backends.size(), 0);
        for (const ServiceConfig& s : c.services) {
            for (size_t b : s.backends) {
                if (s.pool_idle_per_backend > pool_depth[b]) {
                    pool_depth[b] = s.pool_idle_per_backend;
                    pool_timeout_ms[b] = s.pool_idle_timeout_ms;
                }
            }
        }
    }

    const ArrayConfig& config;
    const ServerConfig& server;
    uint16_t node;
    std::vector<std::unique_ptr<BackendState>> backends;  // the array's back ends, in config order
    std::vector<Balancer> balancers;                       // one per service, in config order
    std::vector<uint32_t> pool_depth;
    std::vector<uint32_t> pool_timeout_ms;
    std::unique_ptr<TlsContext> tls;                       // set when some listener is TLS
    int access_log_fd = -1;                                // owned by main; -1 = no access log
    std::atomic<uint32_t> connections{0};                  // client connections open in the process
};

}  // namespace dlba::server
