// A worker thread: its own epoll, its own SO_REUSEPORT listening socket per configured listener (the kernel spreads
// new connections over the workers) and its event loop around its WorkerContext (net/worker_context.hpp: the
// sessions, pools, counters and generations). Nothing in a worker is touched by another thread except the stop
// request and the wake-up (an eventfd), the listening sockets handed over for a new generation (a short lock, at
// reloads only), and the counters the monitor reads.
//
// The loop: wait for events (at most one timer-scan period), dispatch them to listeners, sessions and back-end
// connections, drive the sessions that stopped to let others run, scan the timers every kTimerScanMs (session
// deadlines, idle pooled connections, the access log's flush), free what closed in the batch.
//
// Configuration generations (see shared.hpp): at the top of its loop the worker compares the published generation
// number with the one it runs; when it moved, it adopts the new generation at once, between two event batches:
//   - listeners: kept ones (same address:port) keep their socket, so nothing waiting in an accept queue is lost,
//     and take the new tls/service settings; new ones take the socket the control thread bound for this worker;
//     removed ones are closed, and their connections finish the request in progress and close;
//   - idle pooled back-end connections of back ends that continue move to the new table (trimmed to the new pool
//     depth); those of removed back ends are closed (net/backend_pool.hpp);
//   - sessions between requests switch now; sessions in the middle of a request finish it on their generation
//     and switch before the next one. A generation is let go once no session of this worker uses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/fd.hpp"
#include "net/event_handle.hpp"
#include "net/listen_socket.hpp"
#include "net/shared.hpp"
#include "net/worker_context.hpp"
#include "status/stats.hpp"

namespace dlba::server {

class Worker {
public:
    Worker(Shared& shared, unsigned id);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    bool init(std::string* err);  // the epoll set and the wake-up eventfd
    void start();                 // the thread adopts the published generation first
    void request_stop();  // any thread: stop accepting, finish in-flight requests within shutdown_ms, then return
    void join();

    // ---- for the control thread (reloads) ----
    // Listening sockets for the generation about to be published; taken when the worker adopts it.
    void hand_listeners(std::vector<NewListener> sockets);
    void wake();
    uint64_t adopted_generation() const { return adopted_.load(std::memory_order_acquire); }
    bool running() const { return thread_.joinable() && !stop_requested_.load(std::memory_order_relaxed); }

    const WorkerStats& stats() const { return ctx_.stats; }
    unsigned id() const { return ctx_.id; }

private:
    void run();
    void adopt_generation();
    void adopt_listeners(const Generation& next);
    void begin_stopping();
    void dispatch(const EventHandle& h, uint32_t events);
    void accept_from(Listener& l);
    void scan_timers();
    void run_qos_grants();

    Shared& shared_;
    io::Fd epoll_;  // before ctx_: its back-end pool adds connections to it
    io::Fd wakeup_;
    EventHandle wakeup_handle_{HandleKind::wakeup, this};
    std::thread thread_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<uint64_t> adopted_{0};
    int64_t stop_deadline_ms_ = 0;
    int64_t last_timer_scan_ms_ = 0;

    std::mutex inbox_mutex_;
    std::vector<NewListener> inbox_;  // sockets handed over by the control thread, not yet adopted
    std::vector<QosWaiter*> qos_grants_;  // taken from the QoS queue's inbox for this worker (capacity kept)

    WorkerContext ctx_;
};

}  // namespace dlba::server
