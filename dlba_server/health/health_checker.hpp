// The active health checks and load agents of one dlba-server process: one thread, whatever the number of
// workers, with its own epoll and one non-blocking socket per exchange in progress (health/probe.hpp).
//
// Why a thread of its own rather than a worker's loop: a check is rare (one per back end and interval) but its
// TLS handshake and certificate verification cost about a millisecond of CPU, which a worker would take from its
// clients' requests; and a worker that owned the checks would have to be told apart from its peers in every
// generation switch. The thread shares nothing with the workers but the atomics of BackendState (verdict, agent
// state, percentage), which the request path reads with relaxed loads; it never takes a worker's lock.
//
// Generations: at the top of its loop the thread compares Shared::generation_number() with the one it runs and,
// when it moved, takes the new generation: probes for the back ends that have a check or an agent in it (their
// BackendState is the same object when the back end continues, so verdicts and tallies carry over), the check and
// agent states cleared on back ends whose new configuration dropped them. Exchanges in progress are dropped then.
//
// Timing: each probe runs every interval_ms, jittered by ±15 % (a xorshift generator seeded per process), so the
// checks of many nodes and back ends do not fall into step; the first runs within one interval of start.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "health/probe.hpp"
#include "io/fd.hpp"
#include "net/shared.hpp"

namespace dlba::server {

class HealthChecker {
public:
    HealthChecker(Shared& shared, uint64_t seed);
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;
    ~HealthChecker();

    bool start(std::string* err);
    void stop();

private:
    void run();
    void take_generation(const std::shared_ptr<const Generation>& gen, int64_t now_ms);
    int64_t jittered(uint32_t interval_ms);

    Shared& shared_;
    io::Fd epoll_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::shared_ptr<const Generation> gen_;  // the one the probes were made for (keeps its TLS contexts alive)
    uint64_t gen_number_ = 0;
    std::vector<std::unique_ptr<Probe>> probes_;
    uint64_t rng_;
};

}  // namespace dlba::server
