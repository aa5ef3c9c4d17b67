#include "health/health_checker.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "clock.hpp"

namespace dlba::server {

namespace {

constexpr int kMaxEvents = 64;
constexpr int kMaxWaitMs = 200;  // the longest sleep: a stop or a new generation is noticed within it

}  // namespace

HealthChecker::HealthChecker(Shared& shared, uint64_t seed) : shared_(shared), rng_(seed | 1) {}

HealthChecker::~HealthChecker() { stop(); }

bool HealthChecker::start(std::string* err) {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
        *err = std::string("health checker: epoll: ") + std::strerror(errno);
        return false;
    }
    thread_ = std::thread([this] { run(); });
    return true;
}

void HealthChecker::stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
}

// interval x (0.85 .. 1.15), from a xorshift64 generator: no lock, no allocation.
int64_t HealthChecker::jittered(uint32_t interval_ms) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    const double u = static_cast<double>(rng_ >> 11) * 0x1.0p-53;  // [0, 1)
    return static_cast<int64_t>(interval_ms * (0.85 + 0.30 * u));
}

void HealthChecker::take_generation(const std::shared_ptr<const Generation>& gen, int64_t now_ms) {
    for (auto& p : probes_) p->abort(epoll_.get());
    std::vector<std::unique_ptr<Probe>> next;
    for (size_t i = 0; i < gen->backends.size(); ++i) {
        const BackendConfig& c = gen->config.backends[i];
        const std::shared_ptr<BackendState>& st = gen->backends[i];
        if (!c.check.enabled) st->clear_check();
        st->set_agent_on(c.agent.enabled);
        if (c.check.enabled) {
            next.push_back(std::make_unique<Probe>(Probe::Kind::check, st, c, gen->backend_tls[i]));
        }
        if (c.agent.enabled) next.push_back(std::make_unique<Probe>(Probe::Kind::agent, st, c, nullptr));
    }
    for (auto& p : next) {
        // The first exchange soon (a fraction of an interval): a reload or a start learns the state quickly.
        p->next_ms = now_ms + jittered(p->interval_ms()) / 4;
    }
    probes_ = std::move(next);  // the old probes' sockets are closed already
    gen_ = gen;
}

void HealthChecker::run() {
    epoll_event events[kMaxEvents];
    while (!stop_.load(std::memory_order_relaxed)) {
        int64_t now = static_cast<int64_t>(clock::monotonic_ms());
        if (const uint64_t n = shared_.generation_number(); n != gen_number_) {
            gen_number_ = n;
            take_generation(shared_.current(), now);
        }
        int64_t wake = now + kMaxWaitMs;
        for (auto& p : probes_) {
            if (p->running()) {
                if (p->deadline_ms() <= now) p->on_timeout(epoll_.get());
            } else if (p->next_ms <= now) {
                p->next_ms = now + jittered(p->interval_ms());
                p->start(epoll_.get(), now);
            }
            wake = std::min(wake, p->running() ? p->deadline_ms() : p->next_ms);
        }
        const int wait = static_cast<int>(std::max<int64_t>(0, wake - now));
        const int n = epoll_wait(epoll_.get(), events, kMaxEvents, wait);
        for (int i = 0; i < n; ++i) static_cast<Probe*>(events[i].data.ptr)->on_ready(epoll_.get(), events[i].events);
    }
    for (auto& p : probes_) p->abort(epoll_.get());
}

}  // namespace dlba::server
