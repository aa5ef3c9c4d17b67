#include "net/backend_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "io/sockaddr.hpp"
#include "net_types.hpp"
#include "net/transport.hpp"
#include "tls/backend_tls.hpp"

#include <openssl/err.h>

namespace dlba::server {

namespace {
constexpr size_t kMaxSavedSessions = 64;
}  // namespace

void IdleConnections::remove(BackendConn* c) {
    if (c->backend >= lists_.size()) return;
    std::vector<BackendConn*>& list = lists_[c->backend];
    const auto it = std::find(list.begin(), list.end(), c);
    if (it != list.end()) list.erase(it);
}

void BackendPool::adopt(const Generation& next) {
    // The gauges of the old generation's back ends go to zero (a removed back end keeps none); the continuing ones
    // are set again below.
    if (const Generation* old = idle_.generation()) {
        for (const auto& st : old->backends) st->counters(worker_).idle_pooled.set(0);
    }
    // Warming connections were made for the old generation's back-end indexes (and TLS contexts): they go.
    for (BackendConn* c : warming_) {
        c->warming = false;
        close(c);
    }
    warming_.clear();
    idle_.refile(next, [this](BackendConn* c) { close(c); });
    // A TLS connection was verified under the old generation's context, which may differ: none carries over, nor a
    // plain one to a back end that now wants TLS. The saved sessions go for the same reason.
    idle_.drop_if([&next](const BackendConn* c) { return c->ssl || next.backend_tls[c->backend]; },
                  [this](BackendConn* c) { close(c); });
    sessions_.clear();
    warming_count_.assign(next.backends.size(), 0);
    busy_count_.assign(next.backends.size(), 0);  // those in use now belong to the old generation
    hold_until_ms_.assign(next.backends.size(), 0);
    note_all_idle();
    refill_due_ = true;  // the new generation's prewarm targets
}

void BackendPool::note_idle(size_t backend) {
    const Generation* g = idle_.generation();
    if (!g || backend >= g->backends.size()) return;
    g->backends[backend]->counters(worker_).idle_pooled.set(idle_.count(backend));
}

void BackendPool::note_all_idle() {
    const Generation* g = idle_.generation();
    if (!g) return;
    for (size_t b = 0; b < g->backends.size(); ++b) note_idle(b);
}

Unread unread(BackendConn& c) {
    char b;
    if (c.ssl) {
        const IoResult r = tls_read(c.ssl.get(), &b, 1);
        if (r.status == IoStatus::ok) return Unread::bytes;
        if (r.status == IoStatus::want_read || r.status == IoStatus::want_write) return Unread::nothing;
        return Unread::closed;
    }
    const ssize_t n = ::recv(c.fd.get(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Unread::bytes;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Unread::nothing;
    return Unread::closed;
}

BackendConn* BackendPool::take_idle(const Generation& g, size_t backend, Session* owner, std::string_view sni) {
    BackendConn* c = idle_.take(g, backend, sni);
    while (c && unread(*c) != Unread::nothing) {
        close(c);
        c = idle_.take(g, backend, sni);
    }
    if (g.pool_prewarm[backend] > 0) refill_due_ = true;  // the pool has one less than before (or none)
    if (&g == idle_.generation()) note_idle(backend);
    if (!c) return nullptr;
    c->owner = owner;
    c->busy_counted = &g == idle_.generation();
    if (c->busy_counted) ++busy_count_[backend];
    c->reused = true;
    c->prewarmed = false;
    // Connected long ago and quiet since (looked at above): writable now, nothing to read.
    c->connecting = c->handshaking = false;
    c->writable = true;
    c->readable = c->error_event = c->peer_closed = false;
    return c;
}

SSL_SESSION* BackendPool::saved_session(const Generation& g, size_t backend, std::string_view sni) const {
    const BackendState* b = g.backends[backend].get();
    for (const SavedSession& s : sessions_) {
        if (s.backend == b && s.sni == sni) return s.session.get();
    }
    return nullptr;
}

void BackendPool::save_session(const BackendConn& c) {
    if (!c.ssl || c.handshaking) return;
    const Generation* g = idle_.generation();
    if (!g || c.generation != g->number) return;  // a connection of an older generation: its context is gone
    SslSessionPtr s(SSL_get1_session(c.ssl.get()));
    if (!s || SSL_SESSION_is_resumable(s.get()) != 1) return;
    const BackendState* b = g->backends[c.backend].get();
    for (SavedSession& saved : sessions_) {
        if (saved.backend == b && saved.sni == c.sni) {
            saved.session = std::move(s);
            return;
        }
    }
    // SNI from the request's Host is the client's to choose: keep a bounded number, the oldest going first.
    if (sessions_.size() >= kMaxSavedSessions) sessions_.erase(sessions_.begin());
    sessions_.push_back({b, c.sni, std::move(s)});
}

BackendConn* BackendPool::open(const Generation& g, size_t backend, Session* owner, int64_t now_ms,
                               std::string_view sni) {
    const BackendConfig& bc = g.backends[backend]->config();
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        log_.write(LogKind::descriptors, now_ms, std::string("socket: ") + std::strerror(errno));
        return nullptr;
    }
    set_nodelay(fd.get());
    const sockaddr_in a = io::ipv4_sockaddr(bc.address, bc.port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        return nullptr;  // refused at once
    }
    SslPtr ssl;
    if (const std::shared_ptr<const BackendTlsContext>& tls = g.backend_tls[backend]) {
        ssl = tls->connect(fd.get(), sni, saved_session(g, backend, sni));
        if (!ssl) {
            log_.write(LogKind::descriptors, now_ms, "TLS to back end " + bc.key + ": " + last_tls_error());
            return nullptr;
        }
    }
    BackendConn* c;
    if (free_.empty()) {
        conns_.push_back(std::make_unique<BackendConn>());
        c = conns_.back().get();
    } else {
        c = free_.back();
        free_.pop_back();
    }
    c->fd = std::move(fd);
    c->handshaking = ssl != nullptr;
    c->tls_failed = false;
    c->ssl = std::move(ssl);
    c->sni.assign(sni);
    c->owner = owner;
    c->backend = backend;
    c->generation = g.number;
    c->connecting = true;
    c->readable = c->writable = c->error_event = c->peer_closed = c->dead = c->reused = false;
    c->warming = c->prewarmed = false;
    c->busy_counted = owner && &g == idle_.generation();
    if (c->busy_counted) ++busy_count_[backend];
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c->handle;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) != 0) {
        close(c);
        return nullptr;
    }
    return c;
}

void BackendPool::release(BackendConn* c, bool reusable, int64_t now_ms) {
    c->owner = nullptr;
    uncount_busy(c);
    save_session(*c);
    if (reusable && pooling_ && idle_.put(c, now_ms)) {
        note_idle(c->backend);
        return;
    }
    close(c);
}

void BackendPool::idle_event(BackendConn* c, uint32_t events, int64_t now_ms) {
    c->note_events(events);
    if (c->warming) {
        warm_step(c, now_ms);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;  // room to write: nothing to say
    if (c->ssl && !c->error_event && unread(*c) == Unread::nothing) {
        save_session(*c);  // a session ticket, say (TLS 1.3 sends them after the handshake): still idle
        return;
    }
    // A back end that closes connections nobody used yet, soon after they were made, would have them replaced as
    // fast as it closes them: it is left alone for its back-off interval instead.
    const Generation* g = idle_.generation();
    if (c->prewarmed && g && c->generation == g->number && c->backend < hold_until_ms_.size() &&
        now_ms - c->idle_since_ms < g->prewarm_backoff_ms[c->backend]) {
        hold_until_ms_[c->backend] = now_ms + g->prewarm_backoff_ms[c->backend];
    }
    close_idle(c);
}

void BackendPool::close_idle(BackendConn* c) {
    idle_.remove(c);
    close(c);
    note_idle(c->backend);
    refill_due_ = true;  // replaced, if it was one of the prewarmed (refill decides)
}

void BackendPool::expire_idle(int64_t now_ms) {
    bool any = false;
    idle_.expire(now_ms, [&](BackendConn* c) {
        close(c);
        any = true;
    });
    if (any) note_all_idle();
}

void BackendPool::stop_pooling() {
    pooling_ = false;
    for (BackendConn* c : warming_) {
        c->warming = false;
        close(c);
    }
    warming_.clear();
    std::fill(warming_count_.begin(), warming_count_.end(), 0);
    idle_.drop_if([](const BackendConn*) { return true; }, [this](BackendConn* c) { close(c); });
    note_all_idle();
}

// ---- prewarm ----

BackendConn* BackendPool::open_warm(const Generation& g, size_t backend, int64_t now_ms) {
    const BackendTlsContext* tls = g.backend_tls[backend].get();
    BackendConn* c = open(g, backend, nullptr, now_ms, tls ? tls->sni_for({}) : std::string_view());
    if (!c) return nullptr;
    c->warming = c->prewarmed = true;
    c->warm_start_ms = now_ms;
    warming_.push_back(c);
    ++warming_count_[backend];
    return c;
}

void BackendPool::stop_warming(BackendConn* c) {
    c->warming = false;
    const auto it = std::find(warming_.begin(), warming_.end(), c);
    if (it != warming_.end()) warming_.erase(it);
    if (c->backend < warming_count_.size() && warming_count_[c->backend] > 0) --warming_count_[c->backend];
}

void BackendPool::warm_step(BackendConn* c, int64_t now_ms) {
    if (c->error_event) return warm_failed(c, now_ms, "refused the connection");
    if (c->connecting) {
        if (!c->writable) return;
        c->connecting = false;
    }
    const Generation& g = *idle_.generation();  // warming connections are of the filed generation (see adopt)
    BackendState& st = *g.backends[c->backend];
    BackendCounters& counters = st.counters(worker_);
    if (c->handshaking) {
        const IoResult r = c->handshake();
        switch (r.status) {
            case IoStatus::ok:
                c->handshaking = false;
                counters.tls_handshakes.add();
                if (SSL_session_reused(c->ssl.get())) counters.tls_resumed.add();
                break;
            case IoStatus::want_read: c->readable = false; return;
            case IoStatus::want_write: c->writable = false; return;
            default: {
                bool verify_failed = false;
                const std::string why = handshake_failure(c->ssl.get(), &verify_failed);
                return warm_failed(c, now_ms, "failed the TLS handshake (" + why + ")", verify_failed);
            }
        }
    }
    // Ready: an idle connection like any other from now on.
    stop_warming(c);
    const bool probe = st.down_until_ms() != 0;
    if (probe) st.mark_up();  // it answered: back in service at once (as a request's connect)
    save_session(*c);
    c->readable = c->writable = false;
    if (pooling_ && idle_.put(c, now_ms)) {
        note_idle(c->backend);
    } else {
        close(c);
    }
    if (probe) refill_due_ = true;  // the probe answered: the rest follow
}

void BackendPool::warm_failed(BackendConn* c, int64_t now_ms, const std::string& why, bool verify_failed) {
    const size_t b = c->backend;
    stop_warming(c);
    close(c);
    const Generation& g = *idle_.generation();
    BackendState& st = *g.backends[b];
    BackendCounters& counters = st.counters(worker_);
    counters.errors.add();
    counters.connect_failures.add();
    if (verify_failed) counters.tls_verify_failures.add();
    st.mark_down(now_ms, g.prewarm_backoff_ms[b]);
    const BackendConfig& bc = st.config();
    log_.write(LogKind::backend_down, now_ms,
               "back end " + bc.key + " (" + format_ipv4(bc.address) + ":" + std::to_string(bc.port) + ") " + why +
                   " for a prewarmed connection; marked down for " + std::to_string(g.prewarm_backoff_ms[b]) + " ms");
    close_backend(b);
}

void BackendPool::close_backend(size_t backend) {
    for (size_t i = warming_.size(); i-- > 0;) {
        BackendConn* c = warming_[i];
        if (c->backend != backend) continue;
        stop_warming(c);
        close(c);
    }
    bool any = false;
    idle_.drop_if([backend](const BackendConn* c) { return c->backend == backend; },
                  [&](BackendConn* c) {
                      close(c);
                      any = true;
                  });
    if (any) note_idle(backend);
}

void BackendPool::refill(int64_t now_ms) {
    refill_due_ = false;
    const Generation* g = idle_.generation();
    if (!pooling_ || !g) return;
    for (size_t b = 0; b < g->backends.size(); ++b) {
        const uint32_t n = g->pool_prewarm[b];
        if (n == 0 || now_ms < hold_until_ms_[b]) continue;
        const BackendState& st = *g->backends[b];
        if (st.admin() == BackendAdmin::disabled || st.down(now_ms)) continue;
        if (const BackendTlsContext* tls = g->backend_tls[b].get(); tls && tls->sni_from_request()) continue;
        const size_t ready = idle_.count(b) + warming_count_[b];
        const size_t used = ready + busy_count_[b];
        const size_t depth = g->pool_depth[b];
        size_t want = ready < n ? n - ready : 0;
        want = std::min(want, used < depth ? depth - used : 0);  // what the depth leaves beside those in use
        // Its down interval has passed but nothing answered since: one connection probes it, the rest follow.
        if (st.down_until_ms() != 0) {
            if (warming_count_[b] > 0) continue;
            want = std::min<size_t>(want, 1);
        }
        for (; want > 0; --want) {
            if (open_warm(*g, b, now_ms)) continue;
            // Refused at once (or no socket): as a failed connect.
            BackendState& mut = *g->backends[b];
            BackendCounters& counters = mut.counters(worker_);
            counters.errors.add();
            counters.connect_failures.add();
            mut.mark_down(now_ms, g->prewarm_backoff_ms[b]);
            close_backend(b);
            break;
        }
    }
}

void BackendPool::maintain(int64_t now_ms) {
    const Generation* g = idle_.generation();
    if (!g) return;
    const int64_t connect_ms = g->server().timeouts.backend_connect_ms;
    for (size_t i = warming_.size(); i-- > 0;) {
        if (i >= warming_.size()) continue;  // a failure closed several
        BackendConn* c = warming_[i];
        if (now_ms - c->warm_start_ms > connect_ms) warm_failed(c, now_ms, "did not answer the connect");
    }
    for (size_t b = 0; b < g->backends.size(); ++b) {
        const BackendState& st = *g->backends[b];
        if (st.admin() != BackendAdmin::disabled && !st.down(now_ms)) continue;
        if (idle_.count(b) > 0 || warming_count_[b] > 0) close_backend(b);
    }
    refill(now_ms);
}

void BackendPool::uncount_busy(BackendConn* c) {
    if (!c->busy_counted) return;
    c->busy_counted = false;
    const Generation* g = idle_.generation();
    if (g && c->generation == g->number && busy_count_[c->backend] > 0) --busy_count_[c->backend];
}

void BackendPool::close(BackendConn* c) {
    uncount_busy(c);
    if (c->ssl && !c->handshaking && !c->tls_failed && !c->error_event) {
        ERR_clear_error();
        SSL_shutdown(c->ssl.get());  // best effort close_notify: a full socket just means none
        ERR_clear_error();
    }
    c->ssl.reset();
    c->fd.reset();  // close() also removes it from the epoll set
    c->dead = true;
    dead_.push_back(c);
}

void BackendPool::free_dead() {
    for (BackendConn* c : dead_) free_.push_back(c);
    dead_.clear();
}

}  // namespace dlba::server
