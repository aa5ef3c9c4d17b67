#include "net/session.hpp"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>

#include "net/backend_exchange.hpp"
#include "net/h2_connection.hpp"
#include "net/parser_slot.hpp"
#include "net/worker_context.hpp"
#include "rewrite/response_writer.hpp"

namespace dlba::server {

namespace {

constexpr int kMaxRounds = 32;       // steps per wake-up before the other sessions get a turn
constexpr int64_t kLingerMs = 2000;  // after the last response: how long to drain a client's input
constexpr uint64_t kLingerBytes = 1 << 20;

}  // namespace

// ---- ParserSlot: the parser's callbacks go to whichever session holds the slot ----

http::Action ParserSlot::on_request_head(const http::RequestHead& head) { return session->on_request_head(head); }
http::Action ParserSlot::on_body_data(std::span<const char> data) { return session->on_body_data(data); }
http::Action ParserSlot::on_message_complete() { return session->on_message_complete(); }

// ---- Session ----

Session::Session(WorkerContext& worker, Transport transport, const Listener& listener, ClientPeer peer)
    : w_(worker),
      client_(std::move(transport)),
      gen_(worker.generations.hold()),
      listener_(listener.key),
      peer_(peer),
      service_(static_cast<uint16_t>(listener.service)),
      http2_(listener.http2),
      protocol_known_(!listener.http2) {
    const in_addr a{htonl(peer.ip)};
    inet_ntop(AF_INET, &a, peer_text_, sizeof peer_text_);
    if (client_.tls()) {
        binding_.chooser = this;
        TlsContext::attach_binding(client_.ssl(), &binding_);
    }
    // The first request (and the TLS handshake before it) must arrive within the header deadline.
    head_start_ms_ = idle_since_ms_ = last_client_rx_ms_ = w_.now_ms();
}

Session::~Session() {
    h2_.reset();  // its exchanges first
    if (ex_) {
        ex_->cancel();
        w_.release_exchange(ex_);
    }
    if (parser_) w_.release_parser(parser_);
    w_.buffers.release(in_);
    w_.buffers.release(to_client_);
    w_.generations.release(gen_);
}

const Generation& Session::gen() const { return *gen_->gen; }

void Session::on_new_generation() {
    if (closed()) return;
    if (h2_) {
        if (!w_.listener_service(listener_)) {
            listener_gone_ = true;
            h2_->begin_shutdown();
        } else {
            h2_->on_new_generation();
        }
        return;
    }
    if (!ex_) {
        switch_generation();
        return;
    }
    if (!w_.listener_service(listener_)) {
        // Its listener is gone: this request finishes on the old generation and is the connection's last.
        listener_gone_ = true;
        no_more_requests_ = true;
    }
}

// Only between requests (no exchange): everything an exchange indexes belongs to the generation it started on.
void Session::switch_generation() {
    if (gen_ == w_.generations.current() || listener_gone_) return;
    const std::optional<size_t> service = w_.listener_service(listener_);
    if (!service) {
        listener_gone_ = true;
        begin_shutdown();  // idle: closes now; a request head under way is still answered, then the connection closes
        return;
    }
    GenerationSlot* old = gen_;
    gen_ = w_.generations.hold();
    service_ = static_cast<uint16_t>(*service);
    // The next request is parsed with the new limits (a parser between requests holds nothing of the client's).
    if (parser_ && parser_->parser.idle()) {
        w_.release_parser(parser_);
        parser_ = nullptr;
    }
    w_.generations.release(old);
}

void Session::on_client_event(uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        rd_ready_ = true;
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_hup_ = true;
        if (wr_wants_rd_) wr_ready_ = true;
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        wr_ready_ = true;
        if (rd_wants_wr_) rd_ready_ = true;
    }
    drive();
}

void Session::on_backend_event(BackendConn& conn, uint32_t events) {
    conn.note_events(events);
    if (h2_) {
        h2_->on_backend_event();
        return;
    }
    if (ex_ && ex_->owns(conn)) drive();  // else a late event of a connection this session already let go
}

void Session::drive() {
    if (h2_) {
        h2_->drive();
        return;
    }
    for (int round = 0; round < kMaxRounds; ++round) {
        // QoS: a client that closes while its request waits for a slot leaves the queue (it is not read while it
        // waits, so its FIN is known from the event alone; a half-close counts as leaving, as HAProxy's
        // abortonclose does).
        if (ex_ && ex_->waiting() && peer_hup_) {
            terminate();
            return;
        }
        // Between requests on an older generation (a request finished after the worker adopted a new one): the
        // next request runs on the new one. A pointer compare per round.
        if (!ex_ && gen_ != w_.generations.current() && !listener_gone_) {
            switch_generation();
            if (closed()) return;
        }
        bool progress = flush_client();
        if (closed()) return;
        // Upgraded (a 101 relayed): the connection is a byte tunnel from here on (net/session_tunnel.cpp).
        if (ex_) progress |= ex_->tunneling() ? relay_tunnel() : settle(ex_->step());
        if (closed()) return;
        progress |= read_client();
        if (closed()) return;
        progress |= parse_client();
        if (closed()) return;
        if (h2_) {
            h2_->drive();
            return;
        }
        if (ex_ && ex_->response_done() && (ex_->request_complete() || no_more_requests_)) {
            finish_exchange();
            progress = true;
        }
        if (!ex_ && state_ == Lifecycle::open && peer_eof_ && in_.empty()) {
            // The client has sent everything it will; once its requests are answered, we are done.
            no_more_requests_ = true;
            start_closing();
            progress = true;
        }
        if (state_ == Lifecycle::closing && !ex_ && to_client_.empty()) {
            if (peer_eof_) {
                close();
                return;
            }
            start_lingering();
            progress = true;
        }
        if (!progress) {
            // Idle between requests: hand the parser and the buffers back to the worker.
            if (parser_ && parser_->parser.idle() && in_.empty()) {
                w_.release_parser(parser_);
                parser_ = nullptr;
            }
            if (in_.empty()) w_.buffers.release(in_);
            if (to_client_.empty()) w_.buffers.release(to_client_);
            return;
        }
    }
    w_.schedule(this);  // still busy: let the worker's other sessions run, then go on
}

bool Session::settle(ExchangeStep step) {
    switch (step) {
        case ExchangeStep::blocked: return false;
        case ExchangeStep::progress: return true;
        case ExchangeStep::answer: answer_locally(ex_->local_status()); return true;
        case ExchangeStep::abort: abort_client(); return true;
    }
    return false;
}

bool Session::flush_client() {
    if (!wr_ready_ || to_client_.empty() || state_ == Lifecycle::lingering) return false;
    // A binding made (or changed) by this request: a TLS 1.3 client gets a ticket that carries it ahead of the
    // answer, so its next connection, on whichever node, resumes bound.
    if (binding_.ticket_stale) TlsContext::refresh_ticket(client_.ssl(), binding_);
    bool progress = false;
    while (!to_client_.empty()) {
        const IoResult r = client_.write(to_client_.pending_data(), to_client_.pending());
        if (r.status == IoStatus::ok) {
            to_client_.consume(r.n);
            w_.stats.bytes_out.add(r.n);
            progress = true;
            client_blocked_ = false;
            continue;
        }
        if (r.status == IoStatus::want_write || r.status == IoStatus::want_read) {
            wr_ready_ = false;
            wr_wants_rd_ = r.status == IoStatus::want_read;
            if (!client_blocked_) {
                client_blocked_ = true;
                blocked_since_ms_ = w_.now_ms();
            }
            break;
        }
        abort_client();  // the client went away
        return true;
    }
    return progress;
}

bool Session::read_client() {
    if (!rd_ready_ || peer_eof_) return false;
    if (state_ == Lifecycle::lingering) return read_lingering();
    if (state_ == Lifecycle::closing) return false;
    if (ex_ && ex_->waiting()) return false;  // QoS: a waiting request's body is not read
    w_.buffers.attach(in_);
    if (in_.space_size() == 0) return false;  // back-pressure: the parser has not taken what we have
    const size_t want = in_.space_size();
    const IoResult r = client_.read(in_.space(), want);
    note_handshake();
    switch (r.status) {
        case IoStatus::ok:
            // The read emptied the socket's receive queue (plain: it was short; TLS: its recv was short and OpenSSL
            // holds nothing more): wait for the next edge instead of paying a read that would only say EAGAIN.
            // Not once the client's FIN came: it came with (or after) these bytes, in the edge just consumed, and no
            // other edge will follow; the next read returns the end of the stream.
            if (!peer_hup_ && client_.drained(r, want)) rd_ready_ = false;
            in_.commit(r.n);
            w_.stats.bytes_in.add(r.n);
            last_client_rx_ms_ = w_.now_ms();
            if (!ex_ && head_start_ms_ == 0) head_start_ms_ = last_client_rx_ms_;
            return true;
        case IoStatus::want_read:
        case IoStatus::want_write:
            rd_ready_ = false;
            rd_wants_wr_ = r.status == IoStatus::want_write;
            return false;
        case IoStatus::eof:
            peer_eof_ = true;
            if (!client_.handshake_done()) {
                close();
            } else if (ex_ && !ex_->request_complete()) {
                // Gone in the middle of sending a request: nobody is left to answer.
                if (ex_->response_started()) {
                    abort_client();
                } else {
                    terminate();
                }
            } else if (!ex_ && in_.empty() && parser_ && !parser_->parser.idle()) {
                close();  // half a request head and then nothing
            }
            return true;
        case IoStatus::error:
            if (!client_.handshake_done()) {
                w_.stats.tls_handshake_failures.add();
                w_.log.write(LogKind::tls, w_.now_ms(),
                             std::string("TLS handshake with ") + peer_text_ + " failed: " + last_tls_error());
            }
            terminate();
            return true;
    }
    return false;
}

// Discard: read the socket itself (under TLS too: these bytes are never decrypted).
bool Session::read_lingering() {
    char sink[4096];
    const IoResult r = socket_read(client_.fd(), sink, sizeof sink);
    if (r.status == IoStatus::ok) {
        lingered_bytes_ += r.n;
        if (lingered_bytes_ > kLingerBytes) close();
        return true;
    }
    if (r.status == IoStatus::want_read) {
        rd_ready_ = false;
        return false;
    }
    close();
    return true;
}

void Session::note_handshake() {
    if (handshake_noted_ || !client_.tls() || !client_.handshake_done()) return;
    handshake_noted_ = true;
    w_.stats.tls_handshakes.add();
    if (SSL_session_reused(client_.ssl())) w_.stats.tls_resumed.add();
}

// HTTP/2 or HTTP/1.x, once: TLS by the protocol ALPN chose; plain (a listener with http2) by the first bytes, the
// h2c connection preface (RFC 9113 §3.3: prior knowledge) or anything else.
void Session::pick_protocol() {
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    bool h2 = false;
    if (client_.tls()) {
        if (!client_.handshake_done()) return;
        h2 = TlsContext::negotiated_h2(client_.ssl());
    } else {
        if (in_.empty()) return;
        const std::string_view got(in_.data(), std::min(in_.size(), kPreface.size()));
        if (got != kPreface.substr(0, got.size())) {
            protocol_known_ = true;  // HTTP/1.x
            return;
        }
        if (got.size() < kPreface.size()) return;  // could still be the preface
        h2 = true;
    }
    protocol_known_ = true;
    if (!h2) return;
    h2_ = std::make_unique<H2Connection>(*this, w_);
    if (parser_) {
        w_.release_parser(parser_);
        parser_ = nullptr;
    }
    head_start_ms_ = 0;
    if (!h2_->start()) close();
}

bool Session::parse_client() {
    if (!protocol_known_) {
        pick_protocol();
        if (closed() || h2_) return true;
        if (!protocol_known_) return false;
    }
    if (state_ != Lifecycle::open || in_.empty()) return false;
    if (ex_ && ex_->request_complete()) return false;   // a pipelined request waits for the current response
    if (ex_ && ex_->backend_backlogged()) return false;  // the back end is slower than the client
    if (ex_ && ex_->waiting()) return false;             // QoS: no body is taken while it waits for a slot
    if (!parser_) parser_ = w_.acquire_parser(this);
    if (!ex_ && head_start_ms_ == 0) head_start_ms_ = w_.now_ms();
    const http::ParseResult r = parser_->parser.execute(in_.data(), in_.size());
    if (closed()) return true;
    in_.consume(r.consumed);
    switch (r.status) {
        case http::ParseStatus::error: request_error(parser_->parser.error()); return true;
        case http::ParseStatus::done:
            // After a request with "Connection: close" nothing more is served (RFC 9112 §9.6).
            in_.consume(in_.size());
            no_more_requests_ = true;
            return true;
        case http::ParseStatus::ok:
        case http::ParseStatus::paused: break;
    }
    return r.consumed > 0;
}

// ---- the request ----

http::Action Session::on_request_head(const http::RequestHead& head) {
    w_.stats.requests.add();
    head_start_ms_ = 0;
    if (!head.keep_alive || w_.stopping()) no_more_requests_ = true;
    ex_ = w_.acquire_exchange();
    const RequestOrigin origin{peer_text_, client_.tls(), listener_, client_.tls() ? &binding_ : nullptr};
    settle(ex_->begin(head, gen(), service_, origin, this, ClientSide{&to_client_, &no_more_requests_}));
    // A request that waits for a slot (QoS) has its body left unread until it gets one: stop after the head.
    if (ex_ && ex_->waiting() && head.framing != http::BodyFraming::none) return http::Action::pause;
    return http::Action::proceed;
}

http::Action Session::on_body_data(std::span<const char> data) {
    if (!ex_) return http::Action::proceed;  // answered already (503): the body is read and dropped
    return ex_->forward_body(data) ? http::Action::pause : http::Action::proceed;
}

http::Action Session::on_message_complete() {
    if (ex_) ex_->request_done();
    // Stop here: the next pipelined request is parsed once this one is answered, so answers stay in order.
    return http::Action::pause;
}

// ---- ends ----

void Session::answer_locally(uint16_t status) {
    w_.stats.local_errors.add();
    w_.stats.responses[status / 100].add();
    bool close_after = no_more_requests_ || status == 408;
    uint32_t retry_after_s = 0;
    if (ex_) {
        retry_after_s = ex_->retry_after_s();
        ex_->answered_locally(status);
        // A request whose body has not been read to its end leaves the connection out of step: close it.
        if (ex_->request_body_unread()) close_after = true;
        log_request();
        release_exchange();
    }
    w_.buffers.attach(to_client_);
    write_error_response(status, close_after, to_client_.text(), retry_after_s);
    idle_since_ms_ = w_.now_ms();
    if (close_after) {
        no_more_requests_ = true;
        start_closing();
    }
}

void Session::finish_exchange() {
    ex_->finish();
    log_request();
    release_exchange();
    idle_since_ms_ = w_.now_ms();
    head_start_ms_ = in_.empty() ? 0 : w_.now_ms();  // a pipelined request is already under way
    if (no_more_requests_) start_closing();
}

void Session::release_exchange() {
    w_.release_exchange(ex_);
    ex_ = nullptr;
}

void Session::request_error(const http::HttpError& e) {
    if (ex_ && ex_->response_started()) {  // a bad body after the answer began: nothing more can be said
        abort_client();
        return;
    }
    no_more_requests_ = true;
    answer_locally(e.status);
}

void Session::abort_client() {
    w_.stats.aborted.add();
    if (ex_) {
        ex_->aborted();
        log_request();
    }
    terminate();
}

void Session::start_closing() {
    if (state_ == Lifecycle::open) state_ = Lifecycle::closing;
}

// Lingering close: stop writing, then drain what the client still sends, so that closing with unread input does
// not reset the connection and destroy the answer we just sent (RFC 9112 §9.6).
void Session::start_lingering() {
    client_.close_notify();
    ::shutdown(client_.fd(), SHUT_WR);
    state_ = Lifecycle::lingering;
    rd_ready_ = true;
    linger_start_ms_ = w_.now_ms();
}

void Session::begin_shutdown() {
    if (h2_) {
        h2_->begin_shutdown();
        return;
    }
    no_more_requests_ = true;
    if (!ex_ && head_start_ms_ == 0 && to_client_.empty()) close();
}

void Session::terminate() {
    if (ex_ && ex_->tunneling()) end_tunnel(w_.stopping() ? TunnelEnd::shutdown : TunnelEnd::client_reset);
    close();
}

void Session::close() {
    if (closed()) return;
    state_ = Lifecycle::closed;
    if (h2_) h2_->cancel_all();
    if (ex_) {
        ex_->cancel();
        release_exchange();
    }
    if (parser_) {
        w_.release_parser(parser_);
        parser_ = nullptr;
    }
    w_.buffers.release(in_);
    w_.buffers.release(to_client_);
    client_.close();
    w_.session_closed(this);
}

void Session::on_timer() {
    if (closed()) return;
    const int64_t now = w_.now_ms();
    if (h2_) {
        h2_->on_timer(now);
        return;
    }
    const ServerTimeouts& t = gen().server().timeouts;
    if (state_ == Lifecycle::lingering) {
        if (now - linger_start_ms_ > kLingerMs) close();
        return;
    }
    // Until the handshake is done head_start_ms_ is the moment of accept (no request byte can have been read).
    if (!client_.handshake_done() && now - head_start_ms_ > t.handshake_ms) {
        w_.stats.handshake_timeouts.add();
        close();  // nothing to answer before the handshake: just close
        return;
    }
    // A tunnel has its own idle deadline, over both directions (a client not reading stops the back end's reads).
    if (ex_ && ex_->tunneling()) {
        if (ex_->tunnel().check_idle(now, t)) drive();
        return;
    }
    if (client_blocked_ && !to_client_.empty() && now - blocked_since_ms_ > t.body_ms) {
        abort_client();  // not reading what we send
        return;
    }
    if (ex_) {
        const ExchangeStep backend = ex_->check_deadlines(now, t);
        if (backend != ExchangeStep::blocked) {
            settle(backend);
        } else if (!ex_->waiting() && !ex_->request_complete() &&
                   now - std::max(last_client_rx_ms_, ex_->queue_left_ms()) > t.body_ms) {
            if (ex_->response_started()) {
                abort_client();
            } else {
                no_more_requests_ = true;
                answer_locally(408);
            }
        } else {
            return;
        }
        if (!closed()) drive();
        return;
    }
    if (state_ == Lifecycle::closing) return;
    if (head_start_ms_ != 0 && now - head_start_ms_ > t.header_ms) {
        w_.stats.header_timeouts.add();
        const bool partial = !in_.empty() || (parser_ && !parser_->parser.idle());
        if (!client_.handshake_done() || !partial) {
            close();  // nothing to answer: no handshake, or not one byte of a request
            return;
        }
        no_more_requests_ = true;
        answer_locally(408);
        drive();
        return;
    }
    if (head_start_ms_ == 0 && to_client_.empty() && now - idle_since_ms_ > t.idle_ms) {
        w_.stats.idle_timeouts.add();
        close();
    }
}

void Session::log_request() {
    if (!w_.access_log.enabled() || !ex_) return;
    AccessLogEntry e;
    e.unix_s = w_.wall_seconds();
    e.client_ip = peer_text_;
    e.client_port = peer_.port;
    ex_->describe(e, w_.now_ms());
    w_.access_log.write(e);
}

}  // namespace dlba::server
