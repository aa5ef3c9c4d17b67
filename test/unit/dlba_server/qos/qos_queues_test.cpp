// The QoS queue (qos/qos_queues.hpp) without sockets: a freed slot goes to the lowest non-empty class, FIFO within
// a class, across workers; bound waiters wait for their back end only; a full queue refuses; withdrawing gives a
// grant back; poll() hands out slots that came free another way; and under threads the limit always holds.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "qos/qos_queues.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

BackendConfig backend(const char* key, uint32_t max_inflight) {
    BackendConfig c;
    c.key = key;
    c.max_inflight = max_inflight;
    return c;
}

struct Fixture {
    BackendState a{backend("a", 1)}, b{backend("b", 1)};
    std::vector<BackendState*> both{&a, &b};
    QosServiceState service;
    QosQueues queues{3};  // three workers, never woken (no eventfd)

    void setup(QosWaiter& w, uint8_t cls, unsigned worker, BackendState* bound, uint32_t max_queued = 100) {
        w.cls = cls;
        w.worker = worker;
        w.bound = bound;
        w.candidates = both;
        w.service = &service;
        w.max_queued = max_queued;
    }
    std::vector<QosWaiter*> grants(unsigned worker) {
        std::vector<QosWaiter*> out;
        queues.take_grants(worker, out);
        return out;
    }
};

}  // namespace

TEST_CASE("qos queue: a freed slot goes to the lowest class, FIFO within a class, whatever the worker", "[qos]") {
    Fixture f;
    REQUIRE(f.a.try_begin_request());
    REQUIRE_FALSE(f.a.try_begin_request());  // max_inflight = 1
    QosWaiter w7a, w7b, w0a, w0b, w3;
    f.setup(w7a, 7, 0, &f.a);
    f.setup(w7b, 7, 1, &f.a);
    f.setup(w0a, 0, 2, &f.a);
    f.setup(w0b, 0, 0, &f.a);
    f.setup(w3, 3, 1, &f.a);
    for (QosWaiter* w : {&w7a, &w7b, &w0a, &w0b, &w3}) REQUIRE(f.queues.enqueue(*w, 0) == Enqueued::queued);
    CHECK(f.queues.waiting() == 5);
    CHECK(f.service.queued[7] == 2);
    CHECK(f.service.queued[0] == 2);
    CHECK(f.service.queued[3] == 1);
    CHECK(f.a.qos_waiters == 5);

    const QosWaiter* expected[] = {&w0a, &w0b, &w3, &w7a, &w7b};
    for (const QosWaiter* next : expected) {
        f.queues.release(f.a, 0, 99);
        CHECK(f.a.active() == 1);  // the slot passed on: never free in between
        CHECK(next->state == WaitState::granted);
        CHECK(next->granted == &f.a);
        const auto g = f.grants(next->worker);
        REQUIRE(g.size() == 1);
        CHECK(g[0] == next);
        CHECK(next->state == WaitState::taken);
    }
    CHECK(f.queues.waiting() == 0);
    CHECK(f.a.qos_waiters == 0);
    CHECK(f.service.total() == 0);
    CHECK(f.service.waited == 5);
    f.queues.release(f.a, 0, 99);  // nobody waits: the slot is free
    CHECK(f.a.active() == 0);
}

TEST_CASE("qos queue: bound waiters wait for their back end; the others take any back end of the service", "[qos]") {
    Fixture f;
    REQUIRE(f.a.try_begin_request());
    REQUIRE(f.b.try_begin_request());
    QosWaiter bound0, any7;
    f.setup(bound0, 0, 0, &f.a);
    f.setup(any7, 7, 1, nullptr);
    REQUIRE(f.queues.enqueue(bound0, 0) == Enqueued::queued);
    REQUIRE(f.queues.enqueue(any7, 0) == Enqueued::queued);
    CHECK(f.a.qos_waiters == 2);  // both could take a
    CHECK(f.b.qos_waiters == 1);
    // b frees: the class-0 waiter is bound to a, so the class-7 one gets b.
    f.queues.release(f.b, 0, 99);
    CHECK(any7.state == WaitState::granted);
    CHECK(any7.granted == &f.b);
    CHECK(bound0.state == WaitState::queued);
    f.queues.release(f.a, 0, 99);
    CHECK(bound0.granted == &f.a);
    CHECK(f.grants(0).size() == 1);
    CHECK(f.grants(1).size() == 1);
}

TEST_CASE("qos queue: waiters not bound skip back ends that take no new requests", "[qos]") {
    Fixture f;
    REQUIRE(f.a.try_begin_request());
    REQUIRE(f.b.try_begin_request());
    QosWaiter any;
    f.setup(any, 7, 0, nullptr);
    REQUIRE(f.queues.enqueue(any, 0) == Enqueued::queued);
    f.a.set_admin(BackendAdmin::drain);
    f.queues.release(f.a, 0, 99);
    CHECK(any.state == WaitState::queued);
    CHECK(f.a.active() == 0);
    f.b.mark_down(0, 1000);
    f.queues.release(f.b, 500, 99);
    CHECK(any.state == WaitState::queued);
    f.b.mark_up();
    REQUIRE(f.b.try_begin_request());
    f.queues.release(f.b, 500, 99);
    CHECK(any.granted == &f.b);
}

TEST_CASE("qos queue: max_queued per service refuses at once and counts; a free slot is taken at once", "[qos]") {
    Fixture f;
    QosWaiter first;
    f.setup(first, 7, 0, nullptr, 2);
    // Nothing in flight: the enqueuer's own second try takes a slot.
    CHECK(f.queues.enqueue(first, 0) == Enqueued::granted);
    CHECK(first.state == WaitState::taken);
    CHECK(f.queues.waiting() == 0);
    REQUIRE(f.b.try_begin_request());  // a and b full now
    QosWaiter w1, w2, w3;
    for (QosWaiter* w : {&w1, &w2, &w3}) f.setup(*w, 5, 1, nullptr, 2);
    CHECK(f.queues.enqueue(w1, 0) == Enqueued::queued);
    CHECK(f.queues.enqueue(w2, 0) == Enqueued::queued);
    CHECK(f.queues.enqueue(w3, 0) == Enqueued::full);
    CHECK(f.service.full == 1);
    CHECK(f.service.total() == 2);
}

TEST_CASE("qos queue: withdrawing leaves the queue, and gives back a grant not yet used", "[qos]") {
    Fixture f;
    REQUIRE(f.a.try_begin_request());
    QosWaiter w1, w2;
    f.setup(w1, 1, 0, &f.a);
    f.setup(w2, 2, 1, &f.a);
    REQUIRE(f.queues.enqueue(w1, 0) == Enqueued::queued);
    REQUIRE(f.queues.enqueue(w2, 0) == Enqueued::queued);
    f.queues.release(f.a, 0, 99);
    CHECK(w1.state == WaitState::granted);
    // w1's client goes away before its worker took the grant: the slot is w1's to give back, and it goes to w2.
    BackendState* held = f.queues.withdraw(w1);
    CHECK(held == &f.a);
    CHECK(f.grants(0).empty());
    f.queues.release(*held, 0, 99);
    CHECK(w2.state == WaitState::granted);
    // A queued waiter that withdraws holds nothing.
    QosWaiter w3;
    f.setup(w3, 0, 2, &f.a);
    REQUIRE(f.queues.enqueue(w3, 0) == Enqueued::queued);
    CHECK(f.queues.withdraw(w3) == nullptr);
    CHECK(f.queues.waiting() == 0);
    CHECK(f.a.qos_waiters == 0);
    CHECK(f.queues.withdraw(w3) == nullptr);  // twice is harmless
}

TEST_CASE("qos queue: poll hands out slots that came free without a release (a raised limit)", "[qos]") {
    Fixture f;
    REQUIRE(f.a.try_begin_request());
    QosWaiter w1, w2;
    f.setup(w1, 7, 0, &f.a);
    f.setup(w2, 7, 1, &f.a);
    REQUIRE(f.queues.enqueue(w1, 0) == Enqueued::queued);
    REQUIRE(f.queues.enqueue(w2, 0) == Enqueued::queued);
    f.queues.poll(0);
    CHECK(w1.state == WaitState::queued);
    f.a.set_max_inflight(3);  // a reload
    f.queues.poll(0);
    CHECK(w1.state == WaitState::granted);
    CHECK(w2.state == WaitState::granted);
    CHECK(f.a.active() == 3);
}

TEST_CASE("qos queue: under four threads the limit always holds and every waiter gets a slot", "[qos]") {
    BackendState a{backend("a", 2)};
    std::vector<BackendState*> only{&a};
    QosServiceState service;
    constexpr unsigned kThreads = 4;
    constexpr int kRounds = 3000;
    QosQueues queues{kThreads};
    std::atomic<uint32_t> in_flight{0}, worst{0};
    std::atomic<int> waited{0}, failures{0};  // Catch2's assertions are not for other threads
    auto run = [&](unsigned id) {
        QosWaiter w;
        w.worker = id;
        w.candidates = only;
        w.service = &service;
        w.max_queued = 100;
        std::vector<QosWaiter*> got;
        for (int i = 0; i < kRounds; ++i) {
            w.cls = static_cast<uint8_t>(i % kQosClasses);
            if (!a.try_begin_request()) {
                const Enqueued e = queues.enqueue(w, 0);
                if (e == Enqueued::full) {
                    ++failures;
                    return;
                }
                if (e == Enqueued::queued) {
                    ++waited;
                    for (int spin = 0; w.state != WaitState::granted; ++spin) {
                        if (spin > 20000000) {  // a lost wake-up: give up rather than hang
                            ++failures;
                            return;
                        }
                        std::this_thread::yield();
                    }
                    queues.take_grants(id, got);
                    if (got.size() != 1) ++failures;
                }
                w.state = WaitState::none;
            }
            const uint32_t now = ++in_flight;
            uint32_t seen = worst.load();
            while (now > seen && !worst.compare_exchange_weak(seen, now)) {
            }
            --in_flight;
            queues.release(a, 0, id);
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) threads.emplace_back(run, t);
    for (auto& t : threads) t.join();
    REQUIRE(failures.load() == 0);
    CHECK(worst.load() <= 2);
    CHECK(a.active() == 0);
    CHECK(queues.waiting() == 0);
    CHECK(a.qos_waiters == 0);
    INFO("waited " << waited.load());
    CHECK(service.total() == 0);
}
