#include "net/session.hpp"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstdio>
#include <ctime>

#include "net/worker.hpp"
#include "rewrite/request_writer.hpp"
#include "rewrite/response_writer.hpp"

namespace dlba::server {

namespace {

constexpr size_t kClientHighWater = 64 * 1024;   // response bytes waiting for the client before the back end waits
constexpr size_t kBackendHighWater = 64 * 1024;  // request bytes waiting for the back end before the client waits
constexpr int kMaxRounds = 32;                   // steps per wake-up before the other sessions get a turn
constexpr int64_t kLingerMs = 2000;              // after the last response: how long to drain a client's input
constexpr uint64_t kLingerBytes = 1 << 20;

bool idempotent(std::string_view method) {
    for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
        if (method == m) return true;
    }
    return false;
}

}  // namespace

// ---- ParserSlot: the parser's callbacks go to whichever session holds the slot ----

http::Action ParserSlot::on_request_head(const http::RequestHead& head) { return session->on_request_head(head); }
http::Action ParserSlot::on_body_data(std::span<const char> data) { return session->on_body_data(data); }
http::Action ParserSlot::on_message_complete() { return session->on_message_complete(); }

// ---- Exchange ----

Exchange::Exchange()
    : scanner(http::ResponseLimits{32 * 1024, 100}), body(http::BodyLimits{1024, 8192, 0}, 502) {}

void Exchange::reset() {
    target.clear();
    cookies.clear();
    method.clear();
    request_framing = http::BodyFraming::none;
    client_minor = 1;
    head_request = replayable = request_complete = local = false;
    request_body_bytes = 0;
    service_backend = backend = 0;
    has_backend = false;
    reason = ChoiceReason::none;
    inject = false;
    attempts = tried_count = 0;
    conn = nullptr;
    active_counted = false;
    start_ms = connect_start_us = last_backend_ms = 0;
    backend_eof = extra_bytes = false;
    phase = Phase::head;
    raw_body = true;
    response_started = response_keep_alive = false;
    response_received = 0;
    status = 0;
    bytes_to_client = 0;
    set_cookies.clear();
}

// ---- Session ----

Session::Session(Worker& worker, Transport transport, const Listener& listener, uint32_t peer_ip, uint16_t peer_port)
    : w_(worker),
      client_(std::move(transport)),
      gen_(worker.hold_generation()),
      listener_(listener.key),
      peer_ip_(peer_ip),
      peer_port_(peer_port),
      service_(static_cast<uint16_t>(listener.service)) {
    const in_addr a{htonl(peer_ip)};
    inet_ntop(AF_INET, &a, peer_text_, sizeof peer_text_);
    // The first request (and the TLS handshake before it) must arrive within the header deadline.
    head_start_ms_ = idle_since_ms_ = last_client_rx_ms_ = w_.now_ms();
}

Session::~Session() {
    if (ex_) {
        release_backend(false);
        w_.release_exchange(ex_);
    }
    if (parser_) w_.release_parser(parser_);
    w_.buffers().release(in_);
    w_.buffers().release(to_client_);
    w_.release_generation(gen_);
}

const Generation& Session::gen() const { return *gen_->gen; }

const Balancer& Session::balancer() const { return gen().balancers[service_]; }

BackendCounters& Session::backend_counters(size_t backend) { return gen().backends[backend]->counters(w_.id()); }

void Session::on_new_generation() {
    if (closed_) return;
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
    if (gen_ == w_.current_generation() || listener_gone_) return;
    const std::optional<size_t> service = w_.listener_service(listener_);
    if (!service) {
        listener_gone_ = true;
        begin_shutdown();  // idle: closes now; a request head under way is still answered, then the connection closes
        return;
    }
    GenerationRef* old = gen_;
    gen_ = w_.hold_generation();
    service_ = static_cast<uint16_t>(*service);
    // The next request is parsed with the new limits (a parser between requests holds nothing of the client's).
    if (parser_ && parser_->parser.idle()) {
        w_.release_parser(parser_);
        parser_ = nullptr;
    }
    w_.release_generation(old);
}

std::string& Session::out() {
    w_.buffers().attach(to_client_);
    return to_client_.text();
}

void Session::on_client_event(uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        rd_ready_ = true;
        if (wr_wants_rd_) wr_ready_ = true;
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        wr_ready_ = true;
        if (rd_wants_wr_) rd_ready_ = true;
    }
    drive();
}

void Session::on_backend_event(BackendConn& conn, uint32_t events) {
    if (events & (EPOLLERR | EPOLLHUP)) conn.error_event = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn.readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) conn.writable = true;
    if (ex_ && ex_->conn == &conn) drive();  // else a late event of a connection this session already let go
}

void Session::drive() {
    for (int round = 0; round < kMaxRounds; ++round) {
        // Between requests on an older generation (a request finished after the worker adopted a new one): the
        // next request runs on the new one. A pointer compare per round.
        if (!ex_ && gen_ != w_.current_generation() && !listener_gone_) {
            switch_generation();
            if (closed_) return;
        }
        bool progress = flush_client();
        if (closed_) return;
        if (ex_) progress |= backend_io();
        if (closed_) return;
        progress |= read_client();
        if (closed_) return;
        progress |= parse_client();
        if (closed_) return;
        if (ex_ && ex_->phase == Exchange::Phase::done && (ex_->request_complete || no_more_requests_)) {
            finish_exchange();
            progress = true;
        }
        if (!ex_ && !closing_ && peer_eof_ && in_.empty()) {
            // The client has sent everything it will; once its requests are answered, we are done.
            no_more_requests_ = true;
            start_closing();
            progress = true;
        }
        if (closing_ && !lingering_ && !ex_ && to_client_.empty()) {
            if (peer_eof_) {
                close();
                return;
            }
            // Lingering close: stop writing, then drain what the client still sends, so that closing with unread
            // input does not reset the connection and destroy the answer we just sent (RFC 9112 §9.6).
            client_.close_notify();
            ::shutdown(client_.fd(), SHUT_WR);
            lingering_ = true;
            rd_ready_ = true;
            linger_start_ms_ = w_.now_ms();
            progress = true;
        }
        if (!progress) {
            // Idle between requests: hand the parser and the buffers back to the worker.
            if (parser_ && parser_->parser.idle() && in_.empty()) {
                w_.release_parser(parser_);
                parser_ = nullptr;
            }
            if (in_.empty()) w_.buffers().release(in_);
            if (to_client_.empty()) w_.buffers().release(to_client_);
            return;
        }
    }
    w_.schedule(this);  // still busy: let the worker's other sessions run, then go on
}

bool Session::flush_client() {
    if (!wr_ready_ || to_client_.empty() || lingering_) return false;
    bool progress = false;
    while (!to_client_.empty()) {
        const IoResult r = client_.write(to_client_.pending_data(), to_client_.pending());
        if (r.status == IoStatus::ok) {
            to_client_.consume(r.n);
            w_.counters().bytes_out.add(r.n);
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
    if (lingering_) {
        // Discard: read the socket itself (under TLS too: these bytes are never decrypted).
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
    if (closing_) return false;
    w_.buffers().attach(in_);
    if (in_.space_size() == 0) return false;  // back-pressure: the parser has not taken what we have
    const size_t want = in_.space_size();
    const IoResult r = client_.read(in_.space(), want);
    note_handshake();
    switch (r.status) {
        case IoStatus::ok:
            // A short read from a plain socket emptied its receive queue: wait for the next edge instead of
            // paying a read that would only say EAGAIN. (Under TLS a read returns one record, so it proves nothing.)
            if (r.n < want && !client_.tls()) rd_ready_ = false;
            in_.commit(r.n);
            w_.counters().bytes_in.add(r.n);
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
            } else if (ex_ && !ex_->request_complete) {
                // Gone in the middle of sending a request: nobody is left to answer.
                if (ex_->response_started) {
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
                w_.counters().tls_handshake_failures.add();
                w_.log_limited(1, std::string("TLS handshake with ") + peer_text_ + " failed: " + last_tls_error());
            }
            terminate();
            return true;
    }
    return false;
}

void Session::note_handshake() {
    if (handshake_noted_ || !client_.tls() || !client_.handshake_done()) return;
    handshake_noted_ = true;
    w_.counters().tls_handshakes.add();
    if (SSL_session_reused(client_.ssl())) w_.counters().tls_resumed.add();
}

bool Session::parse_client() {
    if (closing_ || in_.empty()) return false;
    if (ex_ && ex_->request_complete) return false;  // a pipelined request waits for the current response
    if (ex_ && ex_->to_backend.pending() >= kBackendHighWater) return false;  // the back end is slower than the client
    if (!parser_) parser_ = w_.acquire_parser(this);
    if (!ex_ && head_start_ms_ == 0) head_start_ms_ = w_.now_ms();
    const http::ParseResult r = parser_->parser.execute(in_.data(), in_.size());
    if (closed_) return true;
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
    w_.counters().requests.add();
    head_start_ms_ = 0;
    if (!head.keep_alive || w_.stopping()) no_more_requests_ = true;
    ex_ = w_.acquire_exchange();
    Exchange& x = *ex_;
    x.start_ms = w_.now_ms();
    x.client_minor = head.minor_version;
    x.head_request = head.method == "HEAD";
    x.request_framing = head.framing;
    x.method.assign(head.method);
    x.target.assign(head.target);
    for (const http::Header& h : head.headers) {
        if (!http::iequals(h.name, "cookie")) continue;
        if (!x.cookies.empty()) x.cookies += "; ";
        x.cookies += h.value;
    }
    // Only a request without a body and with an idempotent method may be sent twice (after an empty answer, or
    // over a pooled connection that turns out to be closed); only those use pooled connections.
    x.replayable = head.framing == http::BodyFraming::none && idempotent(head.method);

    const std::optional<Choice> choice = choose_backend();
    if (!choice || !choice->index) {
        w_.counters().no_backend.add();
        answer_locally(503);
        return http::Action::proceed;
    }
    take_choice(*choice);

    const ServiceConfig& svc = balancer().service();
    ForwardContext ctx;
    ctx.forwarded = gen().server().forwarded;
    ctx.client_ip = peer_text_;
    ctx.tls = client_.tls();
    ctx.strip_cookie = svc.policy == BalancePolicy::cookie && svc.strip_injected ? std::string_view(svc.inject_cookie)
                                                                                  : std::string_view();
    ctx.keep_alive = svc.pool_idle_per_backend > 0 && x.replayable;
    char local[24];  // the listener's address:port, for an HTTP/1.0 request without Host
    if (head.host.empty()) {
        const in_addr a{htonl(listener_.address)};
        char ip[16];
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        std::snprintf(local, sizeof local, "%s:%u", ip, static_cast<unsigned>(listener_.port));
        ctx.default_host = local;
    }
    write_request_head(head, ctx, x.to_backend.text(), x.scratch);
    x.to_backend.keep(x.replayable);  // keep the head until the answer starts, in case it must be sent again
    start_backend(true);
    return http::Action::proceed;
}

http::Action Session::on_body_data(std::span<const char> data) {
    if (!ex_) return http::Action::proceed;  // answered already (503): the body is read and dropped
    Exchange& x = *ex_;
    x.request_body_bytes += data.size();
    if (x.request_framing == http::BodyFraming::chunked) {
        append_chunk(x.to_backend.text(), {data.data(), data.size()});
    } else {
        x.to_backend.text().append(data.data(), data.size());
    }
    return x.to_backend.pending() >= kBackendHighWater ? http::Action::pause : http::Action::proceed;
}

http::Action Session::on_message_complete() {
    if (ex_) {
        if (ex_->request_framing == http::BodyFraming::chunked) append_last_chunk(ex_->to_backend.text());
        ex_->request_complete = true;
    }
    // Stop here: the next pipelined request is parsed once this one is answered, so answers stay in order.
    return http::Action::pause;
}

std::optional<Choice> Session::choose_backend() {
    const Balancer& bal = balancer();
    Worker::Scratch& sc = w_.scratch();
    const Generation& g = gen();
    const int64_t now = w_.now_ms();
    const size_t n = bal.size();
    for (size_t i = 0; i < n; ++i) {
        const BackendState& st = *g.backends[bal.backend_index(i)];
        bool tried = false;
        for (uint8_t t = 0; t < ex_->tried_count; ++t) tried = tried || ex_->tried[t] == i;
        sc.usable_new[i] = !tried && st.usable_for_new(now);
        sc.usable_sticky[i] = !tried && st.usable_for_sticky(now);
        sc.active[i] = st.active();
        sc.weight[i] = st.weight();
        sc.average_ms[i] = st.average_ms();
    }
    const Candidates c{{sc.usable_new.get(), n}, {sc.usable_sticky.get(), n}, {sc.active.data(), n},
                       {sc.weight.data(), n}, {sc.average_ms.data(), n}};
    const http::Header cookie{"Cookie", ex_->cookies};
    const RequestKeys keys{ex_->target, ex_->cookies.empty() ? std::span<const http::Header>()
                                                             : std::span<const http::Header>(&cookie, 1)};
    return bal.choose(keys, c, w_.next_rotation());
}

void Session::take_choice(const Choice& choice) {
    Exchange& x = *ex_;
    x.service_backend = *choice.index;
    x.backend = balancer().backend_index(x.service_backend);
    x.has_backend = true;
    // On a retry the back ends already tried count as unusable, so a request whose cookie named the failed back
    // end comes back as cookie_rerouted with inject set: the client learns the new key.
    x.reason = choice.reason;
    x.inject = choice.inject;
}

void Session::start_backend(bool allow_pool) {
    Exchange& x = *ex_;
    BackendState& st = *gen().backends[x.backend];
    ++x.attempts;
    if (x.tried_count < Exchange::kMaxTried) x.tried[x.tried_count++] = static_cast<uint16_t>(x.service_backend);
    st.begin_request();
    x.active_counted = true;
    backend_counters(x.backend).hits.add();
    x.connect_start_us = w_.now_us();
    x.last_backend_ms = w_.now_ms();
    x.phase = Exchange::Phase::head;
    x.scanner.start(x.head_request);
    x.response_received = 0;
    x.backend_eof = x.extra_bytes = false;
    bool reused = false;
    BackendConn* c = w_.connect_backend(gen(), x.backend, this, allow_pool && x.replayable, &reused);
    if (!c) {
        connect_failed(Failure::refused);
        return;
    }
    x.conn = c;
    if (reused) {
        backend_counters(x.backend).pooled_reuses.add();
        c->connecting = false;
        c->writable = true;
        c->readable = c->error_event = false;
    }
}

// ---- the back end ----

bool Session::backend_io() {
    Exchange& x = *ex_;
    BackendConn* c = x.conn;
    if (!c) return false;
    bool progress = false;
    if (c->connecting) {
        if (c->error_event) {
            connect_failed(Failure::refused);
            return true;
        }
        if (!c->writable) return false;
        c->connecting = false;
        BackendState& st = *gen().backends[x.backend];
        if (st.down_until_ms() != 0) st.mark_up();  // a connect worked: back in service at once
        x.last_backend_ms = w_.now_ms();
        progress = true;
    }
    while (c->writable && !x.to_backend.empty()) {
        const IoResult r = socket_write(c->fd.get(), x.to_backend.pending_data(), x.to_backend.pending());
        if (r.status == IoStatus::ok) {
            x.to_backend.consume(r.n);
            x.last_backend_ms = w_.now_ms();
            progress = true;
        } else if (r.status == IoStatus::want_write) {
            c->writable = false;
        } else {
            backend_failed(Failure::reset);
            return true;
        }
    }
    while (c->readable && x.phase != Exchange::Phase::done && to_client_.pending() < kClientHighWater) {
        w_.buffers().attach(x.from_backend);
        if (x.from_backend.space_size() == 0) break;
        const size_t want = x.from_backend.space_size();
        const IoResult r = socket_read(c->fd.get(), x.from_backend.space(), want);
        if (r.status == IoStatus::ok) {
            if (r.n < want) c->readable = false;  // drained (see read_client)
            x.from_backend.commit(r.n);
            x.response_received += r.n;
            x.last_backend_ms = w_.now_ms();
            process_response();
            return true;  // the exchange may have ended; the next round looks again
        }
        if (r.status == IoStatus::want_read) {
            c->readable = false;
            break;
        }
        if (r.status == IoStatus::eof) {
            backend_eof();
        } else {
            backend_failed(Failure::reset);
        }
        return true;
    }
    return progress;
}

void Session::process_response() {
    Exchange& x = *ex_;
    while (!x.from_backend.empty()) {
        if (x.phase == Exchange::Phase::head) {
            const http::ScanResult r = x.scanner.scan(x.from_backend.data(), x.from_backend.size());
            x.from_backend.consume(r.consumed);
            if (r.status == http::ScanStatus::error) {
                backend_failed(Failure::bad_response);
                return;
            }
            if (r.status == http::ScanStatus::need_more) return;
            const http::ResponseHead& h = x.scanner.head();
            if (h.informational()) {
                if (h.status == 101) {  // we never forward Upgrade, so a switch is a back-end error
                    backend_failed(Failure::bad_response);
                    return;
                }
                if (x.client_minor == 1) {  // HTTP/1.0 clients do not expect interim answers
                    write_response_head(h, {1, false, false}, {}, out());
                    x.response_started = true;
                }
                x.scanner.start(x.head_request);
                continue;
            }
            response_head_complete(h);
            continue;
        }
        if (x.phase == Exchange::Phase::body) {
            const http::BodyStep s = x.body.step(x.from_backend.data(), x.from_backend.size());
            if (x.raw_body) {
                out().append(x.from_backend.data(), s.consumed);
                x.bytes_to_client += s.consumed;
            } else {
                out().append(s.data.data(), s.data.size());
                x.bytes_to_client += s.data.size();
            }
            x.from_backend.consume(s.consumed);
            if (s.state == http::BodyState::error) {
                backend_failed(Failure::bad_response);
                return;
            }
            if (s.state == http::BodyState::complete) x.phase = Exchange::Phase::done;
            continue;
        }
        // Bytes after the end of the response: not ours to pass on, and the connection is not reusable.
        x.extra_bytes = true;
        x.from_backend.consume(x.from_backend.size());
    }
}

void Session::response_head_complete(const http::ResponseHead& h) {
    Exchange& x = *ex_;
    x.status = h.status;
    gen().backends[x.backend]->record_response_time(static_cast<double>(w_.now_us() - x.connect_start_us) / 1000.0);
    // Answered before the request was complete: the connection cannot be trusted for another request.
    if (!x.request_complete) no_more_requests_ = true;
    const bool dechunk = x.client_minor == 0 && h.framing == http::BodyFraming::chunked;
    if (h.framing == http::BodyFraming::until_close || dechunk || w_.stopping()) no_more_requests_ = true;
    x.set_cookies.clear();
    const Balancer& bal = balancer();
    const ServiceConfig& svc = bal.service();
    if (svc.policy == BalancePolicy::cookie) {
        cookie_injections(h, svc.session_cookie, svc.inject_cookie, bal.key(x.service_backend), x.inject,
                          w_.wall_seconds(), x.set_cookies);
        // A session cookie from the back end, or a re-routed client, got our cookie: one more cookie group here.
        if (!x.set_cookies.empty()) backend_counters(x.backend).cookie_groups.add();
    }
    std::string& o = out();
    const size_t before = o.size();
    write_response_head(h, {x.client_minor, no_more_requests_, dechunk}, x.set_cookies, o);
    x.bytes_to_client += o.size() - before;
    x.response_started = true;
    x.response_keep_alive = h.keep_alive;
    x.to_backend.keep(false);
    w_.counters().responses[h.status / 100].add();
    x.raw_body = !dechunk;
    x.body.start(h.framing, h.content_length);
    x.phase = x.body.state() == http::BodyState::complete ? Exchange::Phase::done : Exchange::Phase::body;
}

void Session::backend_eof() {
    Exchange& x = *ex_;
    x.backend_eof = true;
    if (x.conn) x.conn->readable = false;
    if (x.phase == Exchange::Phase::body && x.body.finish_at_eof() == http::BodyState::complete) {
        x.phase = Exchange::Phase::done;
        return;
    }
    if (x.phase == Exchange::Phase::done) return;
    if (x.phase == Exchange::Phase::head && x.response_received == 0) {
        backend_failed(Failure::empty);
        return;
    }
    backend_failed(Failure::bad_response);  // cut short
}

void Session::connect_failed(Failure why) {
    Exchange& x = *ex_;
    BackendState& st = *gen().backends[x.backend];
    const ServiceConfig& svc = balancer().service();
    st.mark_down(w_.now_ms(), svc.down_interval_ms);
    BackendCounters& bc = backend_counters(x.backend);
    bc.errors.add();
    bc.connect_failures.add();
    const BackendConfig& cfg = st.config();
    w_.log_limited(2, "back end " + cfg.key + " (" + format_ipv4(cfg.address) + ":" + std::to_string(cfg.port) + ") " +
                          (why == Failure::timeout ? "did not answer the connect" : "refused the connection") +
                          "; marked down for " + std::to_string(svc.down_interval_ms) + " ms");
    release_backend(false);
    if (x.attempts <= svc.retries) {
        retry_elsewhere(503);
        return;
    }
    w_.counters().no_backend.add();
    answer_locally(503);
}

void Session::backend_failed(Failure why) {
    Exchange& x = *ex_;
    const bool reused = x.conn && x.conn->reused;
    if (!reused) backend_counters(x.backend).errors.add();
    release_backend(false);
    if (x.response_started) {
        abort_client();
        return;
    }
    if (x.replayable && (why == Failure::empty || why == Failure::reset)) {
        if (reused) {
            // An idle pooled connection the back end had closed: not the back end's fault; go again, fresh.
            w_.counters().retries.add();
            x.to_backend.rewind();
            --x.tried_count;
            --x.attempts;
            start_backend(false);
            return;
        }
        if (x.attempts <= balancer().service().retries) {
            retry_elsewhere(502);
            return;
        }
    }
    answer_locally(why == Failure::timeout ? 504 : 502);
}

void Session::retry_elsewhere(uint16_t status_if_none) {
    Exchange& x = *ex_;
    w_.counters().retries.add();
    x.to_backend.rewind();
    const std::optional<Choice> choice = choose_backend();
    if (!choice || !choice->index) {
        if (status_if_none == 503) w_.counters().no_backend.add();
        answer_locally(status_if_none);
        return;
    }
    take_choice(*choice);
    start_backend(true);
}

void Session::release_backend(bool reusable) {
    Exchange& x = *ex_;
    if (x.conn) {
        w_.release_backend(x.conn, reusable);
        x.conn = nullptr;
    }
    if (x.active_counted) {
        gen().backends[x.backend]->end_request();
        x.active_counted = false;
    }
}

// ---- ends ----

void Session::answer_locally(uint16_t status) {
    w_.counters().local_errors.add();
    w_.counters().responses[status / 100].add();
    bool close_after = no_more_requests_ || status == 408;
    if (ex_) {
        release_backend(false);
        // A request whose body has not been read to its end leaves the connection out of step: close it.
        if (!ex_->request_complete && ex_->request_framing != http::BodyFraming::none) close_after = true;
        ex_->status = status;
        ex_->bytes_to_client = 0;
        log_request();
        w_.release_exchange(ex_);
        ex_ = nullptr;
    }
    write_error_response(status, close_after, out());
    idle_since_ms_ = w_.now_ms();
    if (close_after) {
        no_more_requests_ = true;
        start_closing();
    }
}

void Session::finish_exchange() {
    Exchange& x = *ex_;
    const bool reusable = x.conn && x.response_keep_alive && x.request_complete && x.to_backend.empty() &&
                          !x.backend_eof && !x.extra_bytes && x.from_backend.empty();
    release_backend(reusable);
    log_request();
    w_.release_exchange(ex_);
    ex_ = nullptr;
    idle_since_ms_ = w_.now_ms();
    head_start_ms_ = in_.empty() ? 0 : w_.now_ms();  // a pipelined request is already under way
    if (no_more_requests_) start_closing();
}

void Session::request_error(const http::HttpError& e) {
    if (ex_ && ex_->response_started) {  // a bad body after the answer began: nothing more can be said
        abort_client();
        return;
    }
    no_more_requests_ = true;
    answer_locally(e.status);
}

void Session::abort_client() {
    w_.counters().aborted.add();
    if (ex_) {
        ex_->status = ex_->status ? ex_->status : 502;
        log_request();
    }
    terminate();
}

void Session::start_closing() { closing_ = true; }

void Session::begin_shutdown() {
    no_more_requests_ = true;
    if (!ex_ && head_start_ms_ == 0 && to_client_.empty()) close();
}

void Session::terminate() { close(); }

void Session::close() {
    if (closed_) return;
    closed_ = true;
    if (ex_) {
        release_backend(false);
        w_.release_exchange(ex_);
        ex_ = nullptr;
    }
    if (parser_) {
        w_.release_parser(parser_);
        parser_ = nullptr;
    }
    w_.buffers().release(in_);
    w_.buffers().release(to_client_);
    client_.close();
    w_.session_closed(this);
}

void Session::on_timer() {
    if (closed_) return;
    const int64_t now = w_.now_ms();
    const ServerTimeouts& t = gen().server().timeouts;
    if (lingering_) {
        if (now - linger_start_ms_ > kLingerMs) close();
        return;
    }
    if (client_blocked_ && !to_client_.empty() && now - blocked_since_ms_ > t.body_ms) {
        abort_client();  // not reading what we send
        return;
    }
    if (ex_) {
        Exchange& x = *ex_;
        if (x.conn && x.conn->connecting && now - x.connect_start_us / 1000 > t.backend_connect_ms) {
            connect_failed(Failure::timeout);
        } else if (x.conn && !x.conn->connecting && x.phase != Exchange::Phase::done &&
                   (x.response_started || (x.request_complete && x.to_backend.empty())) &&
                   now - x.last_backend_ms > t.backend_response_ms) {
            // The back end's deadline runs once it has the whole request (or has begun to answer); while the
            // client is still sending, the client's body deadline applies instead.
            backend_counters(x.backend).errors.add();
            if (x.response_started) {
                abort_client();
            } else {
                answer_locally(504);
            }
        } else if (!x.request_complete && now - last_client_rx_ms_ > t.body_ms) {
            if (x.response_started) {
                abort_client();
            } else {
                no_more_requests_ = true;
                answer_locally(408);
            }
        } else {
            return;
        }
        if (!closed_) drive();
        return;
    }
    if (closing_) return;
    if (head_start_ms_ != 0 && now - head_start_ms_ > t.header_ms) {
        w_.counters().header_timeouts.add();
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
        w_.counters().idle_timeouts.add();
        close();
    }
}

void Session::log_request() {
    if (!w_.access_log_enabled() || !ex_) return;
    const Exchange& x = *ex_;
    // time client "METHOD target" status bytes backend duration reason
    char when[32];
    const time_t now = static_cast<time_t>(w_.wall_seconds());
    tm utc;
    gmtime_r(&now, &utc);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::string& line = x_log_line_;
    line.clear();
    line += when;
    line += ' ';
    line += peer_text_;
    line += ':';
    line += std::to_string(peer_port_);
    line += " \"";
    line += x.method;
    line += ' ';
    line.append(x.target, 0, std::min<size_t>(x.target.size(), 1024));
    line += "\" ";
    line += std::to_string(x.status);
    line += ' ';
    line += std::to_string(x.bytes_to_client);
    line += ' ';
    line += x.has_backend ? gen().backends[x.backend]->config().key : std::string("-");
    line += ' ';
    line += std::to_string(w_.now_ms() - x.start_ms);
    line += "ms ";
    line += choice_reason_name(x.reason);
    if (x.attempts > 1) {
        line += " attempts=";
        line += std::to_string(x.attempts);
    }
    w_.access_log(line);
}

}  // namespace dlba::server
