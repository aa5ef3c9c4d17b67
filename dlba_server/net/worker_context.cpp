#include "net/worker_context.hpp"

#include <algorithm>

#include "clock.hpp"
#include "net/backend_exchange.hpp"
#include "net/parser_slot.hpp"
#include "net/session.hpp"

namespace dlba::server {

namespace {

constexpr size_t kMaxPooled = 256;  // parsers and exchanges kept for reuse

}  // namespace

void BalanceScratch::fit(const Generation& g) {
    size_t widest = 1;
    for (const Balancer& b : g.balancers) widest = std::max(widest, b.size());
    if (widest <= size) return;
    usable_new.reset(new bool[widest]);
    usable_sticky.reset(new bool[widest]);
    active.resize(widest);
    weight.resize(widest);
    average_ms.resize(widest);
    size = widest;
}

// ---- SessionList ----

SessionList::~SessionList() = default;

void SessionList::add(std::unique_ptr<Session> s) {
    s->slot = live_.size();
    live_.push_back(std::move(s));
}

void SessionList::remove(Session* s) {
    const size_t slot = s->slot;
    std::unique_ptr<Session> owned = std::move(live_[slot]);
    if (slot != live_.size() - 1) {
        live_[slot] = std::move(live_.back());
        live_[slot]->slot = slot;
    }
    live_.pop_back();
    dead_.push_back(std::move(owned));
    // A session waiting for its next turn must not be driven once it is freed.
    ready_.erase(std::remove(ready_.begin(), ready_.end(), s), ready_.end());
}

void SessionList::free_dead() { dead_.clear(); }

// ---- WorkerContext ----

WorkerContext::WorkerContext(Shared& shared_state, unsigned worker_id, const io::Fd& epoll)
    : rotation_(worker_id * 7919), id(worker_id), shared(shared_state), log(worker_id), backends(epoll, log, worker_id) {
    update_clock();
}

WorkerContext::~WorkerContext() = default;

void WorkerContext::update_clock() {
    now_us_ = static_cast<int64_t>(clock::monotonic_us());
    wall_s_ = static_cast<int64_t>(clock::unix_s());
}

std::optional<size_t> WorkerContext::listener_service(const ListenerKey& key) const {
    for (const auto& l : listeners) {
        if (l->key == key) return l->service;
    }
    return std::nullopt;
}

void WorkerContext::begin_stopping() {
    stopping_ = true;
    backends.stop_pooling();
}

ParserSlot* WorkerContext::acquire_parser(Session* s) {
    ParserSlot* p;
    if (free_parsers_.empty()) {
        p = new ParserSlot(generation().request_limits);
        p->generation = generation().number;
    } else {
        p = free_parsers_.back().release();
        free_parsers_.pop_back();
    }
    p->session = s;
    return p;
}

void WorkerContext::release_parser(ParserSlot* p) {
    if (!p) return;
    // A parser that is not between requests (an error, a closed connection) is replaced rather than reset.
    if (!p->parser.idle() || free_parsers_.size() >= kMaxPooled || p->generation != generation().number) {
        delete p;
        return;
    }
    p->session = nullptr;
    free_parsers_.emplace_back(p);
}

void WorkerContext::drop_pooled_parsers() { free_parsers_.clear(); }

BackendExchange* WorkerContext::acquire_exchange() {
    BackendExchange* e;
    if (free_exchanges_.empty()) {
        e = new BackendExchange(*this);
    } else {
        e = free_exchanges_.back().release();
        free_exchanges_.pop_back();
    }
    e->reset();
    return e;
}

void WorkerContext::release_exchange(BackendExchange* e) {
    e->release_buffers();
    if (free_exchanges_.size() >= kMaxPooled) {
        delete e;
        return;
    }
    free_exchanges_.emplace_back(e);
}

void WorkerContext::session_closed(Session* s) {
    sessions.remove(s);
    shared.connections.fetch_sub(1, std::memory_order_relaxed);
    if (s->peer().counted_per_ip) shared.per_ip.release(s->peer().ip);
    stats.connections_open.sub();
}

void WorkerContext::free_dead() {
    sessions.free_dead();
    backends.free_dead();
}

}  // namespace dlba::server
