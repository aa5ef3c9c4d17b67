// What a worker's sessions use of their worker, in one struct (as l3fwd's lcore_conf holds one loop's state): the
// clock of the current event batch, the counters, the buffer, parser and exchange pools, the back-end connection
// pool, the configuration generations in use, the logs, the listeners' services and the session list (to be driven
// again, or freed once closed). Touched by the worker's thread alone, so nothing here locks. The Worker
// (net/worker.hpp) owns it and runs the event loop around it; sessions and back-end exchanges hold a reference to
// it and never see the Worker. Every method a session calls per event is inline or a plain call: no virtual call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "io/fd.hpp"
#include "net/access_log.hpp"
#include "net/backend_pool.hpp"
#include "net/buffers.hpp"
#include "net/generation_slots.hpp"
#include "net/limited_log.hpp"
#include "net/listen_socket.hpp"
#include "net/shared.hpp"
#include "status/stats.hpp"

namespace dlba::server {

class Session;
class BackendExchange;
struct ParserSlot;

// Working space for one balancing decision, sized for the widest service of any generation in use.
struct BalanceScratch {
    std::unique_ptr<bool[]> usable_new, usable_sticky;
    std::vector<uint32_t> active, weight;
    std::vector<double> average_ms;
    size_t size = 0;

    void fit(const Generation& g);  // grows to g's widest service, never shrinks
};

// The worker's client sessions: the live ones, those waiting for their next turn (they stopped to let others run),
// and those closed in the current event batch (freed at its end: later events of the batch may still point at
// them).
class SessionList {
public:
    SessionList() = default;
    ~SessionList();
    SessionList(const SessionList&) = delete;
    SessionList& operator=(const SessionList&) = delete;

    bool empty() const { return live_.empty(); }
    size_t size() const { return live_.size(); }
    Session* back() const { return live_.back().get(); }

    void add(std::unique_ptr<Session> s);
    // Out of the live list (swap-remove) and off the waiting list; the object lives until free_dead().
    void remove(Session* s);
    void schedule(Session* s) { ready_.push_back(s); }  // drive it again on the next loop turn
    bool any_scheduled() const { return !ready_.empty(); }

    // Calls f(Session&) on every live session; f may close it (which swaps another into its place).
    template <class F>
    void for_each(F&& f) {
        for (size_t i = 0; i < live_.size();) {
            Session* s = live_[i].get();
            f(*s);
            if (i < live_.size() && live_[i].get() == s) ++i;
        }
    }
    // Calls f(Session&) on the sessions scheduled so far (those f schedules again wait for the next turn).
    template <class F>
    void for_each_scheduled(F&& f) {
        if (ready_.empty()) return;
        batch_.clear();
        batch_.swap(ready_);
        for (Session* s : batch_) f(*s);
    }
    void free_dead();

private:
    std::vector<std::unique_ptr<Session>> live_;
    std::vector<std::unique_ptr<Session>> dead_;
    std::vector<Session*> ready_;
    std::vector<Session*> batch_;
};

class WorkerContext {
public:
    // `epoll` is the worker's epoll set (back-end connections are added to it).
    WorkerContext(Shared& shared, unsigned id, const io::Fd& epoll);
    ~WorkerContext();
    WorkerContext(const WorkerContext&) = delete;
    WorkerContext& operator=(const WorkerContext&) = delete;

    // ---- the clock, read once per event batch ----
    void update_clock();
    int64_t now_ms() const { return now_us_ / 1000; }
    int64_t now_us() const { return now_us_; }
    int64_t wall_seconds() const { return wall_s_; }

    // ---- the configuration ----
    const Generation& generation() const { return generations.generation(); }  // the worker's current one
    // The service of the listener bound to `key` in the current generation; nullopt when the listener is gone.
    std::optional<size_t> listener_service(const ListenerKey& key) const;
    bool stopping() const { return stopping_; }
    // No request after the ones in progress: their responses say close, and back-end connections are not pooled.
    void begin_stopping();

    // Ties among equally loaded back ends take turns: a counter per worker.
    uint32_t next_rotation() { return rotation_++; }

    // ---- pools (the capacity of what they hand out is kept) ----
    ParserSlot* acquire_parser(Session* s);  // built with the current generation's request limits
    void release_parser(ParserSlot* p);
    void drop_pooled_parsers();              // a new generation: they were built with the old limits
    BackendExchange* acquire_exchange();
    void release_exchange(BackendExchange* e);

    // ---- sessions ----
    void schedule(Session* s) { sessions.schedule(s); }
    // The session closed its socket: out of the lists and the connection count; freed at the end of the batch.
    void session_closed(Session* s);
    // The end of an event batch: the sessions and back-end connections closed in it are freed.
    void free_dead();

private:
    // Declared first, so that they outlive the sessions (a session hands its parser and exchange back when freed).
    int64_t now_us_ = 0;
    int64_t wall_s_ = 0;
    uint32_t rotation_;
    bool stopping_ = false;
    std::vector<std::unique_ptr<ParserSlot>> free_parsers_;  // all built with the current generation's limits
    std::vector<std::unique_ptr<BackendExchange>> free_exchanges_;

public:
    const unsigned id;
    Shared& shared;
    WorkerStats stats;
    BufferPool buffers;
    LimitedLog log;
    AccessLog access_log;
    GenerationSlots generations;  // before the sessions: a session lets go of its generation when it is freed
    BackendPool backends;
    BalanceScratch scratch;
    std::vector<std::unique_ptr<Listener>> listeners;  // per the current generation
    SessionList sessions;                              // last: freed first
};

}  // namespace dlba::server
