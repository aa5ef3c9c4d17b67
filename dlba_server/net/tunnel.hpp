// The byte tunnel of an upgraded connection (WebSocket, or another protocol a service passes on): after the back
// end's 101 the client connection and the back-end connection are relayed to each other byte for byte, until both
// directions have ended.
//
//   client --(the session's input buffer)--> back-end socket          "up"
//   client <--(the session's output buffer)-- back-end socket         "down"
//
// The session keeps doing the client side as for any request (plain or TLS reads into its input buffer, writes
// from its output buffer), so a tunnel over a TLS listener (wss://) is the same tunnel. Back-pressure both ways,
// bounded: the session reads the client only while its input buffer has room (16 kB), and that room comes back
// only as fast as the back end takes the bytes; the back end is read only while fewer than kClientHighWater bytes
// wait for the client.
//
// Half-close: the client's end of stream, once its last bytes are with the back end, becomes a shutdown of the
// back end's write side (TLS: close_notify first), and the back end's becomes one of the client's (the session's
// client_shutdown, once the output buffer is empty); the other direction goes on until it ends as well. A reset or
// a write error on either side ends the tunnel at once. Idle: no byte either way for timeouts.tunnel_ms ends it
// (once one direction has ended, timeouts.idle_ms is enough: the other side was told and should close).
//
// The tunnel owns no socket: the back-end connection stays the exchange's (net/backend_exchange.hpp), which
// releases it (closed, never pooled) when the tunnel ends. No allocation per step: one pooled read buffer.
#pragma once

#include <cstdint>

#include "net/buffers.hpp"

namespace dlba {
struct ServerTimeouts;
}

namespace dlba::server {

struct BackendConn;

// Why a tunnel ended, as the access log says it.
enum class TunnelEnd : uint8_t {
    none,           // still open
    client_close,   // the client closed first, then the back end
    backend_close,  // the back end closed first, then the client
    idle_timeout,   // no byte either way for timeouts.tunnel_ms (or idle_ms once half-closed)
    client_reset,   // the client's side failed (reset, TLS error) or was cut
    backend_reset,  // the back end's side failed
    shutdown,       // the server stopped (past timeouts.shutdown_ms)
};
const char* tunnel_end_name(TunnelEnd e);

class Tunnel {
public:
    // Starts relaying over `conn` (connected, its 101 read) at `now_ms`.
    void start(BackendConn* conn, int64_t now_ms);
    void reset();
    void release_buffers(BufferPool& pool) { pool.release(read_); }

    bool active() const { return conn_ != nullptr; }
    // The exchange let go of the back-end connection: nothing more moves; the figures stay for the log.
    void detach() { conn_ = nullptr; }
    // Moves what it can without blocking: `from_client` (client bytes the session read) to the back end, the back
    // end into `to_client` while fewer than kClientHighWater bytes wait there. `client_eof`: the client's stream
    // has ended (all of it is in from_client). Whether any byte or state moved; ended() tells when it is over.
    bool step(InBuffer& from_client, OutBuffer& to_client, bool client_eof, BufferPool& pool, int64_t now_ms);

    // The back end's stream ended and every byte of it went to the client: the session shuts the client's write
    // side now and says so with client_shut().
    bool wants_client_shutdown(const OutBuffer& to_client) const {
        return backend_eof_ && !client_shut_ && to_client.empty() && end_ == TunnelEnd::none;
    }
    void client_shut(int64_t now_ms);

    // Whether the tunnel has been idle too long (no byte either way); ends it with idle_timeout if so.
    bool check_idle(int64_t now_ms, const ServerTimeouts& t);
    // Ends it from outside (the client side failed, the server stops).
    void end(TunnelEnd why) {
        if (end_ == TunnelEnd::none) end_ = why;
    }

    bool ended() const { return end_ != TunnelEnd::none; }
    TunnelEnd end_reason() const { return end_; }
    uint64_t bytes_up() const { return up_; }      // client -> back end
    uint64_t bytes_down() const { return down_; }  // back end -> client (after the 101's head)
    // Bytes of the back end that came with its 101 (read before the tunnel started): they are the tunnel's.
    void count_down(uint64_t n) { down_ += n; }

private:
    void finish_if_done();
    void shut_backend();

    BackendConn* conn_ = nullptr;
    InBuffer read_;  // one read from the back end, on its way to the client's output buffer
    bool backend_eof_ = false;   // the back end's stream ended
    bool backend_shut_ = false;  // we shut the back end's write side (the client's stream ended)
    bool client_shut_ = false;   // the session shut the client's write side (the back end's stream ended)
    bool client_first_ = false;  // the client's stream ended before the back end's
    TunnelEnd end_ = TunnelEnd::none;
    uint64_t up_ = 0, down_ = 0;
    int64_t last_ms_ = 0;  // the last byte either way (or the last half-close)
};

}  // namespace dlba::server
