// A worker thread: its own epoll, its own SO_REUSEPORT listening socket per configured listener (the kernel spreads
// new connections over the workers), its client sessions, its idle back-end connections and its pools. Nothing in
// a worker is touched by another thread except the stop request and the wake-up (an eventfd), the listening
// sockets handed over for a new generation (a short lock, at reloads only), and the counters the monitor reads.
//
// Configuration generations (see shared.hpp): at the top of its loop the worker compares the published generation
// number with the one it runs; when it moved, it adopts the new generation at once, between two event batches:
//   - listeners: kept ones (same address:port) keep their socket, so nothing waiting in an accept queue is lost,
//     and take the new tls/service settings; new ones take the socket the control thread bound for this worker;
//     removed ones are closed, and their connections finish the request in progress and close;
//   - idle pooled back-end connections of back ends that continue move to the new table (trimmed to the new pool
//     depth); those of removed back ends are closed;
//   - sessions between requests switch now; sessions in the middle of a request finish it on their generation
//     and switch before the next one. A generation is let go once no session of this worker uses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/fd.hpp"
#include "net/session.hpp"
#include "net/shared.hpp"
#include "reload/reload_plan.hpp"
#include "status/stats.hpp"

namespace dlba::server {

struct Listener {
    Handle handle{HandleKind::listener, this};
    io::Fd fd;
    ListenerKey key;
    bool tls = false;    // per the worker's current generation
    size_t service = 0;  // index of the service in the worker's current generation
};

// A listening socket the control thread bound for one worker, for the generation it is about to publish.
struct NewListener {
    ListenerKey key;
    io::Fd fd;
};

// A generation as one worker holds it. The sessions using it are counted here, by the worker alone (no atomic per
// connection); the worker lets go of a generation once it is neither its current one nor used by a session.
struct GenerationRef {
    std::shared_ptr<const Generation> gen;
    uint32_t users = 0;
};

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

    const WorkerStats& stats() const { return stats_; }
    unsigned id() const { return id_; }

    // ---- for sessions ----
    Shared& shared() { return shared_; }
    const Generation& generation() const { return *current_->gen; }
    GenerationRef* current_generation() const { return current_; }
    GenerationRef* hold_generation() {
        ++current_->users;
        return current_;
    }
    void release_generation(GenerationRef* g);
    // The service of the listener bound to `key` in the current generation; nullopt when the listener is gone.
    std::optional<size_t> listener_service(const ListenerKey& key) const;

    WorkerStats& counters() { return stats_; }
    BufferPool& buffers() { return buffers_; }
    int64_t now_ms() const { return now_us_ / 1000; }
    int64_t now_us() const { return now_us_; }
    int64_t wall_seconds() const { return wall_s_; }
    bool stopping() const { return stopping_; }
    uint32_t next_rotation() { return rotation_++; }

    // Working space for one balancing decision (sized for the largest service of any generation in use).
    struct Scratch {
        std::unique_ptr<bool[]> usable_new, usable_sticky;
        std::vector<uint32_t> active, weight;
        std::vector<double> average_ms;
        size_t size = 0;
    };
    Scratch& scratch() { return scratch_; }

    ParserSlot* acquire_parser(Session* s);
    void release_parser(ParserSlot* p);
    Exchange* acquire_exchange();
    void release_exchange(Exchange* e);

    // A connection to back end `backend` of generation `g` for `owner`: an idle pooled one when there is one and
    // `g` is the worker's current generation (reused = true), else a new non-blocking connect. nullptr when the
    // socket could not even be created or the connect failed at once.
    BackendConn* connect_backend(const Generation& g, size_t backend, Session* owner, bool allow_pool, bool* reused);
    // Done with a back-end connection: back to the idle pool when reusable, of the current generation and there is
    // room, else closed.
    void release_backend(BackendConn* conn, bool reusable);

    void schedule(Session* s);         // drive it again on the next loop turn (it stopped to let others run)
    void session_closed(Session* s);   // the session closed its socket; freed after the current event batch
    bool access_log_enabled() const { return generation().access_log_fd >= 0; }
    void access_log(std::string_view line);
    // Rate-limited error log (at most one line per second per kind, with the count of those suppressed).
    void log_limited(int kind, const std::string& message);

private:
    void run();
    void adopt_generation();
    void accept_from(Listener& l);
    void sweep();
    void close_conn(BackendConn* c);
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
    std::atomic<uint64_t> adopted_{0};
    bool stopping_ = false;
    int64_t stop_deadline_ms_ = 0;

    std::mutex inbox_mutex_;
    std::vector<NewListener> inbox_;  // sockets handed over by the control thread, not yet adopted

    // Declared before the sessions: a session lets go of its generation when it is freed.
    std::vector<std::unique_ptr<GenerationRef>> generations_;  // the current one and older ones still in use
    GenerationRef* current_ = nullptr;

    WorkerStats stats_;
    BufferPool buffers_;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::vector<std::unique_ptr<Session>> dead_sessions_;
    std::vector<Session*> ready_;
    std::vector<Session*> ready_batch_;
    std::vector<std::unique_ptr<ParserSlot>> free_parsers_;  // all built with the current generation's limits
    std::vector<std::unique_ptr<Exchange>> free_exchanges_;
    std::vector<std::unique_ptr<BackendConn>> conns_;     // every BackendConn object this worker owns
    std::vector<BackendConn*> free_conns_;
    std::vector<BackendConn*> dead_conns_;
    std::vector<std::vector<BackendConn*>> idle_;  // per back end of the current generation, most recently used last

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
