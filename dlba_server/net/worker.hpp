// A worker thread: its own epoll, its own SO_REUSEPORT listener per configured listener (the kernel spreads new
// connections over the workers), its client sessions, its idle back-end connections and its pools. Nothing in a
// worker is touched by another thread except the stop request (an eventfd) and the counters the monitor reads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/fd.hpp"
#include "net/session.hpp"
#include "net/shared.hpp"
#include "status/stats.hpp"

namespace dlba::server {

struct Listener {
    Handle handle{HandleKind::listener, this};
    io::Fd fd;
    const ListenerConfig* config = nullptr;
    std::string local;  // "address:port", the Host for requests that carry none
};

class Worker {
public:
    Worker(Shared& shared, unsigned id);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Binds this worker's listeners (before the thread starts, so a bad address stops the process at once).
    bool open_listeners(std::string* err);
    void start();
    void request_stop();  // any thread: stop accepting, finish in-flight requests within shutdown_ms, then return
    void join();

    const WorkerStats& stats() const { return stats_; }
    unsigned id() const { return id_; }

    // ---- for sessions ----
    Shared& shared() { return shared_; }
    WorkerStats& counters() { return stats_; }
    BufferPool& buffers() { return buffers_; }
    int64_t now_ms() const { return now_us_ / 1000; }
    int64_t now_us() const { return now_us_; }
    int64_t wall_seconds() const { return wall_s_; }
    bool stopping() const { return stopping_; }
    uint32_t next_rotation() { return rotation_++; }

    // Working space for one balancing decision (sized for the largest service).
    struct Scratch {
        std::unique_ptr<bool[]> usable_new, usable_sticky;
        std::vector<uint32_t> active, weight;
        std::vector<double> average_ms;
    };
    Scratch& scratch() { return scratch_; }

    ParserSlot* acquire_parser(Session* s);
    void release_parser(ParserSlot* p);
    Exchange* acquire_exchange();
    void release_exchange(Exchange* e);

    // A connection to back end `backend` for `owner`: an idle pooled one when there is one (reused = true), else a
    // new non-blocking connect. nullptr when the socket could not even be created or the connect failed at once.
    BackendConn* connect_backend(size_t backend, Session* owner, bool allow_pool, bool* reused);
    // Done with a back-end connection: back to the idle pool when reusable and there is room, else closed.
    void release_backend(BackendConn* conn, bool reusable);

    void schedule(Session* s);         // drive it again on the next loop turn (it stopped to let others run)
    void session_closed(Session* s);   // the session closed its socket; freed after the current event batch
    void access_log(std::string_view line);
    // Rate-limited error log (at most one line per second per kind, with the count of those suppressed).
    void log_limited(int kind, const std::string& message);

private:
    void run();
    void accept_from(Listener& l);
    void sweep();
    void close_idle_conn(BackendConn* c);
    void free_dead();
    void flush_access_log();
    void update_clock();

    Shared& shared_;
    unsigned id_;
    io::Fd epoll_;
    io::Fd wakeup_;
    Handle wakeup_handle_{HandleKind::wakeup, this};
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::thread thread_;
    std::atomic<bool> stop_requested_{false};
    bool stopping_ = false;
    int64_t stop_deadline_ms_ = 0;

    WorkerStats stats_;
    BufferPool buffers_;
    http::RequestLimits request_limits_;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::vector<std::unique_ptr<Session>> dead_sessions_;
    std::vector<Session*> ready_;
    std::vector<Session*> ready_batch_;
    std::vector<std::unique_ptr<ParserSlot>> free_parsers_;
    std::vector<std::unique_ptr<Exchange>> free_exchanges_;
    std::vector<std::unique_ptr<BackendConn>> conns_;     // every BackendConn object this worker owns
    std::vector<BackendConn*> free_conns_;
    std::vector<BackendConn*> dead_conns_;
    std::vector<std::vector<BackendConn*>> idle_;  // per back end, most recently used last

    int64_t now_us_ = 0;
    int64_t wall_s_ = 0;
    int64_t last_sweep_ms_ = 0;
    uint32_t rotation_ = 0;
    Scratch scratch_;
    std::string log_buffer_;
    int64_t log_last_ms_[4] = {};
    uint64_t log_suppressed_[4] = {};
};

}  // namespace dlba::server
