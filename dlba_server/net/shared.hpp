// What the workers of one dlba-server process share.
//
// A Generation is one loaded configuration made ready to serve: the configuration itself, the back-end status
// table, the per-service balancers, the idle-pool depths, the TLS context, the request limits and the access log.
// It is built whole off the request path (at start and on every reload), never changed once published, and freed
// when the last thing using it lets go. Shared holds the generation in force; a reload publishes a new one and
// bumps an atomic number, and each worker compares that number at the top of its loop (one plain load on x86, no
// lock on the request path) and takes the new generation when it moved. A request runs to its end on the
// generation it started with; a keep-alive connection switches between requests.
//
// Back ends whose key, address and port are unchanged are the same BackendState object in both generations (see
// policy/backend_state.hpp), so their admin state, health, average, in-flight count and counters carry over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/redirect_section.hpp"
#include "http/request_parser.hpp"
#include "io/fd.hpp"
#include "net/connections_per_ip.hpp"
#include "policy/backend_state.hpp"
#include "policy/balancer.hpp"
#include "policy/routes.hpp"
#include "policy/pin.hpp"
#include "qos/qos_queues.hpp"
#include "http/url_patterns.hpp"
#include "tls/backend_tls.hpp"
#include "tls/tls_context.hpp"

namespace dlba::server {

struct Generation {
    // Builds the back-end table and the balancers from `config` (which must have a server section). Back ends that
    // continue one of `previous` (same key, address and port) share its BackendState; the others start afresh with
    // `workers` counter slots. Nothing of `previous` is changed: see carry_settings().
    Generation(Config config, uint16_t node, size_t workers, uint64_t number, int64_t loaded_unix,
               const Generation* previous);
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    const ServerConfig& server() const { return *config.server; }
    // Index of the listener bound to address:port, if this generation has one.
    std::optional<size_t> listener(uint32_t address, uint16_t port) const;

    const Config config;
    const uint16_t node;
    const uint64_t number;       // 1 for the configuration loaded at start, +1 per applied reload
    const int64_t loaded_unix;   // when it was loaded (wall clock, seconds)
    std::vector<std::shared_ptr<BackendState>> backends;  // the array's back ends, in config order
    std::vector<std::optional<size_t>> continues;         // per back end: its index in the previous generation
    std::vector<Balancer> balancers;                      // one per service, in config order
    std::vector<PinTable> pins;                           // one per service: its pin (policy/pin.hpp), maybe off
    std::vector<BackupLink> backup_links;                 // per back end: its backup (config/backup_chain.hpp)
    std::vector<ServiceQos> qos;                          // one per service: its QoS view (qos/qos_queues.hpp)
    std::vector<std::unique_ptr<const http::UrlPatterns>> cdn;  // one per service: its cdn.match, or nullptr
    std::vector<uint32_t> pool_depth;                     // per back end: idle connections kept per worker
    std::vector<uint32_t> pool_timeout_ms;
    std::vector<uint32_t> pool_prewarm;        // per back end: idle connections per worker opened ahead of demand
    std::vector<uint32_t> prewarm_backoff_ms;  // per back end: a failed prewarm connect waits this long (down_interval_ms)
    http::RequestLimits request_limits;
    // The listeners' routes' counters (policy/routes.hpp): route r of listener l is slot route_base[l] + r, and
    // worker w's counters for slot s are route_counters[w * route_slots + s]. Counted from this generation's start.
    std::vector<size_t> route_base;
    size_t route_slots = 0;
    size_t route_workers = 0;
    std::unique_ptr<RouteCounters[]> route_counters;
    RouteCounters& route_counter(size_t worker, size_t listener, size_t route) const {
        return route_counters[worker * route_slots + route_base[listener] + route];
    }
    std::shared_ptr<const TlsContext> tls;  // set when some listener is TLS
    std::vector<std::shared_ptr<const BackendTlsContext>> backend_tls;  // per back end: nullptr when plain
    std::shared_ptr<io::Fd> access_log;     // owned access log file, if one is configured
    int access_log_fd = -1;                 // -1 = no access log (STDERR_FILENO for "stderr")
};

// The settings of the running back ends that the new file decides, applied when `next` is published (not when it
// is built, so a reload refused halfway leaves the running back ends untouched): the weight, and the admin state
// when the file's `enabled` flag changed (otherwise the operator's enable/drain/disable stays).
void carry_settings(const Generation& next, const Generation& previous);

class Shared {
public:
    // `max_connections` at start sizes the per-address table (twice as many addresses); `seed` keys its hash.
    Shared(uint16_t node_number, unsigned worker_count, uint32_t max_connections, uint32_t seed)
        : node(node_number), workers(worker_count), per_ip(2 * static_cast<size_t>(max_connections), seed) {}
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;

    // The generation in force. Takes a short lock: for the control thread, and for a worker only when
    // generation_number() told it that the generation changed.
    std::shared_ptr<const Generation> current() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return current_;
    }
    uint64_t generation_number() const { return number_.load(std::memory_order_acquire); }
    void publish(std::shared_ptr<const Generation> next) {
        const uint64_t n = next->number;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            current_ = std::move(next);
        }
        number_.store(n, std::memory_order_release);
    }

    const uint16_t node;
    const unsigned workers;  // fixed for the life of the process
    std::atomic<uint32_t> connections{0};  // client connections open in the process
    QosQueues qos{workers};                // requests waiting for a full back end (qos/qos_queues.hpp)
    ConnectionsPerIp per_ip;               // and per client address (limits.max_connections_per_ip)

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Generation> current_;
    std::atomic<uint64_t> number_{0};
};

}  // namespace dlba::server
