// The back-end connections of one worker: the one place that opens a connection to a back end (open), the one
// place that hands out an idle one for reuse (take_idle), and the idle pool between the two.
//
// Idle connections are filed per back end of the generation the worker runs (the current one), as many as that
// generation's pool depth for the back end and for at most its idle timeout; the most recently used one is handed
// out first (the warmest, and the least likely to have been closed by the back end). When the worker adopts a new
// generation, the idle connections of back ends that continue (the same BackendState) are filed under their new
// index and trimmed to the new depth (the oldest go); those of back ends it removed are closed. A connection
// opened for a request on an older generation is closed, not pooled, when that request ends: its back-end index
// means nothing in the pool now.
//
// TLS to a back end (its `tls` group) is made here too: open() starts the client handshake's SSL on the connecting
// socket (the exchange drives it), with the last resumable session this worker saved for that back end and SNI
// name; release() saves the connection's session. A TLS connection is reused only for the same SNI name.
//
// Prewarm (`pool.prewarm = N`): per back end the pool itself opens N connections ahead of demand (TCP connect and,
// with TLS, the whole handshake, driven here from their events, not by a request) and files them idle once ready.
// refill() tops every back end up to N idle (ready or still warming), but only as far as the pool depth leaves
// room beside the connections requests hold (idle + warming + in use <= depth: with prewarm = depth a taken
// connection is refilled only once it is not given back, else every release would find the pool full and close),
// and runs between event batches when a connection was taken from the pool or an idle one closed, and on every timer scan (maintain()); never inside a
// request's processing. Idle connections past the idle timeout close only above N (the N most recently used stay);
// one the back end closed is replaced. Bounded: a back end that is down or disabled has its idle and warming
// connections closed and gets none (a down back end whose interval has passed gets one probe connection first,
// then the rest once it answered); a prewarm connect or handshake that fails marks the back end down for its
// service's down_interval_ms (like a request's failed connect), and a back end that closes fresh never-used
// connections within that interval is left alone for as long. Back ends whose TLS name is the request's Host
// (tls.sni = "host") are not prewarmed: the name is not known ahead of the request.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <optional>
#include <vector>

#include "io/fd.hpp"
#include "net/event_handle.hpp"
#include "net/limited_log.hpp"
#include "net/shared.hpp"
#include "net/transport.hpp"

namespace dlba::server {

class Session;

// A connection to a back end: in use by one session's request, or idle in the pool.
struct BackendConn {
    EventHandle handle{HandleKind::backend, this};
    io::Fd fd;
    SslPtr ssl;                // TLS to the back end, else nullptr
    std::string sni;           // the server name its handshake sent ("" for none): reused for that name only
    Session* owner = nullptr;  // nullptr while idle in the pool (or dead)
    size_t backend = 0;        // index in the array's back ends of generation `generation`
    uint64_t generation = 0;
    bool connecting = false;
    bool handshaking = false;  // TLS: connected, handshake not finished
    bool tls_failed = false;   // TLS: a call failed fatally (no close_notify then)
    bool readable = false;
    bool writable = false;
    bool error_event = false;  // EPOLLERR/EPOLLHUP seen
    bool peer_closed = false;  // EPOLLRDHUP seen: after the data, a read returns the back end's close
    bool dead = false;         // closed; the object waits for the end of the event batch before reuse
    bool reused = false;       // came from the idle pool
    bool warming = false;      // prewarm: opened by the pool itself, connect or handshake not done yet
    bool prewarmed = false;    // opened ahead of demand and not handed out yet
    bool busy_counted = false;  // counted among its back end's connections in use (prewarm's room, see refill())
    int64_t idle_since_ms = 0;
    int64_t warm_start_ms = 0;  // prewarm: when the connect began

    IoResult read(char* buf, size_t len) {
        return ssl ? noted(tls_read(ssl.get(), buf, len)) : socket_read(fd.get(), buf, len);
    }
    IoResult write(const char* buf, size_t len) {
        return ssl ? noted(tls_write(ssl.get(), buf, len)) : socket_write(fd.get(), buf, len);
    }
    IoResult handshake() { return noted(tls_handshake(ssl.get())); }
    // OpenSSL forbids SSL_shutdown after a fatal error: remember one.
    IoResult noted(IoResult r) {
        if (r.status == IoStatus::error) tls_failed = true;
        return r;
    }

    // Epoll is edge-triggered: remember what the socket said until the owner acts on it.
    void note_events(uint32_t events) {
        if (events & (EPOLLERR | EPOLLHUP)) error_event = true;
        if (events & (EPOLLRDHUP | EPOLLHUP)) peer_closed = true;
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable = true;
        if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable = true;
    }
};

// What a back-end connection's socket holds beyond what was read from it: looked at without reading (MSG_PEEK), or
// for TLS by one non-blocking read, which consumes the records that are not data (TLS 1.3 session tickets a back end
// sends after its answer) and finds a close_notify.
enum class Unread : uint8_t {
    nothing,  // quiet: it may carry another request
    bytes,    // the back end sent more than its answer: reading them as the next answer would desync
    closed,   // the back end closed it (or it failed)
};
Unread unread(BackendConn& c);

// The idle lists alone: which connection waits for which back end, since when, and which must go. Pure
// bookkeeping (it never opens, closes or reads a socket; what it lets go of it hands to `close`), unit-tested.
class IdleConnections {
public:
    // The generation whose back-end indexes the lists use; nullptr before the first refile().
    const Generation* generation() const { return generation_; }
    size_t count(size_t backend) const { return backend < lists_.size() ? lists_[backend].size() : 0; }

    // The most recently released idle connection to `backend` of `g`, taken off its list; nullptr when there is
    // none or `g` is not the generation the lists are filed under (a request still on an older one connects anew).
    // Only a connection whose handshake sent `sni` is handed out for it.
    BackendConn* take(const Generation& g, size_t backend, std::string_view sni = {}) {
        if (&g != generation_) return nullptr;
        std::vector<BackendConn*>& list = lists_[backend];
        for (size_t i = list.size(); i-- > 0;) {
            if (list[i]->sni != sni) continue;
            BackendConn* c = list[i];
            list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
            return c;
        }
        return nullptr;
    }
    // Files `c` as idle since `now_ms` when it belongs to the filed generation and its back end's list has room
    // under the pool depth; false otherwise (the caller closes it).
    bool put(BackendConn* c, int64_t now_ms) {
        if (!generation_ || c->generation != generation_->number) return false;
        std::vector<BackendConn*>& list = lists_[c->backend];
        if (list.size() >= generation_->pool_depth[c->backend]) return false;
        c->idle_since_ms = now_ms;
        list.push_back(c);
        return true;
    }
    void remove(BackendConn* c);
    // Hands every idle connection for which `drop(c)` holds to `close`.
    template <class Drop, class Close>
    void drop_if(Drop&& drop, Close&& close) {
        for (std::vector<BackendConn*>& list : lists_) {
            std::erase_if(list, [&](BackendConn* c) {
                if (!drop(c)) return false;
                close(c);
                return true;
            });
        }
    }
    // Hands every connection idle for longer than its back end's idle timeout to `close`, oldest first, but keeps
    // the back end's prewarm count (its most recently used ones).
    template <class Close>
    void expire(int64_t now_ms, Close&& close);
    // Files the lists under `next` (see the top of this file); what does not carry over goes to `close`.
    template <class Close>
    void refile(const Generation& next, Close&& close);

private:
    const Generation* generation_ = nullptr;
    std::vector<std::vector<BackendConn*>> lists_;  // per back end, in order of release (most recently used last)
};

class BackendPool {
public:
    // Connections are added to `epoll` (edge-triggered, both directions); `log` takes socket() failures; `worker`
    // is the worker's index, for the back ends' per-worker counters.
    BackendPool(const io::Fd& epoll, LimitedLog& log, unsigned worker = 0)
        : epoll_(epoll), log_(log), worker_(worker) {}
    BackendPool(const BackendPool&) = delete;
    BackendPool& operator=(const BackendPool&) = delete;

    // The worker adopted `next` (it stays alive while it is the worker's current generation).
    void adopt(const Generation& next);
    // An idle connection to back end `backend` of `g` for `owner`, ready to write (reused = true); nullptr when
    // there is none to hand out. One that has something unread (bytes, or the back end's close, whose event this
    // batch has not delivered yet) is closed instead and the next one tried.
    BackendConn* take_idle(const Generation& g, size_t backend, Session* owner, std::string_view sni = {});
    // A new non-blocking connect to back end `backend` of `g` for `owner`; nullptr when the socket could not even
    // be created or the connect failed at once (the caller counts it as a failed connect).
    // With TLS to the back end the connection starts its handshake sending `sni` ("" for none).
    BackendConn* open(const Generation& g, size_t backend, Session* owner, int64_t now_ms, std::string_view sni = {});
    // The owner is done with `c`: back to the idle pool when `reusable` and it may be kept, else closed.
    void release(BackendConn* c, bool reusable, int64_t now_ms);
    // An event on a connection that has no owner: a warming one goes on with its connect or handshake; an idle one
    // that spoke or closed is of no more use. (A TLS one that only sent a session ticket stays.)
    void idle_event(BackendConn* c, uint32_t events, int64_t now_ms);
    void close_idle(BackendConn* c);
    void expire_idle(int64_t now_ms);
    // Prewarm: something was taken or closed since the last refill().
    bool refill_due() const { return refill_due_; }
    // Opens connections ahead of demand up to each back end's prewarm count (see the top of this file).
    void refill(int64_t now_ms);
    // Every timer scan: closes the idle and warming connections of back ends that are down or disabled, fails
    // warming ones past the connect timeout, refills.
    void maintain(int64_t now_ms);
    // The worker is stopping: from now on released connections close, nothing is prewarmed.
    void stop_pooling();
    // The end of an event batch: the objects of connections closed in it may be reused (no event points at them).
    void free_dead();

    const IdleConnections& idle() const { return idle_; }

    size_t saved_sessions() const { return sessions_.size(); }
    size_t warming() const { return warming_.size(); }

private:
    void close(BackendConn* c);
    BackendConn* open_warm(const Generation& g, size_t backend, int64_t now_ms);
    void warm_step(BackendConn* c, int64_t now_ms);
    void warm_failed(BackendConn* c, int64_t now_ms, const std::string& why, bool verify_failed = false);
    void stop_warming(BackendConn* c);  // off the warming list (the caller files or closes it)
    void close_backend(size_t backend);  // its idle and warming connections
    void note_idle(size_t backend);      // the idle_pooled gauge of `backend`
    void note_all_idle();
    void uncount_busy(BackendConn* c);  // no longer in use by a request
    void save_session(const BackendConn& c);
    SSL_SESSION* saved_session(const Generation& g, size_t backend, std::string_view sni) const;

    const io::Fd& epoll_;
    LimitedLog& log_;
    unsigned worker_;
    bool pooling_ = true;
    bool refill_due_ = false;
    IdleConnections idle_;
    std::vector<BackendConn*> warming_;      // prewarm connections not ready yet
    std::vector<uint32_t> warming_count_;    // per back end of the filed generation
    std::vector<uint32_t> busy_count_;       // per back end of the filed generation: connections owned by requests
    std::vector<int64_t> hold_until_ms_;     // per back end: not refilled before (it closes fresh connections)
    std::vector<std::unique_ptr<BackendConn>> conns_;  // every BackendConn object this worker owns
    std::vector<BackendConn*> free_;
    std::vector<BackendConn*> dead_;
    // The last resumable TLS session per back end and SNI name, of the generation the worker runs (cleared when it
    // adopts another: its contexts may verify differently).
    struct SavedSession {
        const BackendState* backend;
        std::string sni;
        SslSessionPtr session;
    };
    std::vector<SavedSession> sessions_;  // a few: one per TLS back end (and SNI name) in use
};

template <class Close>
void IdleConnections::expire(int64_t now_ms, Close&& close) {
    for (size_t b = 0; b < lists_.size(); ++b) {
        std::vector<BackendConn*>& list = lists_[b];
        const size_t keep = generation_->pool_prewarm[b];
        size_t expired = 0;  // the list is in order of release: the expired ones are at its front
        while (expired < list.size() && list.size() - expired > keep &&
               now_ms - list[expired]->idle_since_ms > generation_->pool_timeout_ms[b]) {
            close(list[expired++]);
        }
        list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(expired));
    }
}

template <class Close>
void IdleConnections::refile(const Generation& next, Close&& close) {
    std::vector<std::vector<BackendConn*>> lists(next.backends.size());
    for (size_t b = 0; b < lists_.size(); ++b) {
        std::optional<size_t> to;
        for (size_t nb = 0; nb < next.backends.size() && !to; ++nb) {
            if (next.backends[nb] == generation_->backends[b]) to = nb;
        }
        for (BackendConn* c : lists_[b]) {
            if (to) {
                c->backend = *to;
                c->generation = next.number;
                lists[*to].push_back(c);
            } else {
                close(c);
            }
        }
    }
    for (size_t b = 0; b < lists.size(); ++b) {
        std::vector<BackendConn*>& list = lists[b];
        const size_t depth = next.pool_depth[b];
        if (list.size() <= depth) continue;
        const size_t excess = list.size() - depth;  // the oldest go
        for (size_t i = 0; i < excess; ++i) close(list[i]);
        list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(excess));
    }
    lists_ = std::move(lists);
    generation_ = &next;
}

}  // namespace dlba::server
