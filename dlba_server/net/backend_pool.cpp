#include "net/backend_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "io/sockaddr.hpp"
#include "net/transport.hpp"

namespace dlba::server {

void IdleConnections::remove(BackendConn* c) {
    if (c->backend >= lists_.size()) return;
    std::vector<BackendConn*>& list = lists_[c->backend];
    const auto it = std::find(list.begin(), list.end(), c);
    if (it != list.end()) list.erase(it);
}

void BackendPool::adopt(const Generation& next) {
    idle_.refile(next, [this](BackendConn* c) { close(c); });
}

Unread unread(const BackendConn& c) {
    char b;
    const ssize_t n = ::recv(c.fd.get(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Unread::bytes;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Unread::nothing;
    return Unread::closed;
}

BackendConn* BackendPool::take_idle(const Generation& g, size_t backend, Session* owner) {
    BackendConn* c = idle_.take(g, backend);
    while (c && unread(*c) != Unread::nothing) {
        close(c);
        c = idle_.take(g, backend);
    }
    if (!c) return nullptr;
    c->owner = owner;
    c->reused = true;
    // Connected long ago and quiet since (looked at above): writable now, nothing to read.
    c->connecting = false;
    c->writable = true;
    c->readable = c->error_event = c->peer_closed = false;
    return c;
}

BackendConn* BackendPool::open(const Generation& g, size_t backend, Session* owner, int64_t now_ms) {
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
    BackendConn* c;
    if (free_.empty()) {
        conns_.push_back(std::make_unique<BackendConn>());
        c = conns_.back().get();
    } else {
        c = free_.back();
        free_.pop_back();
    }
    c->fd = std::move(fd);
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
    if (reusable && pooling_ && idle_.put(c, now_ms)) return;
    close(c);
}

void BackendPool::close_idle(BackendConn* c) {
    idle_.remove(c);
    close(c);
}

void BackendPool::expire_idle(int64_t now_ms) {
    idle_.expire(now_ms, [this](BackendConn* c) { close(c); });
}

void BackendPool::close(BackendConn* c) {
    c->fd.reset();  // close() also removes it from the epoll set
    c->dead = true;
    dead_.push_back(c);
}

void BackendPool::free_dead() {
    for (BackendConn* c : dead_) free_.push_back(c);
    dead_.clear();
}

}  // namespace dlba::server
