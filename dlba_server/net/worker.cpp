#include "clock.hpp"
#include "io/sockaddr.hpp"
#include "net/worker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace dlba::server {

namespace {

constexpr int kMaxEvents = 256;
constexpr int kAcceptBurst = 64;     // accepts per listener wake-up, so one busy listener cannot starve the rest
constexpr int64_t kSweepMs = 100;    // timer resolution: deadlines are checked this often
constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

void set_nodelay(int fd) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

Worker::Worker(Shared& shared, unsigned id) : shared_(shared), id_(id) {
    rotation_ = id * 7919;
    update_clock();
}

Worker::~Worker() {
    join();
    while (!sessions_.empty()) sessions_.back()->terminate();
    free_dead();
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

std::optional<size_t> Worker::listener_service(const ListenerKey& key) const {
    for (const auto& l : listeners_) {
        if (l->key == key) return l->service;
    }
    return std::nullopt;
}

void Worker::release_generation(GenerationRef* g) {
    if (--g->users > 0 || g == current_) return;
    for (size_t i = 0; i < generations_.size(); ++i) {
        if (generations_[i].get() == g) {
            generations_.erase(generations_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
    }
}

void Worker::adopt_generation() {
    std::shared_ptr<const Generation> next = shared_.current();
    if (!next || (current_ && current_->gen == next)) return;
    const Generation* before = current_ ? current_->gen.get() : nullptr;

    // Listeners. Kept ones keep their socket; new ones come from the inbox; what is left over is closed.
    std::vector<NewListener> inbox;
    {
        std::lock_guard<std::mutex> lock(inbox_mutex_);
        inbox.swap(inbox_);
    }
    std::vector<std::unique_ptr<Listener>> listeners;
    const auto& configs = next->server().listeners;
    for (const ListenerConfig& lc : configs) {
        const ListenerKey key = key_of(lc);
        std::unique_ptr<Listener> l;
        for (auto& old : listeners_) {
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
                log_limited(3, "no socket for listener " + format_listener(key) + " in generation " +
                                   std::to_string(next->number));
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN;  // level-triggered: accept a burst per wake-up and come back for the rest
            ev.data.ptr = &l->handle;
            epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, l->fd.get(), &ev);
        }
        l->tls = lc.tls;
        l->service = lc.service_index;
        listeners.push_back(std::move(l));
    }
    for (auto& old : listeners_) {
        if (old) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, old->fd.get(), nullptr);  // then closed with the object
    }
    listeners_ = std::move(listeners);
    // Sockets left in the inbox (a listener added and removed again before this worker caught up) close here.
    inbox.clear();

    // Idle pooled connections follow their back end when it continues (same BackendState), else they close.
    std::vector<std::vector<BackendConn*>> idle(next->backends.size());
    for (size_t b = 0; b < idle_.size(); ++b) {
        std::optional<size_t> to;
        for (size_t nb = 0; nb < next->backends.size() && !to; ++nb) {
            if (before && next->backends[nb] == before->backends[b]) to = nb;
        }
        for (BackendConn* c : idle_[b]) {
            if (to) {
                c->backend = *to;
                c->generation = next->number;
                idle[*to].push_back(c);
            } else {
                close_conn(c);
            }
        }
        idle_[b].clear();
    }
    for (size_t b = 0; b < idle.size(); ++b) {
        auto& list = idle[b];
        const size_t depth = next->pool_depth[b];
        if (list.size() > depth) {  // oldest first
            for (size_t i = 0; i < list.size() - depth; ++i) close_conn(list[i]);
            list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(list.size() - depth));
        }
    }
    idle_ = std::move(idle);

    // Balancing scratch: grows to the widest service of any generation still in use, never shrinks.
    size_t widest = 1;
    for (const Balancer& b : next->balancers) widest = std::max(widest, b.size());
    if (widest > scratch_.size) {
        scratch_.usable_new.reset(new bool[widest]);
        scratch_.usable_sticky.reset(new bool[widest]);
        scratch_.active.resize(widest);
        scratch_.weight.resize(widest);
        scratch_.average_ms.resize(widest);
        scratch_.size = widest;
    }
    // Pooled parsers were built with the old request limits.
    free_parsers_.clear();

    GenerationRef* old = current_;
    generations_.push_back(std::make_unique<GenerationRef>(GenerationRef{std::move(next), 0}));
    current_ = generations_.back().get();
    if (old) {
        ++old->users;  // held across the loop: the sessions that switch let go of it one by one
        // Sessions between requests switch now (and those of a removed listener close); the others after their
        // request. The index loop re-checks the slot: a session may close (and be swapped out) right here.
        for (size_t i = 0; i < sessions_.size();) {
            Session* s = sessions_[i].get();
            s->on_new_generation();
            if (i < sessions_.size() && sessions_[i].get() == s) ++i;
        }
        // The old generation goes now unless a session still uses it (then with its last session).
        release_generation(old);
    }
    adopted_.store(current_->gen->number, std::memory_order_release);
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

void Worker::update_clock() {
    now_us_ = static_cast<int64_t>(clock::monotonic_us());
    wall_s_ = static_cast<int64_t>(clock::unix_s());
}

void Worker::run() {
    epoll_event events[kMaxEvents];
    last_sweep_ms_ = now_ms();
    adopt_generation();
    while (true) {
        // A new configuration generation: one load per turn, the adoption itself only when it moved.
        if (shared_.generation_number() != adopted_.load(std::memory_order_relaxed) && !stopping_) adopt_generation();
        if (stop_requested_.load(std::memory_order_relaxed) && !stopping_) {
            stopping_ = true;
            stop_deadline_ms_ = now_ms() + generation().server().timeouts.shutdown_ms;
            for (auto& l : listeners_) {
                epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, l->fd.get(), nullptr);
                l->fd.reset();
            }
            // Index loop that re-checks the slot: an idle session closes (and is swapped out) right here.
            for (size_t i = 0; i < sessions_.size();) {
                Session* s = sessions_[i].get();
                s->begin_shutdown();
                if (i < sessions_.size() && sessions_[i].get() == s) ++i;
            }
            free_dead();
        }
        if (stopping_ && (sessions_.empty() || now_ms() >= stop_deadline_ms_)) break;

        const int timeout = ready_.empty() ? static_cast<int>(kSweepMs) : 0;
        const int n = epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
        update_clock();
        for (int i = 0; i < std::max(n, 0); ++i) {
            auto* h = static_cast<Handle*>(events[i].data.ptr);
            const uint32_t e = events[i].events;
            switch (h->kind) {
                case HandleKind::listener: accept_from(*static_cast<Listener*>(h->owner)); break;
                case HandleKind::client: {
                    auto* s = static_cast<Session*>(h->owner);
                    if (!s->closed()) s->on_client_event(e);
                    break;
                }
                case HandleKind::backend: {
                    auto* c = static_cast<BackendConn*>(h->owner);
                    if (c->dead) break;  // closed earlier in this batch
                    if (c->owner) {
                        if (!c->owner->closed()) c->owner->on_backend_event(*c, e);
                    } else if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                        close_idle_conn(c);  // an idle pooled connection spoke or closed: it is of no more use
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
        // Sessions that stopped to let others run go on now.
        if (!ready_.empty()) {
            ready_batch_.clear();
            ready_batch_.swap(ready_);
            for (Session* s : ready_batch_) {
                if (!s->closed()) s->drive();
            }
        }
        if (now_ms() - last_sweep_ms_ >= kSweepMs) {
            last_sweep_ms_ = now_ms();
            sweep();
        }
        free_dead();
    }
    // Past the shutdown deadline: whatever is left is cut.
    while (!sessions_.empty()) sessions_.back()->terminate();
    free_dead();
    flush_access_log();
}

void Worker::accept_from(Listener& l) {
    for (int i = 0; i < kAcceptBurst; ++i) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = accept4(l.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) log_limited(0, "accept: out of file descriptors");
            return;
        }
        io::Fd owned(fd);
        const Generation& g = generation();
        if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= g.server().max_connections) {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            stats_.connections_refused.add();
            continue;  // closed by owned's destructor
        }
        set_nodelay(fd);
        SslPtr ssl;
        std::shared_ptr<const TlsContext> tls;
        if (l.tls && g.tls) {
            // The connection keeps this context (and its SSL_CTX) for its whole life, even across reloads.
            tls = g.tls;
            ssl = tls->accept(fd);
            if (!ssl) {
                shared_.connections.fetch_sub(1, std::memory_order_relaxed);
                log_limited(1, "TLS: cannot create a connection: " + last_tls_error());
                continue;
            }
        }
        auto s = std::make_unique<Session>(*this, Transport(std::move(owned), std::move(ssl), std::move(tls)), l,
                                           ntohl(peer.sin_addr.s_addr), ntohs(peer.sin_port));
        epoll_event ev{};
        ev.events = kConnEvents;
        ev.data.ptr = &s->handle;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s->fd(), &ev) != 0) {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            continue;
        }
        stats_.connections_accepted.add();
        stats_.connections_open.add();
        s->slot = sessions_.size();
        sessions_.push_back(std::move(s));
    }
}

void Worker::session_closed(Session* s) {
    // Swap-remove from the live list; the object itself lives until the end of the event batch, because later
    // events of the same batch may still point at it.
    const size_t slot = s->slot;
    std::unique_ptr<Session> owned = std::move(sessions_[slot]);
    if (slot != sessions_.size() - 1) {
        sessions_[slot] = std::move(sessions_.back());
        sessions_[slot]->slot = slot;
    }
    sessions_.pop_back();
    dead_sessions_.push_back(std::move(owned));
    // A session waiting for its next turn must not be driven once it is freed.
    ready_.erase(std::remove(ready_.begin(), ready_.end(), s), ready_.end());
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    stats_.connections_open.sub();
}

void Worker::schedule(Session* s) { ready_.push_back(s); }

void Worker::free_dead() {
    dead_sessions_.clear();
    for (BackendConn* c : dead_conns_) free_conns_.push_back(c);
    dead_conns_.clear();
}

void Worker::sweep() {
    // Index loop: a session may close (and be swapped out) during its own on_timer.
    for (size_t i = 0; i < sessions_.size();) {
        Session* s = sessions_[i].get();
        s->on_timer();
        if (i < sessions_.size() && sessions_[i].get() == s) ++i;
    }
    for (size_t b = 0; b < idle_.size(); ++b) {
        auto& list = idle_[b];
        // Oldest first: the list is kept in order of release.
        while (!list.empty() && now_ms() - list.front()->idle_since_ms > generation().pool_timeout_ms[b]) {
            close_idle_conn(list.front());
        }
    }
    flush_access_log();
}

ParserSlot* Worker::acquire_parser(Session* s) {
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

void Worker::release_parser(ParserSlot* p) {
    if (!p) return;
    // A parser that is not between requests (an error, a closed connection) is replaced rather than reset.
    if (!p->parser.idle() || free_parsers_.size() >= 256 || p->generation != generation().number) {
        delete p;
        return;
    }
    p->session = nullptr;
    free_parsers_.emplace_back(p);
}

Exchange* Worker::acquire_exchange() {
    Exchange* e;
    if (free_exchanges_.empty()) {
        e = new Exchange();
    } else {
        e = free_exchanges_.back().release();
        free_exchanges_.pop_back();
    }
    e->reset();
    buffers_.attach(e->to_backend);
    return e;
}

void Worker::release_exchange(Exchange* e) {
    buffers_.release(e->to_backend);
    buffers_.release(e->from_backend);
    if (free_exchanges_.size() >= 256) {
        delete e;
        return;
    }
    free_exchanges_.emplace_back(e);
}

BackendConn* Worker::connect_backend(const Generation& g, size_t backend, Session* owner, bool allow_pool,
                                     bool* reused) {
    // The pool is indexed by the current generation's back ends: a request still on an older one connects afresh.
    if (allow_pool && &g == &generation() && !idle_[backend].empty()) {
        auto& idle = idle_[backend];
        BackendConn* c = idle.back();
        idle.pop_back();
        c->owner = owner;
        c->reused = true;
        *reused = true;
        return c;
    }
    *reused = false;
    const BackendConfig& bc = g.backends[backend]->config();
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        log_limited(0, std::string("socket: ") + std::strerror(errno));
        return nullptr;
    }
    set_nodelay(fd.get());
    const sockaddr_in a = io::ipv4_sockaddr(bc.address, bc.port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        return nullptr;  // refused at once (the caller counts it as a failed connect)
    }
    BackendConn* c;
    if (free_conns_.empty()) {
        conns_.push_back(std::make_unique<BackendConn>());
        c = conns_.back().get();
    } else {
        c = free_conns_.back();
        free_conns_.pop_back();
    }
    c->fd = std::move(fd);
    c->owner = owner;
    c->backend = backend;
    c->generation = g.number;
    c->connecting = true;
    c->readable = c->writable = c->error_event = c->dead = c->reused = false;
    epoll_event ev{};
    ev.events = kConnEvents;
    ev.data.ptr = &c->handle;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) != 0) {
        c->fd.reset();
        c->dead = true;
        dead_conns_.push_back(c);
        return nullptr;
    }
    return c;
}

void Worker::release_backend(BackendConn* c, bool reusable) {
    c->owner = nullptr;
    // A connection opened for an older generation is closed: its back-end index means nothing in the pool now.
    if (reusable && !stopping_ && c->generation == generation().number) {
        auto& idle = idle_[c->backend];
        if (idle.size() < generation().pool_depth[c->backend]) {
            c->idle_since_ms = now_ms();
            idle.push_back(c);
            return;
        }
    }
    close_conn(c);
}

void Worker::close_conn(BackendConn* c) {
    c->fd.reset();  // close() also removes it from the epoll set
    c->dead = true;
    dead_conns_.push_back(c);
}

void Worker::close_idle_conn(BackendConn* c) {
    auto& idle = idle_[c->backend];
    const auto it = std::find(idle.begin(), idle.end(), c);
    if (it != idle.end()) idle.erase(it);
    close_conn(c);
}

void Worker::access_log(std::string_view line) {
    if (!access_log_enabled()) return;
    log_buffer_ += line;
    log_buffer_ += '\n';
    if (log_buffer_.size() > 32 * 1024) flush_access_log();
}

void Worker::flush_access_log() {
    if (log_buffer_.empty()) return;
    // One write per batch of lines: with O_APPEND the lines of different workers never interleave mid-line. Lines
    // buffered before a reload go to the file the current generation opened (the rotated one).
    const int fd = current_ ? generation().access_log_fd : -1;
    if (fd >= 0) [[maybe_unused]] ssize_t n = write(fd, log_buffer_.data(), log_buffer_.size());
    log_buffer_.clear();
}

void Worker::log_limited(int kind, const std::string& message) {
    kind = std::clamp(kind, 0, 3);
    if (now_ms() - log_last_ms_[kind] < 1000) {
        ++log_suppressed_[kind];
        return;
    }
    if (log_suppressed_[kind] > 0) {
        std::fprintf(stderr, "dlba-server[w%u]: %s (and %llu more like it)\n", id_, message.c_str(),
                     static_cast<unsigned long long>(log_suppressed_[kind]));
    } else {
        std::fprintf(stderr, "dlba-server[w%u]: %s\n", id_, message.c_str());
    }
    log_last_ms_[kind] = now_ms();
    log_suppressed_[kind] = 0;
}

}  // namespace dlba::server
