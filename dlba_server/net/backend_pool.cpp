#include "net/backend_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "io/sockaddr.hpp"
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
    idle_.refile(next, [this](BackendConn* c) { close(c); });
    // A TLS connection was verified under the old generation's context, which may differ: none carries over, nor a
    // plain one to a back end that now wants TLS. The saved sessions go for the same reason.
    idle_.drop_if([&next](const BackendConn* c) { return c->ssl || next.backend_tls[c->backend]; },
                  [this](BackendConn* c) { close(c); });
    sessions_.clear();
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
    if (!c) return nullptr;
    c->owner = owner;
    c->reused = true;
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
    save_session(*c);
    if (reusable && pooling_ && idle_.put(c, now_ms)) return;
    close(c);
}

void BackendPool::idle_event(BackendConn* c) {
    if (c->ssl && !c->error_event && unread(*c) == Unread::nothing) return;  // a session ticket, say: still idle
    close_idle(c);
}

void BackendPool::close_idle(BackendConn* c) {
    idle_.remove(c);
    close(c);
}

void BackendPool::expire_idle(int64_t now_ms) {
    idle_.expire(now_ms, [this](BackendConn* c) { close(c); });
}

void BackendPool::close(BackendConn* c) {
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
