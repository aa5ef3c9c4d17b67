#include "net/tunnel.hpp"

#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>

#include "config/server_section.hpp"
#include "net/backend_exchange.hpp"
#include "net/backend_pool.hpp"

namespace dlba::server {

const char* tunnel_end_name(TunnelEnd e) {
    switch (e) {
        case TunnelEnd::none: return "open";
        case TunnelEnd::client_close: return "client_close";
        case TunnelEnd::backend_close: return "backend_close";
        case TunnelEnd::idle_timeout: return "idle_timeout";
        case TunnelEnd::client_reset: return "client_reset";
        case TunnelEnd::backend_reset: return "backend_reset";
        case TunnelEnd::shutdown: return "shutdown";
    }
    return "?";
}

void Tunnel::start(BackendConn* conn, int64_t now_ms) {
    reset();
    conn_ = conn;
    last_ms_ = now_ms;
}

void Tunnel::reset() {
    conn_ = nullptr;
    backend_eof_ = backend_shut_ = client_shut_ = client_first_ = false;
    end_ = TunnelEnd::none;
    up_ = down_ = 0;
    last_ms_ = 0;
}

bool Tunnel::step(InBuffer& from_client, OutBuffer& to_client, bool client_eof, BufferPool& pool, int64_t now_ms) {
    if (!conn_ || ended()) return false;
    BackendConn& c = *conn_;
    bool progress = false;

    // Up: the client's bytes, straight from the session's input buffer (no copy).
    while (c.writable && !from_client.empty() && !backend_shut_) {
        const IoResult r = c.write(from_client.data(), from_client.size());
        if (r.status == IoStatus::ok) {
            from_client.consume(r.n);
            up_ += r.n;
            last_ms_ = now_ms;
            progress = true;
        } else if (r.status == IoStatus::want_write) {
            c.writable = false;
        } else if (r.status == IoStatus::want_read) {
            break;  // TLS wants the back end's next record first: the read below takes it
        } else {
            end_ = TunnelEnd::backend_reset;
            return true;
        }
    }
    if (client_eof && from_client.empty() && !backend_shut_) {
        shut_backend();
        last_ms_ = now_ms;
        progress = true;
    }

    // Down: the back end's bytes, while the client keeps up.
    while (c.readable && !backend_eof_ && to_client.pending() < kClientHighWater) {
        pool.attach(read_);
        const size_t want = read_.space_size();
        const IoResult r = c.read(read_.space(), want);
        if (r.status == IoStatus::ok) {
            // Drained (see BackendExchange::step): wait for the next edge, unless the close came with the data.
            if (!c.ssl && r.n < want && !c.peer_closed) c.readable = false;
            pool.attach(to_client);
            to_client.text().append(read_.space(), r.n);
            down_ += r.n;
            last_ms_ = now_ms;
            progress = true;
        } else if (r.status == IoStatus::want_read) {
            c.readable = false;
        } else if (r.status == IoStatus::want_write) {
            c.writable = false;  // TLS must send first: the writable edge resumes us
            break;
        } else if (r.status == IoStatus::eof) {
            backend_eof_ = true;
            last_ms_ = now_ms;
            progress = true;
        } else {
            end_ = TunnelEnd::backend_reset;
            return true;
        }
    }
    pool.release(read_);  // nothing is kept in it between steps
    finish_if_done();
    return progress;
}

void Tunnel::shut_backend() {
    BackendConn& c = *conn_;
    if (c.ssl && !c.tls_failed && !c.error_event) {
        ERR_clear_error();
        SSL_shutdown(c.ssl.get());  // close_notify; the back end's data can still be read after it
        ERR_clear_error();
    }
    ::shutdown(c.fd.get(), SHUT_WR);
    backend_shut_ = true;
    client_first_ = !backend_eof_;
}

void Tunnel::client_shut(int64_t now_ms) {
    client_shut_ = true;
    last_ms_ = now_ms;
    finish_if_done();
}

void Tunnel::finish_if_done() {
    if (end_ == TunnelEnd::none && backend_shut_ && client_shut_) {
        end_ = client_first_ ? TunnelEnd::client_close : TunnelEnd::backend_close;
    }
}

bool Tunnel::check_idle(int64_t now_ms, const ServerTimeouts& t) {
    if (!conn_ || ended()) return false;
    // Half-closed: the side that still sends was told the other one is done, and should close soon.
    const int64_t limit = backend_shut_ || client_shut_ ? std::min(t.tunnel_ms, t.idle_ms) : t.tunnel_ms;
    if (now_ms - last_ms_ <= limit) return false;
    end_ = TunnelEnd::idle_timeout;
    return true;
}

}  // namespace dlba::server
