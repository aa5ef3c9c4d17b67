// One client connection: the client side of the proxy, a state machine driven by readiness events of the client
// socket and of the back-end connection of the request in progress.
//
//   read client bytes -> RequestParser -> head complete: a BackendExchange (net/backend_exchange.hpp) chooses the
//   back end, sends the rebuilt request and its body, and writes the response into this connection's output ->
//   flush to the client -> next request on the same connection (pipelined ones wait in the input).
//
// Back-pressure both ways: the client is not read while the request bytes for the back end pile up, and the back
// end is not read while the response bytes for the client pile up; each side's buffer stays under a high-water
// mark plus one read. Epoll is edge-triggered, so the session remembers which socket may have more to give (or
// room to take) and keeps going until every side would block.
//
// A session runs each request on one configuration generation (net/shared.hpp) and holds its slot in the worker
// while it does: an exchange's back-end and service indexes mean something only in that generation. It moves to
// the worker's newer generation between requests (and its connection closes after the current request if a reload
// removed its listener).
//
// After a 101 to an upgrade the service passes on, the connection is a byte tunnel to that back end
// (net/tunnel.hpp, driven from net/session_tunnel.cpp) until both sides have closed; then the session closes.
//
// Lifecycle: open (serving requests) -> closing (no more requests; flushing the last bytes) -> lingering (output
// shut down, discarding what the client still sends) -> closed; a session may close from any state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "http/request_parser.hpp"
#include "net/buffers.hpp"
#include "net/event_handle.hpp"
#include "net/transport.hpp"
#include "net/tunnel.hpp"
#include "reload/reload_plan.hpp"
#include "tls/session_binding.hpp"

namespace dlba::server {

class WorkerContext;
class BackendExchange;
class H2Connection;
enum class ExchangeStep : uint8_t;
struct BackendConn;
struct GenerationSlot;
struct Generation;
struct Listener;
struct ParserSlot;

// Who is at the other end of a client connection.
struct ClientPeer {
    uint32_t ip = 0;  // host order
    uint16_t port = 0;
    bool counted_per_ip = false;  // counted in Shared::per_ip: released when the session closes
};

// A TLS connection's session binding (policy tls_session, tls/session_binding.hpp) lives here beside its SSL; the
// ticket callbacks reach the service's policy through the BindingChooser side (net/session_tls_binding.cpp).
class Session final : public BindingChooser {
public:
    Session(WorkerContext& worker, Transport transport, const Listener& listener, ClientPeer peer);
    ~Session() override;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void on_client_event(uint32_t events);
    void on_backend_event(BackendConn& conn, uint32_t events);
    void on_timer();
    // The worker adopted a new configuration generation: switch now if between requests (else before the next
    // request); if this connection's listener is gone, finish the request in progress and close.
    void on_new_generation();
    void begin_shutdown();  // stop taking requests: idle now -> close, busy -> close after the response
    void drive();           // make every step that can be made without blocking
    void terminate();       // close now, whatever is in flight

    bool closed() const { return state_ == Lifecycle::closed; }
    int fd() const { return client_.fd(); }
    const ClientPeer& peer() const { return peer_; }

    EventHandle handle{HandleKind::client, this};
    size_t slot = 0;  // position in the worker's session list

    // From the parser (via ParserSlot).
    http::Action on_request_head(const http::RequestHead& head);
    http::Action on_body_data(std::span<const char> data);
    http::Action on_message_complete();

    // BindingChooser: the TLS callbacks' view of this connection's service (net/session_tls_binding.cpp).
    bool binds_sessions() const override;
    bool usable(std::string_view key) const override;
    bool choose(SessionBinding& b, bool rebind) override;

private:
    friend class H2Connection;  // an h2 connection (net/h2_connection.hpp) drives this session's socket and buffers

    enum class Lifecycle : uint8_t {
        open,       // serving requests
        closing,    // no more requests: flushing the last bytes, then shutting output down (or closing)
        lingering,  // output done and shut down; discarding input until the client closes (or a limit)
        closed,     // socket closed; the object is freed after the event batch
    };

    bool flush_client();
    bool read_client();
    bool read_lingering();
    bool parse_client();
    bool settle(ExchangeStep step);  // does what the exchange left to do; whether anything moved
    // An upgraded connection (net/session_tunnel.cpp): relays the tunnel, forwards the back end's half-close, and
    // when the tunnel is over logs it and lets the connection close.
    bool relay_tunnel();
    void end_tunnel(TunnelEnd why);

    const Generation& gen() const;  // the generation this session's current (or next) request runs on
    void switch_generation();
    void answer_locally(uint16_t status);
    void finish_exchange();
    void release_exchange();
    void abort_client();
    void request_error(const http::HttpError& e);
    void note_handshake();
    void start_closing();
    void start_lingering();
    void close();
    void log_request();
    void pick_protocol();  // TLS: by ALPN once the handshake is done; plain with http2: by the h2c preface

    WorkerContext& w_;
    SessionBinding binding_;  // TLS: attached to the SSL for the ticket callbacks; declared first, outlives it
    Transport client_;
    GenerationSlot* gen_;   // held (counted) in the worker while this session uses it
    ListenerKey listener_;  // the listener it came in on, found again in each new generation
    ClientPeer peer_;
    uint16_t service_ = 0;     // the listener's service in gen_
    char peer_text_[16] = {};  // dotted quad, for X-Forwarded-For and the log

    Lifecycle state_ = Lifecycle::open;
    bool rd_ready_ = false, wr_ready_ = true;        // the client socket may have bytes / room
    bool rd_wants_wr_ = false, wr_wants_rd_ = false;  // TLS: a read waits for writability and vice versa
    bool peer_eof_ = false;
    bool peer_hup_ = false;  // epoll saw the client's FIN (EPOLLRDHUP): read on to the end, whatever a read returns
    bool no_more_requests_ = false;  // close once the current response is out
    bool handshake_noted_ = false;
    bool client_blocked_ = false;  // the client's socket refused bytes; since blocked_since_ms_
    bool listener_gone_ = false;   // a reload removed its listener: no request after the current one

    InBuffer in_;
    OutBuffer to_client_;
    ParserSlot* parser_ = nullptr;
    BackendExchange* ex_ = nullptr;  // the request in progress
    std::unique_ptr<H2Connection> h2_;  // the connection speaks HTTP/2: everything goes through it
    bool http2_ = false;                // the listener offers h2
    bool protocol_known_ = false;       // HTTP/1.x or h2 decided

    int64_t head_start_ms_ = 0;  // a request head (or the TLS handshake) is under way since; 0 = none
    int64_t idle_since_ms_ = 0;
    int64_t last_client_rx_ms_ = 0;
    int64_t blocked_since_ms_ = 0;
    int64_t linger_start_ms_ = 0;
    uint64_t lingered_bytes_ = 0;
};

}  // namespace dlba::server
