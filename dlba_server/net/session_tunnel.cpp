// The session's part of an upgraded connection: after the back end's 101 the exchange holds a Tunnel
// (net/tunnel.hpp) and the session relays it with the client side it already has (reads into its input buffer,
// writes from its output buffer, plain or TLS), shuts the client's write side when the back end's stream has
// ended, and once the tunnel is over logs it (one access-log line) and lets the connection close.
#include <sys/socket.h>

#include "net/backend_exchange.hpp"
#include "net/session.hpp"
#include "net/worker_context.hpp"

namespace dlba::server {

bool Session::relay_tunnel() {
    Tunnel& t = ex_->tunnel();
    bool progress = t.step(in_, to_client_, peer_eof_, w_.buffers, w_.now_ms());
    if (t.wants_client_shutdown(to_client_)) {
        // The back end's half-close, passed on: TLS close_notify, then the TCP FIN. The client may still send.
        client_.close_notify();
        ::shutdown(client_.fd(), SHUT_WR);
        t.client_shut(w_.now_ms());
        progress = true;
    }
    if (t.ended()) {
        end_tunnel(t.end_reason());
        return true;
    }
    return progress;
}

void Session::end_tunnel(TunnelEnd why) {
    ex_->tunnel().end(why);
    ex_->end_tunnel();
    log_request();
    release_exchange();
    // Nothing more is served on this connection: what waits for the client is flushed, then it closes (at once when
    // both streams have ended; otherwise by the lingering close).
    no_more_requests_ = true;
    start_closing();
}

}  // namespace dlba::server
