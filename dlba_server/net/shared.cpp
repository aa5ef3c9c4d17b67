#include "net/shared.hpp"

#include <algorithm>

#include "reload/reload_plan.hpp"

namespace dlba::server {

Generation::Generation(Config c, uint16_t node_number, size_t workers, uint64_t generation_number,
                       int64_t loaded, const Generation* previous)
    : config(std::move(c)), node(node_number), number(generation_number), loaded_unix(loaded) {
    if (previous) {
        continues = match_backends(previous->config.backends, config.backends);
    } else {
        continues.assign(config.backends.size(), std::nullopt);
    }
    for (size_t i = 0; i < config.backends.size(); ++i) {
        if (continues[i]) {
            backends.push_back(previous->backends[*continues[i]]);
        } else {
            backends.push_back(std::make_shared<BackendState>(config.backends[i], workers));
        }
    }
    backend_tls.assign(config.backends.size(), nullptr);  // the reloader sets the TLS ones (it can refuse them)
    for (const ServiceConfig& s : config.services) {
        balancers.emplace_back(s, config.backends);
        pins.emplace_back(s, config.backends, derive_pin_key(s.pin, config.failover.peer_keys));
        // Compiled once per generation (the reader checked that every pattern compiles); matched by every worker.
        cdn.push_back(s.cdn.enabled ? std::make_unique<const http::UrlPatterns>(s.cdn.match) : nullptr);
    }
    backup_links = dlba::backup_links(config.backends);
    qos = build_service_qos(config, backends, previous ? &previous->config : nullptr,
                            previous ? &previous->qos : nullptr);
    // The idle pool of a back end is as deep as the deepest pool among the services that use it.
    pool_depth.assign(config.backends.size(), 0);
    pool_timeout_ms.assign(config.backends.size(), 0);
    pool_prewarm.assign(config.backends.size(), 0);
    prewarm_backoff_ms.assign(config.backends.size(), 0);
    for (const ServiceConfig& s : config.services) {
        for (size_t b : s.backends) {
            if (s.pool_idle_per_backend > pool_depth[b]) {
                pool_depth[b] = s.pool_idle_per_backend;
                pool_timeout_ms[b] = s.pool_idle_timeout_ms;
            }
        }
    }
    // Prewarmed: as many as the service that wants most (never above the depth, which is the deepest pool's), and
    // that service's down interval bounds how often a failing back end is tried again.
    for (const ServiceConfig& s : config.services) {
        for (size_t b : s.backends) {
            if (s.pool_prewarm > pool_prewarm[b]) {
                pool_prewarm[b] = std::min(s.pool_prewarm, pool_depth[b]);
                prewarm_backoff_ms[b] = s.down_interval_ms;
            }
        }
    }
    const ServerLimits& l = config.server->limits;
    request_limits.max_target_length = l.max_uri_bytes;
    request_limits.max_header_bytes = l.max_header_bytes;
    request_limits.max_header_count = l.max_header_count;
    request_limits.max_body_bytes = l.max_body_bytes;
    for (const ListenerConfig& lc : config.server->listeners) {
        route_base.push_back(route_slots);
        route_slots += lc.routes.size();
    }
    route_workers = workers;
    route_counters = std::make_unique<RouteCounters[]>(std::max<size_t>(1, workers * route_slots));
}

std::optional<size_t> Generation::listener(uint32_t address, uint16_t port) const {
    const auto& ls = server().listeners;
    for (size_t i = 0; i < ls.size(); ++i) {
        if (ls[i].address == address && ls[i].port == port) return i;
    }
    return std::nullopt;
}

void carry_settings(const Generation& next, const Generation& previous) {
    for (size_t i = 0; i < next.backends.size(); ++i) {
        if (!next.continues[i]) continue;
        BackendState& st = *next.backends[i];
        const BackendConfig& now = next.config.backends[i];
        const BackendConfig& before = previous.config.backends[*next.continues[i]];
        st.set_weight(now.weight);
        st.set_max_inflight(now.max_inflight);
        if (now.enabled != before.enabled) st.set_admin(now.enabled ? BackendAdmin::enabled : BackendAdmin::disabled);
    }
}

}  // namespace dlba::server
