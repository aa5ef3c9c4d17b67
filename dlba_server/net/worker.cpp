#include "net/worker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/session.hpp"

namespace dlba::server {

namespace {

constexpr int kMaxEvents = 256;
constexpr int kAcceptBurst = 64;        // accepts per listener wake-up, so one busy listener cannot starve the rest
constexpr int64_t kTimerScanMs = 100;  // timer resolution: deadlines are checked this often
constexpr uint32_t kClientEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

// A refused connection is reset rather than closed: this side keeps no TIME_WAIT for a client that is being kept
// out, and the client learns at once.
void refuse_with_reset(int fd) {
    const linger reset{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
}

}  // namespace

Worker::Worker(Shared& shared, unsigned id) : shared_(shared), ctx_(shared, id, epoll_) {}

Worker::~Worker() {
    join();
    while (!ctx_.sessions.empty()) ctx_.sessions.back()->terminate();
    ctx_.free_dead();
}

bool Worker::init(std::string* err) {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    wakeup_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!epoll_ || !wakeup_) {
        *err = std::string("epoll/eventfd: ") + std::strerror(errno);
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wakeup_handle_;
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev);
    shared_.qos.set_wakeup(ctx_.id, wakeup_.get());  // QoS grants from other workers wake it
    return true;
}

void Worker::hand_listeners(std::vector<NewListener> sockets) {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    for (NewListener& l : sockets) inbox_.push_back(std::move(l));
}

void Worker::wake() {
    const uint64_t one = 1;
    if (wakeup_) [[maybe_unused]] ssize_t n = write(wakeup_.get(), &one, sizeof one);
}

void Worker::adopt_generation() {
    std::shared_ptr<const Generation> next = shared_.current();
    GenerationSlot* running = ctx_.generations.current();
    if (!next || (running && running->gen == next)) return;
    const Generation& g = *next;

    adopt_listeners(g);
    GenerationSlot* old = ctx_.generations.install(std::move(next));
    ctx_.backends.adopt(g);
    ctx_.scratch.fit(g);
    ctx_.drop_pooled_parsers();
    ctx_.access_log.set_file(g.access_log_fd);
    if (old) {
        // Sessions between requests switch now (and those of a removed listener close); the others after their
        // request. The old generation goes now unless a session still uses it (then with its last session).
        ctx_.sessions.for_each([](Session& s) { s.on_new_generation(); });
        ctx_.generations.release(old);
    }
    adopted_.store(g.number, std::memory_order_release);
}

// Kept listeners keep their socket; new ones come from the inbox; what is left over is closed.
void Worker::adopt_listeners(const Generation& next) {
    std::vector<NewListener> inbox;
    {
        std::lock_guard<std::mutex> lock(inbox_mutex_);
        inbox.swap(inbox_);
    }
    std::vector<std::unique_ptr<Listener>> listeners;
    for (const ListenerConfig& lc : next.server().listeners) {
        const ListenerKey key = key_of(lc);
        std::unique_ptr<Listener> l;
        for (auto& old : ctx_.listeners) {
            if (old && old->key == key) l = std::move(old);
        }
        if (!l) {
            for (NewListener& n : inbox) {
                if (n.key == key && n.fd) {
                    l = std::make_unique<Listener>();
                    l->fd = std::move(n.fd);
                    l->key = key;
                    break;
                }
            }
            if (!l) {  // the control thread binds every new listener for every worker before publishing
                ctx_.log.write(LogKind::listener, ctx_.now_ms(),
                               "no socket for listener " + format_listener(key) + " in generation " +
                                   std::to_string(next.number));
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN;  // level-triggered: accept a burst per wake-up and come back for the rest
            ev.data.ptr = &l->handle;
            epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, l->fd.get(), &ev);
        }
        l->tls = lc.tls;
        l->http2 = lc.http2;
        l->service = lc.service_index;
        listeners.push_back(std::move(l));
    }
    for (auto& old : ctx_.listeners) {
        if (old) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, old->fd.get(), nullptr);  // then closed with the object
    }
    ctx_.listeners = std::move(listeners);
    // Sockets left in the inbox (a listener added and removed again before this worker caught up) close here.
}

void Worker::start() {
    thread_ = std::thread([this] { run(); });
}

void Worker::request_stop() {
    stop_requested_.store(true);
    wake();
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::begin_stopping() {
    ctx_.begin_stopping();
    stop_deadline_ms_ = ctx_.now_ms() + ctx_.generation().server().timeouts.shutdown_ms;
    for (auto& l : ctx_.listeners) {
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, l->fd.get(), nullptr);
        l->fd.reset();
    }
    // Idle sessions close (and are swapped out) right here.
    ctx_.sessions.for_each([](Session& s) { s.begin_shutdown(); });
    ctx_.free_dead();
}

void Worker::run() {
    epoll_event events[kMaxEvents];
    last_timer_scan_ms_ = ctx_.now_ms();
    adopt_generation();
    while (true) {
        // A new configuration generation: one load per turn, the adoption itself only when it moved.
        if (shared_.generation_number() != adopted_.load(std::memory_order_relaxed) && !ctx_.stopping()) {
            adopt_generation();
        }
        if (stop_requested_.load(std::memory_order_relaxed) && !ctx_.stopping()) begin_stopping();
        if (ctx_.stopping() && (ctx_.sessions.empty() || ctx_.now_ms() >= stop_deadline_ms_)) break;

        const int timeout = ctx_.sessions.any_scheduled() ? 0 : static_cast<int>(kTimerScanMs);
        const int n = epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
        ctx_.update_clock();
        for (int i = 0; i < std::max(n, 0); ++i) {
            dispatch(*static_cast<const EventHandle*>(events[i].data.ptr), events[i].events);
        }
        // QoS: requests of this worker that were handed a slot (by any worker) go on now.
        if (shared_.qos.has_grants(ctx_.id)) run_qos_grants();
        // Sessions that stopped to let others run go on now.
        ctx_.sessions.for_each_scheduled([](Session& s) {
            if (!s.closed()) s.drive();
        });
        if (ctx_.now_ms() - last_timer_scan_ms_ >= kTimerScanMs) {
            last_timer_scan_ms_ = ctx_.now_ms();
            scan_timers();
        }
        // Prewarm: connections taken from the pool or closed in this batch are replaced now, after the requests
        // that took them went on (never inside a request's processing).
        if (ctx_.backends.refill_due() && !ctx_.stopping()) ctx_.backends.refill(ctx_.now_ms());
        ctx_.free_dead();
    }
    // Past the shutdown deadline: whatever is left is cut.
    while (!ctx_.sessions.empty()) ctx_.sessions.back()->terminate();
    ctx_.free_dead();
    ctx_.access_log.flush();
}

void Worker::dispatch(const EventHandle& h, uint32_t events) {
    switch (h.kind) {
        case HandleKind::listener: accept_from(*static_cast<Listener*>(h.owner)); break;
        case HandleKind::client: {
            auto* s = static_cast<Session*>(h.owner);
            if (!s->closed()) s->on_client_event(events);
            break;
        }
        case HandleKind::backend: {
            auto* c = static_cast<BackendConn*>(h.owner);
            if (c->dead) break;  // closed earlier in this batch
            if (c->owner) {
                if (!c->owner->closed()) c->owner->on_backend_event(*c, events);
            } else {
                // Prewarming (its connect or handshake goes on), or idle in the pool (it spoke or closed).
                ctx_.backends.idle_event(c, events, ctx_.now_ms());
            }
            break;
        }
        case HandleKind::wakeup: {
            uint64_t v;
            [[maybe_unused]] ssize_t r = read(wakeup_.get(), &v, sizeof v);
            break;
        }
    }
}

void Worker::accept_from(Listener& l) {
    for (int i = 0; i < kAcceptBurst; ++i) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = accept4(l.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) {
                ctx_.log.write(LogKind::descriptors, ctx_.now_ms(), "accept: out of file descriptors");
            }
            return;
        }
        io::Fd owned(fd);
        const Generation& g = ctx_.generation();
        if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= g.server().max_connections) {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            ctx_.stats.connections_refused.add();
            continue;  // closed by owned's destructor
        }
        const uint32_t peer_ip = ntohl(peer.sin_addr.s_addr);
        const uint32_t per_ip_limit = g.server().limits.max_connections_per_ip;
        const IpAdmission admission = shared_.per_ip.admit(peer_ip, per_ip_limit);
        if (admission == IpAdmission::refused) {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            ctx_.stats.connections_refused_per_ip.add();
            refuse_with_reset(fd);
            ctx_.log.write(LogKind::per_ip, ctx_.now_ms(),
                           "connections from " + format_ipv4(peer_ip) + " refused: " + std::to_string(per_ip_limit) +
                               " open already (server.limits.max_connections_per_ip)");
            continue;  // closed by owned's destructor
        }
        // Whatever happens to the connection from here on, the count is given back with it.
        const bool per_ip_counted = admission == IpAdmission::counted;
        const auto give_back = [&] {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            if (per_ip_counted) shared_.per_ip.release(peer_ip);
        };
        set_nodelay(fd);
        SslPtr ssl;
        std::shared_ptr<const TlsContext> tls;
        if (l.tls && g.tls) {
            // The connection keeps this context (and its SSL_CTX) for its whole life, even across reloads.
            tls = g.tls;
            ssl = tls->accept(fd);
            if (!ssl) {
                give_back();
                ctx_.log.write(LogKind::tls, ctx_.now_ms(), "TLS: cannot create a connection: " + last_tls_error());
                continue;
            }
            TlsContext::offer_h2(ssl.get(), l.http2);
        }
        auto s = std::make_unique<Session>(ctx_, Transport(std::move(owned), std::move(ssl), std::move(tls)), l,
                                           ClientPeer{peer_ip, ntohs(peer.sin_port), per_ip_counted});
        epoll_event ev{};
        ev.events = kClientEvents;
        ev.data.ptr = &s->handle;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s->fd(), &ev) != 0) {
            give_back();
            continue;
        }
        ctx_.stats.connections_accepted.add();
        ctx_.stats.connections_open.add();
        ctx_.sessions.add(std::move(s));
    }
}

// Every kTimerScanMs: the sessions' deadlines, the idle pooled connections' timeouts, the access log's flush.
void Worker::run_qos_grants() {
    shared_.qos.take_grants(ctx_.id, qos_grants_);
    for (QosWaiter* w : qos_grants_) {
        auto* s = static_cast<Session*>(w->owner);
        if (!s->closed()) s->drive();  // a session that closes withdraws its waiter first, so `s` is alive
    }
}

void Worker::scan_timers() {
    shared_.qos.poll(ctx_.now_ms());  // QoS safety net (qos/qos_queues.hpp); one load when nothing waits
    ctx_.sessions.for_each([](Session& s) { s.on_timer(); });  // a session may close here
    ctx_.backends.expire_idle(ctx_.now_ms());
    ctx_.backends.maintain(ctx_.now_ms());  // prewarm: down or disabled back ends let go, refills, connect timeouts
    ctx_.access_log.flush();
}

}  // namespace dlba::server
