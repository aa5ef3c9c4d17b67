#include "qos/qos_queues.hpp"

#include <unistd.h>

#include <algorithm>

namespace dlba::server {

QosQueues::QosQueues(unsigned workers)
    : inboxes_(new Inbox[workers == 0 ? 1 : workers]), workers_(workers == 0 ? 1 : workers) {
    for (unsigned i = 0; i < workers_; ++i) inboxes_[i].granted.reserve(64);
}

void QosQueues::set_wakeup(unsigned worker, int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (worker < workers_) inboxes_[worker].wake_fd = fd;
}

bool QosQueues::can_take(const QosWaiter& w, const BackendState& b, int64_t now_ms) {
    if (w.bound) return w.bound == &b;
    if (!b.usable_for_new(now_ms)) return false;
    return std::find(w.candidates.begin(), w.candidates.end(), &b) != w.candidates.end();
}

void QosQueues::count(const QosWaiter& w, int delta) {
    const auto d = static_cast<uint32_t>(delta);  // modular: -1 subtracts
    w.service->queued[w.cls].fetch_add(d, std::memory_order_relaxed);
    waiting_.fetch_add(d, std::memory_order_relaxed);
    if (w.bound) {
        w.bound->qos_waiters.fetch_add(d, std::memory_order_seq_cst);
    } else {
        for (BackendState* b : w.candidates) b->qos_waiters.fetch_add(d, std::memory_order_seq_cst);
    }
}

void QosQueues::link(QosWaiter& w) {
    List& l = lists_[w.cls];
    w.seq = ++seq_;
    w.prev = l.tail;
    w.next = nullptr;
    (l.tail ? l.tail->next : l.head) = &w;
    l.tail = &w;
    w.state.store(WaitState::queued, std::memory_order_release);
    count(w, +1);
}

void QosQueues::unlink(QosWaiter& w) {
    List& l = lists_[w.cls];
    (w.prev ? w.prev->next : l.head) = w.next;
    (w.next ? w.next->prev : l.tail) = w.prev;
    w.prev = w.next = nullptr;
    count(w, -1);
}

void QosQueues::wake(unsigned worker, unsigned self) {
    if (worker == self) return;  // it looks at its inbox after its event batch
    const int fd = inboxes_[worker].wake_fd;
    const uint64_t one = 1;
    if (fd >= 0) [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
}

void QosQueues::grant(QosWaiter& w, BackendState& b) {
    unlink(w);
    w.granted = &b;
    w.state.store(WaitState::granted, std::memory_order_release);
    w.service->waited.fetch_add(1, std::memory_order_relaxed);
    Inbox& in = inboxes_[w.worker];
    in.granted.push_back(&w);
    in.pending.store(true, std::memory_order_release);
}

bool QosQueues::grant_best(BackendState& b, int64_t now_ms, unsigned* woken) {
    for (List& l : lists_) {
        for (QosWaiter* w = l.head; w; w = w->next) {
            if (!can_take(*w, b, now_ms)) continue;
            *woken = w->worker;
            grant(*w, b);
            return true;
        }
    }
    return false;
}

Enqueued QosQueues::enqueue(QosWaiter& w, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (w.service->total() >= w.max_queued) {
        w.service->full.fetch_add(1, std::memory_order_relaxed);
        return Enqueued::full;
    }
    link(w);  // counted in qos_waiters first: a slot freed from now on looks here
    // One more try now that releasers can see us: a slot freed just before would otherwise wait for the next one.
    // Those ahead in the queue had their chance at every freed slot, so this takes nothing from them.
    auto take = [&](BackendState* b) {
        if (!b->try_begin_request()) return false;
        unlink(w);
        w.granted = b;
        w.state.store(WaitState::taken, std::memory_order_release);
        return true;
    };
    if (w.bound) {
        if (take(w.bound)) return Enqueued::granted;
    } else {
        for (BackendState* b : w.candidates) {
            if (b->usable_for_new(now_ms) && b->has_room() && take(b)) return Enqueued::granted;
        }
    }
    return Enqueued::queued;
}

void QosQueues::release(BackendState& b, int64_t now_ms, unsigned self) {
    if (b.qos_waiters.load(std::memory_order_seq_cst) == 0) {
        b.end_request();
        // A waiter that enqueued meanwhile tries the slot itself after counting itself; if it counted itself
        // before our decrement, it may have missed the slot: look once, under the mutex.
        if (b.qos_waiters.load(std::memory_order_seq_cst) == 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (!b.try_begin_request()) return;  // someone took it
        unsigned woken = 0;
        if (grant_best(b, now_ms, &woken)) {
            wake(woken, self);
        } else {
            b.end_request();
        }
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    unsigned woken = 0;
    if (grant_best(b, now_ms, &woken)) {
        wake(woken, self);  // the slot passes on: `active` does not move
    } else {
        b.end_request();
    }
}

BackendState* QosQueues::withdraw(QosWaiter& w) {
    std::lock_guard<std::mutex> lock(mutex_);
    const WaitState s = w.state.load(std::memory_order_acquire);
    w.state.store(WaitState::none, std::memory_order_release);
    switch (s) {
        case WaitState::none: return nullptr;
        case WaitState::queued: unlink(w); return nullptr;
        case WaitState::granted: {
            std::vector<QosWaiter*>& g = inboxes_[w.worker].granted;
            g.erase(std::remove(g.begin(), g.end(), &w), g.end());
            return w.granted;
        }
        case WaitState::taken: return w.granted;
    }
    return nullptr;
}

void QosQueues::poll(int64_t now_ms) {
    if (waiting() == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    for (List& l : lists_) {
        for (QosWaiter* w = l.head; w;) {
            QosWaiter* next = w->next;
            BackendState* got = nullptr;
            if (w->bound) {
                if (w->bound->try_begin_request()) got = w->bound;
            } else {
                for (BackendState* b : w->candidates) {
                    if (b->usable_for_new(now_ms) && b->has_room() && b->try_begin_request()) {
                        got = b;
                        break;
                    }
                }
            }
            if (got) {
                grant(*w, *got);
                wake(w->worker, workers_);  // from the timer scan: wake whoever it is
            }
            w = next;
        }
    }
}

void QosQueues::take_grants(unsigned worker, std::vector<QosWaiter*>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    Inbox& in = inboxes_[worker];
    for (QosWaiter* w : in.granted) {
        w->state.store(WaitState::taken, std::memory_order_release);
        out.push_back(w);
    }
    in.granted.clear();
    in.pending.store(false, std::memory_order_release);
}

}  // namespace dlba::server

namespace dlba::server {

std::vector<ServiceQos> build_service_qos(const Config& config, const std::vector<std::shared_ptr<BackendState>>& backends,
                                          const Config* previous_config, const std::vector<ServiceQos>* previous) {
    std::vector<ServiceQos> out;
    for (const ServiceConfig& s : config.services) {
        ServiceQos q;
        for (size_t b : s.backends) {
            q.backends.push_back(backends[b].get());
            if (config.backends[b].max_inflight > 0) q.enabled = true;
        }
        q.classify = q.enabled || !s.qos.classes.empty();
        if (previous_config && previous) {
            for (size_t i = 0; i < previous_config->services.size() && i < previous->size(); ++i) {
                if (previous_config->services[i].name == s.name) q.state = (*previous)[i].state;
            }
        }
        if (!q.state) q.state = std::make_shared<QosServiceState>();
        out.push_back(std::move(q));
    }
    return out;
}

}  // namespace dlba::server
