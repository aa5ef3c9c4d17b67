// The QoS part of BackendExchange (net/backend_exchange.hpp): taking a slot on the chosen back end, waiting in the
// process's QoS queue (qos/qos_queues.hpp) when it is full, going on when a slot is handed over, and giving up at
// the queue timeout (503 with Retry-After) or at once when the queue is full.
#include "net/backend_exchange.hpp"

#include "net/worker_context.hpp"
#include "qos/admission.hpp"

namespace dlba::server {

ExchangeStep BackendExchange::admit(bool allow_pool) {
    BackendState& st = *gen_->backends[backend_];
    if (!qos_ || !qos_->enabled) {
        st.begin_request();  // no back end of the service has a limit: the plain count
        return start_backend(allow_pool);
    }
    if (st.try_begin_request()) return start_backend(allow_pool);
    return wait_for_slot(binds_backend(reason_), allow_pool);
}

ExchangeStep BackendExchange::wait_for_slot(bool bound, bool allow_pool) {
    const QosQueueConfig& q = balancer_->service().qos.queue;
    waiter_.cls = class_;
    waiter_.worker = w_.id;
    waiter_.owner = owner_;
    waiter_.bound = bound ? gen_->backends[backend_].get() : nullptr;
    waiter_.candidates = qos_->backends;
    waiter_.service = qos_->state.get();
    waiter_.max_queued = q.max_queued;
    const int64_t now = w_.now_ms();
    switch (w_.shared.qos.enqueue(waiter_, now)) {
        case Enqueued::full:
            retry_after_s_ = retry_after_seconds(q.timeout_ms);  // counted as queue_full, not no_backend
            return give_up(503);
        case Enqueued::granted:
            waiter_.state.store(WaitState::none, std::memory_order_relaxed);
            return resume_with(*waiter_.granted);
        case Enqueued::queued: break;
    }
    waiting_ = true;
    wait_allows_pool_ = allow_pool;
    queue_start_ms_ = now;
    return ExchangeStep::blocked;
}

ExchangeStep BackendExchange::resume_with(BackendState& granted) {
    const int64_t now = w_.now_ms();
    if (waiting_) {
        waiting_ = false;
        queue_ms_ += now - queue_start_ms_;
        queue_left_ms_ = now;
    }
    // The slot is on `granted`; find it among the service's back ends (the waiter's own generation).
    for (size_t i = 0; i < qos_->backends.size(); ++i) {
        if (qos_->backends[i] != &granted) continue;
        if (balancer_->backend_index(i) != backend_ || !has_backend_) reason_ = ChoiceReason::queue;
        service_backend_ = i;
        backend_ = balancer_->backend_index(i);
        has_backend_ = true;
        break;
    }
    return start_backend(wait_allows_pool_);
}

ExchangeStep BackendExchange::wait_step() {
    if (waiter_.state.load(std::memory_order_acquire) != WaitState::taken) return ExchangeStep::blocked;
    waiter_.state.store(WaitState::none, std::memory_order_relaxed);
    return resume_with(*waiter_.granted);
}

ExchangeStep BackendExchange::queue_deadline(int64_t now_ms) {
    const QosQueueConfig& q = balancer_->service().qos.queue;
    if (now_ms - queue_start_ms_ < q.timeout_ms) return ExchangeStep::blocked;
    if (BackendState* held = w_.shared.qos.withdraw(waiter_)) return resume_with(*held);  // granted just now
    waiting_ = false;
    queue_ms_ += now_ms - queue_start_ms_;
    queue_left_ms_ = now_ms;
    waiter_.service->timeouts.fetch_add(1, std::memory_order_relaxed);
    if (waiter_.bound) {
        waiter_.bound->qos_timeouts.fetch_add(1, std::memory_order_relaxed);
    } else {
        for (BackendState* b : waiter_.candidates) b->qos_timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    retry_after_s_ = retry_after_seconds(q.timeout_ms);
    return give_up(503);
}

void BackendExchange::leave_queue(bool abandoned) {
    if (!waiting_) return;
    waiting_ = false;
    const int64_t now = w_.now_ms();
    queue_ms_ += now - queue_start_ms_;
    queue_left_ms_ = now;
    if (abandoned) waiter_.service->abandoned.fetch_add(1, std::memory_order_relaxed);
    if (BackendState* held = w_.shared.qos.withdraw(waiter_)) w_.shared.qos.release(*held, now, w_.id);
}

void BackendExchange::release_slot() {
    active_counted_ = false;
    BackendState& st = *gen_->backends[backend_];
    if (qos_ && qos_->enabled) {
        w_.shared.qos.release(st, w_.now_ms(), w_.id);
    } else {
        st.end_request();
    }
}

}  // namespace dlba::server
