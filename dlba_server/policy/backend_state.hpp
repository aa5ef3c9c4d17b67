// The back-end status table shared by every worker of one dlba-server process: whether each back end may be used,
// how busy it is and how fast it answers. Written by the workers on the request path, so every field is an atomic
// with relaxed ordering: each value stands on its own, and a reader seeing one a little stale is harmless. Nothing
// here locks, allocates or does I/O; the clock is passed in, so the rules are unit-tested without sockets.
//
// A configuration reload carries a back end over by sharing this very object between the old and the new
// generation when its key, address and port are unchanged: admin state, health, the response-time average, the
// requests in flight (a request that started on the old generation ends on the same object) and the counters all
// continue without being copied, so nothing is lost or counted twice across the switch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "config/backends_section.hpp"
#include "counter.hpp"
#include "http/agent_line.hpp"
#include "metrics/latency_histogram.hpp"

namespace dlba::server {

// The operator's say over a back end (connect failures' say is down_until_ms, the active check's and the load
// agent's are their own states below: each is kept apart and shown apart, and usable_for_new/usable_for_sticky
// combine them). The values are proto::BackendMode's, in its order (in-service, oos, maintenance, sticky, failed).
enum class BackendAdmin : uint8_t {
    enabled,      // in-service
    disabled,     // out-of-service oos: nothing goes there
    maintenance,  // out-of-service maintenance: nothing goes there
    drain,        // out-of-service sticky: requests that name it (cookie, URL session id) still go there; no new
                  // sessions, no hashed requests
    failed,       // out-of-service failed: the operator's verdict (not a connect failure); nothing goes there
};

// What the status table shows, derived from the admin state and the health state.
// check_failed: the active check failed it; agent_*: its load agent said so (down/maint take nothing, drain takes
// only requests that name it).
enum class BackendStatus : uint8_t { up, down, drain, disabled, check_failed, agent_down, agent_maint, agent_drain };
const char* backend_status_name(BackendStatus s);
// The admin column: in-service, oos, maintenance, sticky, failed.
const char* backend_admin_name(BackendAdmin a);

// The active check's verdict (none: the back end has no check) and why its last check failed.
enum class CheckVerdict : uint8_t { none, up, failed };
enum class CheckFailure : uint8_t {
    none,
    refused,     // the connect was refused or reset
    timeout,     // no complete answer head within timeout_ms
    tls,         // the TLS handshake failed (certificate verification included)
    closed,      // the back end closed before a complete answer head
    bad_answer,  // the answer's status line or head broke the rules (common/http/response_scanner)
    status,      // a well-formed answer with a status other than expected (last_check_status says which)
    io,          // another socket error
};
const char* check_failure_name(CheckFailure f);

// What the `backends` table shows per back end, kept per worker: each worker writes only its own copy (a plain
// load and store, no locked instruction on the request path) and the monitor sums them. A cache line each, so two
// workers counting for the same back end never share a line.
struct alignas(64) BackendCounters {
    Counter hits;              // requests sent to it (each attempt)
    Counter errors;            // connect failures, timeouts, resets, malformed responses
    Counter bad_responses;     // answers that broke the framing rules (refused with 502, or their connection closed)
    Counter connect_failures;  // refused or timed out connects (each marks it down)
    Counter pooled_reuses;     // requests sent over an idle pooled connection
    Counter tls_handshakes;       // TLS to the back end: handshakes completed (full or resumed)
    Counter tls_resumed;          // ... of which resumed a saved session
    Counter tls_verify_failures;  // handshakes refused because the back end's certificate did not verify
    Counter cookie_groups;     // persistent sessions started on it: responses that got the injected cookie
    Counter idle_pooled;       // a gauge, not a count: this worker's idle pooled connections to it now
    Counter tls_bound;         // tls_session: TLS sessions bound to it (first secure request, or TLS 1.2 handshake)
    Counter tls_rebound;       // ... bound to it because the back end they were bound to could not take them
    Counter redirects;         // redirect services: requests answered with a redirect to its URL
    Counter tunnels;           // upgraded connections (WebSocket) relayed to it
    Counter tunnels_open;      // a gauge: ... open now on this worker
    Counter responses[6];      // its responses passed to clients, by class: [1]=1xx .. [5]=5xx
    // Response time, connect start to complete response head (metrics.histogram; the `latency` table).
    metrics::LatencyHistogram latency;
};

class BackendState {
public:
    // `workers`: how many worker threads count for it (fixed for the life of the process).
    explicit BackendState(const BackendConfig& config, size_t workers = 1);
    BackendState(const BackendState&) = delete;
    BackendState& operator=(const BackendState&) = delete;

    // As first configured. Key, address and port never change for this object (a change makes a new back end);
    // the weight and the admin state in force are weight() and admin(), which a reload may update.
    const BackendConfig& config() const { return config_; }

    BackendAdmin admin() const { return static_cast<BackendAdmin>(admin_.load(std::memory_order_relaxed)); }
    void set_admin(BackendAdmin a) { admin_.store(static_cast<uint8_t>(a), std::memory_order_relaxed); }
    uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
    void set_weight(uint32_t w) { weight_.store(w, std::memory_order_relaxed); }

    // Health. A failed connect marks the back end down for `interval_ms`; once that has passed it is used again
    // (the next request is the probe), and a successful connect clears it at once.
    bool down(int64_t now_ms) const { return down_until_ms_.load(std::memory_order_relaxed) > now_ms; }
    void mark_down(int64_t now_ms, uint32_t interval_ms);
    void mark_up() { down_until_ms_.store(0, std::memory_order_relaxed); }
    int64_t down_until_ms() const { return down_until_ms_.load(std::memory_order_relaxed); }

    BackendStatus status(int64_t now_ms) const;
    // May take requests that do not name it (new sessions, hashing, load-based choices).
    bool usable_for_new(int64_t now_ms) const {
        return admin() == BackendAdmin::enabled && effective_weight() > 0 && !down(now_ms) && check_passes() &&
               agent_takes_new();
    }
    // May take requests that name it (a valid cookie or URL session id): draining back ends still serve them.
    bool usable_for_sticky(int64_t now_ms) const {
        const BackendAdmin a = admin();
        return (a == BackendAdmin::enabled || a == BackendAdmin::drain) && !down(now_ms) && check_passes() &&
               agent_takes_bound();
    }

    // Out of service: its requests go to its backup (config/backup_chain.hpp) when it has one. The one test of it,
    // so every state that takes a back end out of service (the operator's, connect failures, the active check, the
    // load agent's down and maint) is decided here. The operator's sticky (drain) and the agent's drain are not:
    // such a back end still serves what names it.
    bool out_of_service(int64_t now_ms) const {
        const BackendAdmin a = admin();
        return (a != BackendAdmin::enabled && a != BackendAdmin::drain) || down(now_ms) || !check_passes() ||
               !agent_takes_bound();
    }
    // The weight the policies use: the operator's weight scaled by the agent's percentage, in hundredths (so a
    // weight of 1 at 25 % is 25, beside 100 for its peers at 100 %: only ratios matter to the policies).
    uint32_t effective_weight() const { return weight() * agent_percent(); }

    // ---- Active health check (dlba_server/health/): written by the process's one checker thread ----
    CheckVerdict check_verdict() const {
        return static_cast<CheckVerdict>(check_verdict_.load(std::memory_order_relaxed));
    }
    bool check_passes() const { return check_verdict() != CheckVerdict::failed; }
    CheckFailure last_check_failure() const {
        return static_cast<CheckFailure>(last_check_failure_.load(std::memory_order_relaxed));
    }
    uint16_t last_check_status() const { return last_check_status_.load(std::memory_order_relaxed); }
    // One check's outcome: `fall` consecutive failures fail an up back end, `rise` consecutive successes bring a
    // failed one back. A back end with a check starts up (as HAProxy's without init-addr tricks): traffic is not
    // held back for rise x interval at start or when a reload adds the check. Returns true when the verdict changed.
    bool record_check(bool ok, CheckFailure why, uint16_t status, uint32_t rise, uint32_t fall);
    // The check was removed (or never configured): verdict none, tallies cleared.
    void clear_check();
    // "-", "up", "failed:REASON" (REASON: refused, timeout, tls, closed, bad_answer, io or http_NNN); an up back end
    // whose last check failed (fewer than `fall` in a row) shows "up,last=REASON".
    std::string check_text() const;

    // ---- Load agent (dlba_server/health/): written by the checker thread ----
    bool agent_on() const { return agent_on_.load(std::memory_order_relaxed); }
    uint32_t agent_percent() const { return agent_percent_.load(std::memory_order_relaxed); }
    http::AgentHealth agent_health() const {
        return static_cast<http::AgentHealth>(agent_health_.load(std::memory_order_relaxed));
    }
    http::AgentAdmin agent_admin() const {
        return static_cast<http::AgentAdmin>(agent_admin_.load(std::memory_order_relaxed));
    }
    bool agent_takes_new() const {
        return agent_health() == http::AgentHealth::up && agent_admin() == http::AgentAdmin::ready;
    }
    bool agent_takes_bound() const {
        return agent_health() == http::AgentHealth::up && agent_admin() != http::AgentAdmin::maint;
    }
    // A well-formed report: each kind it names replaces the one in force, the others stay.
    void apply_agent(const http::AgentReport& r);
    void count_agent_error() { agent_errors_.fetch_add(1, std::memory_order_relaxed); }
    uint64_t agent_errors() const { return agent_errors_.load(std::memory_order_relaxed); }
    void set_agent_on(bool on);  // off: back to 100 %, up, ready (the agent's say is withdrawn)
    // "-" without an agent, else health, admin and percentage: "up,ready,25%", "up,drain,100%", "down,ready,100%".
    std::string agent_text() const;

    // Requests in flight to this back end, over all workers (least-connections reads this).
    uint32_t active() const { return active_.load(std::memory_order_relaxed); }
    void begin_request() { active_.fetch_add(1, std::memory_order_relaxed); }
    void end_request() { active_.fetch_sub(1, std::memory_order_seq_cst); }

    // ---- QoS (dlba_server/qos/): at most max_inflight() requests in flight, the others wait ----
    // 0 = unlimited. The file's value, applied to a continuing back end when a reload is published.
    uint32_t max_inflight() const { return max_inflight_.load(std::memory_order_relaxed); }
    void set_max_inflight(uint32_t m) { max_inflight_.store(m, std::memory_order_relaxed); }
    bool has_room() const {
        const uint32_t m = max_inflight();
        return m == 0 || active() < m;
    }
    // Takes a slot: without a limit one increment (as begin_request), under one a compare-and-increment that fails
    // when the back end is full. No lock either way. The slot is given back by QosQueues::release (which hands it
    // to a waiting request when there is one).
    bool try_begin_request() {
        const uint32_t m = max_inflight();
        if (m == 0) {
            active_.fetch_add(1, std::memory_order_seq_cst);
            return true;
        }
        uint32_t a = active_.load(std::memory_order_seq_cst);
        while (a < m) {
            if (active_.compare_exchange_weak(a, a + 1, std::memory_order_seq_cst)) return true;
        }
        return false;
    }
    // Requests waiting that this back end could take (bound to it, or in the queue of a service that has it).
    // Written under the QoS queue's lock; read without it by a request that ends, to know whether to look.
    std::atomic<uint32_t> qos_waiters{0};
    std::atomic<uint64_t> qos_timeouts{0};  // waiters that could have taken it and gave up at their queue timeout

    // Moving average of the response time (connect start to complete response head), in milliseconds; negative
    // until the first sample. Exponentially weighted with alpha = 1/8, like TCP's smoothed RTT. Two workers updating
    // at once may lose one sample, which an average does not notice.
    double average_ms() const;
    void record_response_time(double ms);

    // The counters of worker `worker` (< worker_count()); only that worker writes them.
    BackendCounters& counters(size_t worker) { return counters_[worker]; }
    const BackendCounters& counters(size_t worker) const { return counters_[worker]; }
    size_t worker_count() const { return worker_count_; }

private:
    BackendConfig config_;
    std::unique_ptr<BackendCounters[]> counters_;
    size_t worker_count_;
    std::atomic<uint8_t> admin_;
    std::atomic<uint32_t> weight_;
    std::atomic<int64_t> down_until_ms_{0};
    std::atomic<uint32_t> active_{0};
    std::atomic<uint32_t> max_inflight_{0};
    std::atomic<double> average_ms_{-1.0};

    std::atomic<uint8_t> check_verdict_{static_cast<uint8_t>(CheckVerdict::none)};
    std::atomic<uint8_t> last_check_failure_{static_cast<uint8_t>(CheckFailure::none)};
    std::atomic<uint16_t> last_check_status_{0};
    uint32_t check_successes_ = 0;  // in a row; the checker thread's only
    uint32_t check_failures_ = 0;

    std::atomic<bool> agent_on_{false};
    std::atomic<uint32_t> agent_percent_{100};
    std::atomic<uint8_t> agent_health_{static_cast<uint8_t>(http::AgentHealth::up)};
    std::atomic<uint8_t> agent_admin_{static_cast<uint8_t>(http::AgentAdmin::ready)};
    std::atomic<uint64_t> agent_errors_{0};
};

}  // namespace dlba::server
