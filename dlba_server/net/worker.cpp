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

sockaddr_in make_addr(uint32_t ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

}  // namespace

Worker::Worker(Shared& shared, unsigned id)
    : shared_(shared), id_(id), stats_(shared.backends.size()), idle_(shared.backends.size()) {
    const ServerLimits& l = shared.server.limits;
    request_limits_.max_target_length = l.max_uri_bytes;
    request_limits_.max_header_bytes = l.max_header_bytes;
    request_limits_.max_header_count = l.max_header_count;
    request_limits_.max_body_bytes = l.max_body_bytes;
    rotation_ = id * 7919;
    size_t widest = 1;
    for (const Balancer& b : shared.balancers) widest = std::max(widest, b.size());
    scratch_.usable_new.reset(new bool[widest]);
    scratch_.usable_sticky.reset(new bool[widest]);
    scratch_.active.resize(widest);
    scratch_.weight.resize(widest);
    scratch_.average_ms.resize(widest);
    update_clock();
}

Worker::~Worker() {
    join();
    while (!sessions_.empty()) sessions_.back()->terminate();
    free_dead();
}

bool Worker::open_listeners(std::string* err) {
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

    for (const ListenerConfig& lc : shared_.server.listeners) {
        auto l = std::make_unique<Listener>();
        l->config = &lc;
        l->local = format_ipv4(lc.address) + ":" + std::to_string(lc.port);
        l->fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const int one = 1;
        // SO_REUSEPORT: one listening socket per worker on the same address, the kernel balances between them.
        // IP_FREEBIND: the VIP may be added to lo after the server starts.
        if (!l->fd || setsockopt(l->fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            setsockopt(l->fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
            setsockopt(l->fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0) {
            *err = "listener " + l->local + ": " + std::strerror(errno);
            return false;
        }
        const sockaddr_in a = make_addr(lc.address, lc.port);
        if (bind(l->fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
            listen(l->fd.get(), 1024) != 0) {
            *err = "listener " + l->local + ": " + std::strerror(errno);
            return false;
        }
        ev.events = EPOLLIN;  // level-triggered: accept a burst per wake-up and come back for the rest
        ev.data.ptr = &l->handle;
        epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, l->fd.get(), &ev);
        listeners_.push_back(std::move(l));
    }
    return true;
}

void Worker::start() {
    thread_ = std::thread([this] { run(); });
}

void Worker::request_stop() {
    stop_requested_.store(true);
    const uint64_t one = 1;
    if (wakeup_) [[maybe_unused]] ssize_t n = write(wakeup_.get(), &one, sizeof one);
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::update_clock() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_us_ = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
    wall_s_ = static_cast<int64_t>(time(nullptr));
}

void Worker::run() {
    epoll_event events[kMaxEvents];
    last_sweep_ms_ = now_ms();
    while (true) {
        if (stop_requested_.load(std::memory_order_relaxed) && !stopping_) {
            stopping_ = true;
            stop_deadline_ms_ = now_ms() + shared_.server.timeouts.shutdown_ms;
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
        if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= shared_.server.max_connections) {
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
            stats_.connections_refused.add();
            continue;  // closed by owned's destructor
        }
        set_nodelay(fd);
        SslPtr ssl;
        if (l.config->tls) {
            ssl = shared_.tls->accept(fd);
            if (!ssl) {
                shared_.connections.fetch_sub(1, std::memory_order_relaxed);
                log_limited(1, "TLS: cannot create a connection: " + last_tls_error());
                continue;
            }
        }
        auto s = std::make_unique<Session>(*this, Transport(std::move(owned), std::move(ssl)), l,
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
        while (!list.empty() && now_ms() - list.front()->idle_since_ms > shared_.pool_timeout_ms[b]) {
            close_idle_conn(list.front());
        }
    }
    flush_access_log();
}

ParserSlot* Worker::acquire_parser(Session* s) {
    ParserSlot* p;
    if (free_parsers_.empty()) {
        p = new ParserSlot(request_limits_);
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
    if (!p->parser.idle() || free_parsers_.size() >= 256) {
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

BackendConn* Worker::connect_backend(size_t backend, Session* owner, bool allow_pool, bool* reused) {
    auto& idle = idle_[backend];
    if (allow_pool && !idle.empty()) {
        BackendConn* c = idle.back();
        idle.pop_back();
        c->owner = owner;
        c->reused = true;
        *reused = true;
        return c;
    }
    *reused = false;
    const BackendConfig& bc = shared_.backends[backend]->config();
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        log_limited(0, std::string("socket: ") + std::strerror(errno));
        return nullptr;
    }
    set_nodelay(fd.get());
    const sockaddr_in a = make_addr(bc.address, bc.port);
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
    auto& idle = idle_[c->backend];
    if (reusable && !stopping_ && idle.size() < shared_.pool_depth[c->backend]) {
        c->idle_since_ms = now_ms();
        idle.push_back(c);
        return;
    }
    c->fd.reset();  // close() also removes it from the epoll set
    c->dead = true;
    dead_conns_.push_back(c);
}

void Worker::close_idle_conn(BackendConn* c) {
    auto& idle = idle_[c->backend];
    const auto it = std::find(idle.begin(), idle.end(), c);
    if (it != idle.end()) idle.erase(it);
    c->fd.reset();
    c->dead = true;
    dead_conns_.push_back(c);
}

void Worker::access_log(std::string_view line) {
    if (shared_.access_log_fd < 0) return;
    log_buffer_ += line;
    log_buffer_ += '\n';
    if (log_buffer_.size() > 32 * 1024) flush_access_log();
}

void Worker::flush_access_log() {
    if (log_buffer_.empty() || shared_.access_log_fd < 0) return;
    // One write per batch of lines: with O_APPEND the lines of different workers never interleave mid-line.
    [[maybe_unused]] ssize_t n = write(shared_.access_log_fd, log_buffer_.data(), log_buffer_.size());
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
