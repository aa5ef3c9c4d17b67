// QoS: the requests that found their back end full (BackendState::max_inflight), waiting for a slot, for the whole
// dlba-server process (every worker).
//
// Design (README "QoS"; issue 11):
//   - Slots. A back end's requests in flight are its atomic `active` count (the one least-connections reads). A
//     request takes a slot with one compare-and-increment (BackendState::try_begin_request); without a limit it is
//     the plain increment it always was. Nothing locks on this path.
//   - Waiting. A request that finds its back end full enqueues here, under the one mutex of this object (only
//     requests that must wait, and slots freed while some wait, ever take it). A request the policy bound to a back
//     end (cookie, URL session id; TLS session: see binds_backend in qos/admission.hpp) waits for that back end
//     only; any other waits for any back end of its service that may take new requests.
//   - Order. Eight FIFO lists, one per class: a freed slot goes to the first waiter of the lowest non-empty class
//     that can use that back end, whatever worker it belongs to.
//   - Releasing. A request that ends gives its slot back through release(): when the back end has no waiter (its
//     `qos_waiters` count, kept under the mutex) that is a decrement and a load, no lock. Otherwise, under the
//     mutex, the slot passes straight to the chosen waiter (it is never free in between, so a newcomer cannot take
//     it ahead of the queue). The count is read after the decrement and increased before an enqueuer tries the slot
//     once more, both sequentially consistent, so a waiter and a freed slot never miss each other.
//   - Hand-off. A granted waiter goes into its worker's inbox and the worker is woken through its eventfd (unless
//     the grant came from that worker itself, which looks at its inbox after every event batch). The worker takes
//     its inbox under the mutex and drives those sessions.
//   - Safety net. poll() (each worker's timer scan, only while something waits) gives free slots to waiters: a
//     reload that raised max_inflight or added back ends, a back end that came back.
// Waiters are QosWaiter objects owned by the requests (inside their BackendExchange); they leave by withdraw()
// (timeout, client gone), which also returns a grant not yet taken.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/qos_section.hpp"
#include "policy/backend_state.hpp"

namespace dlba::server {

// A service's queue figures, carried across reloads by service name (like a back end's state).
struct QosServiceState {
    std::array<std::atomic<uint32_t>, kQosClasses> queued{};  // waiting now, by class (written under the mutex)
    std::atomic<uint64_t> timeouts{0};   // left at their queue timeout: 503 with Retry-After
    std::atomic<uint64_t> full{0};       // refused at once: the service had max_queued waiting
    std::atomic<uint64_t> abandoned{0};  // the client closed while waiting
    std::atomic<uint64_t> waited{0};     // were queued and then got a slot
    uint32_t total() const {
        uint32_t n = 0;
        for (const auto& q : queued) n += q.load(std::memory_order_relaxed);
        return n;
    }
};

// What a generation knows of each of its services for QoS (built with the generation).
struct ServiceQos {
    bool enabled = false;  // some back end of the service has a max_inflight: its requests may wait
    bool classify = false; // the service has class rules (or is enabled): requests get a class and log it
    std::vector<BackendState*> backends;  // the service's back ends, in its order
    std::shared_ptr<QosServiceState> state;
};

// Per service of `config`: its back ends' states (`backends` is the generation's table, in config order) and its
// queue figures, shared with the previous generation's service of the same name so that they carry over.
std::vector<ServiceQos> build_service_qos(const Config& config, const std::vector<std::shared_ptr<BackendState>>& backends,
                                          const Config* previous_config, const std::vector<ServiceQos>* previous);

enum class WaitState : uint8_t {
    none,     // not waiting
    queued,   // in a class list
    granted,  // given a slot on `granted`, in its worker's inbox
    taken,    // its worker took it from the inbox: the request goes on with the slot
};

struct QosWaiter {
    // Set by the request before enqueue().
    uint8_t cls = kQosDefaultClass;
    unsigned worker = 0;
    void* owner = nullptr;                   // the Session to drive when granted
    BackendState* bound = nullptr;           // waits for this back end only; else for any of `candidates`
    std::span<BackendState* const> candidates;
    QosServiceState* service = nullptr;
    uint32_t max_queued = 0;

    // Under the mutex.
    std::atomic<WaitState> state{WaitState::none};
    BackendState* granted = nullptr;
    uint64_t seq = 0;
    QosWaiter* prev = nullptr;
    QosWaiter* next = nullptr;
};

enum class Enqueued : uint8_t { granted, queued, full };

class QosQueues {
public:
    explicit QosQueues(unsigned workers);
    QosQueues(const QosQueues&) = delete;
    QosQueues& operator=(const QosQueues&) = delete;

    // The worker's eventfd, written to wake it for a grant (-1: never woken, as in the unit tests).
    void set_wakeup(unsigned worker, int fd);

    // Waits for a slot. `granted`: a slot came free meanwhile (w.granted, state taken); `full`: the service already
    // has max_queued waiting (counted).
    Enqueued enqueue(QosWaiter& w, int64_t now_ms);
    // A request on `b` ended (or gave up its slot): the slot goes to the best waiter that can use it, or is freed.
    // `self`: the worker calling (it is not woken: it looks at its inbox after its event batch).
    void release(BackendState& b, int64_t now_ms, unsigned self);
    // Leaves the queue. Returns the back end whose slot the waiter held (granted, in the inbox or taken) and now
    // owns, or nullptr when it was only queued (or not waiting).
    BackendState* withdraw(QosWaiter& w);
    // Gives free slots to waiters that can use them (see the header comment). Cheap when nothing waits.
    void poll(int64_t now_ms);

    // The worker's grants: whether there are any (one load), and taking them (state taken).
    bool has_grants(unsigned worker) const { return inboxes_[worker].pending.load(std::memory_order_acquire); }
    void take_grants(unsigned worker, std::vector<QosWaiter*>& out);

    uint32_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

private:
    struct alignas(64) Inbox {
        std::atomic<bool> pending{false};
        std::vector<QosWaiter*> granted;
        int wake_fd = -1;
    };
    struct List {
        QosWaiter* head = nullptr;
        QosWaiter* tail = nullptr;
    };

    static bool can_take(const QosWaiter& w, const BackendState& b, int64_t now_ms);
    void link(QosWaiter& w);
    void unlink(QosWaiter& w);
    void count(const QosWaiter& w, int delta);
    // Under the mutex: the slot on `b` (held) goes to the best waiter; false when none can use it.
    bool grant_best(BackendState& b, int64_t now_ms, unsigned* woken);
    void grant(QosWaiter& w, BackendState& b);
    void wake(unsigned worker, unsigned self);

    mutable std::mutex mutex_;
    std::array<List, kQosClasses> lists_{};
    std::unique_ptr<Inbox[]> inboxes_;
    unsigned workers_;
    uint64_t seq_ = 0;
    std::atomic<uint32_t> waiting_{0};
};

}  // namespace dlba::server
