#include "net/backend_exchange.hpp"

#include <arpa/inet.h>

#include <cstdio>

#include "http/upgrade.hpp"
#include "net/reuse_rule.hpp"
#include "net/transport.hpp"
#include "net/worker_context.hpp"
#include "qos/class_rules.hpp"
#include "rewrite/request_writer.hpp"
#include "rewrite/response_writer.hpp"

namespace dlba::server {

BackendExchange::BackendExchange(WorkerContext& worker)
    : w_(worker), scanner_(http::ResponseLimits{32 * 1024, 100}), body_(http::BodyLimits{1024, 8192, 0}, 502) {}

void BackendExchange::reset() {
    gen_ = nullptr;
    balancer_ = nullptr;
    owner_ = nullptr;
    client_ = {};
    target_.clear();
    cookies_.clear();
    method_.clear();
    upgrade_.clear();
    tunnel_.reset();
    request_framing_ = http::BodyFraming::none;
    client_minor_ = 1;
    head_request_ = replayable_ = request_complete_ = false;
    service_backend_ = backend_ = 0;
    has_backend_ = false;
    route_ = -1;
    listener_routed_ = overflowed_ = false;
    reason_ = ChoiceReason::none;
    force_cookie_ = false;
    tls_binding_ = nullptr;
    pin_match_ = {};
    pin_ = {};
    client_tls_ = false;
    attempts_ = tried_count_ = 0;
    qos_ = nullptr;
    class_ = kQosDefaultClass;
    waiting_ = full_excluded_ = false;
    wait_allows_pool_ = true;
    queue_start_ms_ = queue_ms_ = queue_left_ms_ = 0;
    retry_after_s_ = 0;
    conn_ = nullptr;
    active_counted_ = false;
    start_ms_ = connect_start_us_ = last_backend_ms_ = 0;
    backend_eof_ = extra_bytes_ = redirected_ = false;
    phase_ = ResponsePhase::head;
    relay_ = Relay::as_framed;
    bad_response_ = false;
    response_started_ = response_keep_alive_ = false;
    response_received_ = 0;
    status_ = local_status_ = 0;
    bytes_to_client_ = 0;
    set_cookies_.clear();
    w_.buffers.attach(to_backend_);
}

void BackendExchange::release_buffers() {
    tunnel_.release_buffers(w_.buffers);
    w_.buffers.release(to_backend_);
    w_.buffers.release(from_backend_);
}

namespace {

std::string_view trim_ows(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

constexpr size_t kCdnScratch = 24 * 1024;  // one 16 KiB read rewritten, with room for the longer URLs (grows if not)

}  // namespace

BackendCounters& BackendExchange::backend_counters() const { return gen_->backends[backend_]->counters(w_.id); }

std::string& BackendExchange::out() {
    w_.buffers.attach(*client_.out);
    return client_.out->text();
}

// ---- the request ----

ExchangeStep BackendExchange::begin(const http::RequestHead& head, const Generation& gen, size_t service,
                                    const RequestOrigin& origin, Session* owner, ClientSide client) {
    gen_ = &gen;
    service = route_request(head, origin, service);
    balancer_ = &gen.balancers[service];
    service_ = service;
    owner_ = owner;
    client_ = client;
    tls_binding_ = origin.tls_binding;
    start_ms_ = w_.now_ms();
    client_minor_ = head.minor_version;
    head_request_ = head.method == "HEAD";
    request_framing_ = head.framing;
    method_.assign(head.method);
    host_.assign(host_without_port(head.host));
    target_.assign(head.target);
    for (const http::Header& h : head.headers) {
        if (!http::iequals(h.name, "cookie")) continue;
        if (!cookies_.empty()) cookies_ += "; ";
        cookies_ += h.value;
    }
    // Only a request without a body and with an idempotent method may be sent twice (after an empty answer, or
    // over a pooled connection that turns out to be closed); only those go first on an idle pooled connection
    // (net/reuse_rule.hpp).
    replayable_ = replayable_request(head.framing, head.method);
    read_pin(origin);
    qos_ = &gen.qos[service];
    if (qos_->classify) class_ = classify(balancer_->service().qos.classes, {target_, origin.tls, cookies_});
    // A redirect service answers here: the policy picks the back end as for proxying, no connection is opened.
    if (redirect_service()) return answer_redirect(origin);

    const std::optional<Choice> choice = choose_backend();
    // Every back end that could take it is full: it waits for the first with room (after the head is built).
    const bool wait_any = (!choice || !choice->index) && full_excluded_;
    if ((!choice || !choice->index) && !wait_any) {
        w_.stats.no_backend.add();
        return give_up(503);
    }
    if (!wait_any) take_choice(*choice);

    const ServiceConfig& svc = balancer_->service();
    ForwardContext ctx;
    ctx.forwarded = gen.server().forwarded;
    ctx.client_ip = origin.client_ip;
    ctx.tls = origin.tls;
    ctx.strip_cookie = svc.policy == BalancePolicy::cookie && svc.strip_injected ? std::string_view(svc.inject_cookie)
                                                                                  : std::string_view();
    if (svc.pin.enabled) ctx.strip_pin = svc.pin.cookie;
    // Any request's connection may go back to the pool once its answer is complete (the rule is about which request
    // goes first on an idle one).
    ctx.keep_alive = svc.pool_idle_per_backend > 0;
    // An upgrade offer goes on only with the protocols the service allows; without any the request is a plain one.
    if (head.upgrade && http::filter_upgrade(head.headers, svc.upgrade_protocols, upgrade_) == 0) {
        w_.stats.upgrades_ignored.add();
    }
    ctx.upgrade = upgrade_;
    char local[24];  // the listener's address:port, for an HTTP/1.0 request without Host
    if (head.host.empty()) {
        const in_addr a{htonl(origin.listener.address)};
        char ip[16];
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        std::snprintf(local, sizeof local, "%s:%u", ip, static_cast<unsigned>(origin.listener.port));
        ctx.default_host = local;
    }
    write_request_head(head, ctx, to_backend_.text(), cookie_scratch_);
    to_backend_.keep(replayable_);  // keep the head until the answer starts, in case it must be sent again
    return wait_any ? wait_for_slot(false, true) : admit(true);
}

bool BackendExchange::forward_body(std::span<const char> data) {
    if (redirected_) return false;  // nobody to send it to: read and dropped
    if (request_framing_ == http::BodyFraming::chunked) {
        append_chunk(to_backend_.text(), {data.data(), data.size()});
    } else {
        to_backend_.text().append(data.data(), data.size());
    }
    return backend_backlogged();
}

void BackendExchange::request_done() {
    if (request_framing_ == http::BodyFraming::chunked && !redirected_) append_last_chunk(to_backend_.text());
    request_complete_ = true;
}

std::optional<Choice> BackendExchange::choose_backend() {
    const Balancer& bal = *balancer_;
    BalanceScratch& sc = w_.scratch;
    const int64_t now = w_.now_ms();
    const size_t n = bal.size();
    const bool limited = qos_ && qos_->enabled;
    const bool redirect = redirect_service();
    full_excluded_ = false;
    for (size_t i = 0; i < n; ++i) {
        const BackendState& st = *gen_->backends[bal.backend_index(i)];
        bool tried = false;
        for (uint8_t t = 0; t < tried_count_; ++t) tried = tried || tried_[t] == i;
        sc.usable_new[i] = !tried && st.usable_for_new(now);
        // QoS: a full back end takes no request that does not name it (one that does waits for it).
        if (limited && sc.usable_new[i] && !st.has_room()) {
            sc.usable_new[i] = false;
            full_excluded_ = true;
        }
        sc.usable_sticky[i] = !tried && st.usable_for_sticky(now);
        // A redirect service's back end out of service whose backup can answer keeps its share (and its cookie
        // sessions): its requests are redirected to the backup (answer_redirect).
        if (redirect && !tried && st.out_of_service(now) && backup_of(bal.backend_index(i), now).found()) {
            sc.usable_new[i] = st.weight() > 0 && st.admin() != BackendAdmin::drain;
            sc.usable_sticky[i] = true;
        }
        sc.active[i] = st.active();
        sc.weight[i] = st.effective_weight();
        sc.average_ms[i] = st.average_ms();
    }
    const Candidates c{{sc.usable_new.get(), n}, {sc.usable_sticky.get(), n}, {sc.active.data(), n},
                       {sc.weight.data(), n}, {sc.average_ms.data(), n}};
    const http::Header cookie{"Cookie", cookies_};
    RequestKeys keys{target_,
                     cookies_.empty() ? std::span<const http::Header>() : std::span<const http::Header>(&cookie, 1),
                     tls_binding_ != nullptr, tls_binding_ ? tls_binding_->backend_key() : std::string_view()};
    if (pin_.found == PinFound::valid) keys.pinned = pin_.index;
    return bal.choose(keys, c, w_.next_rotation());
}

void BackendExchange::take_choice(const Choice& choice) {
    service_backend_ = *choice.index;
    backend_ = balancer_->backend_index(service_backend_);
    has_backend_ = true;
    // On a retry the back ends already tried count as unusable, so a request whose cookie named the failed back
    // end comes back as cookie_rerouted with force_cookie set: the client learns the new key.
    reason_ = choice.reason;
    force_cookie_ = choice.force_cookie;
    // tls_session: the session is bound from here on (a retry after a failed connect rebinds it again); the next
    // bytes written to a TLS 1.3 client carry a ticket with the binding (Session::flush_client).
    if (choice.tls_bind != TlsBind::keep && tls_binding_) {
        tls_binding_->bind(balancer_->key(service_backend_));
        BackendCounters& bc = backend_counters();
        (choice.tls_bind == TlsBind::rebind ? bc.tls_rebound : bc.tls_bound).add();
    }
}

ExchangeStep BackendExchange::start_backend(bool allow_pool) {
    ++attempts_;
    if (tried_count_ < kMaxTried) tried_[tried_count_++] = static_cast<uint16_t>(service_backend_);
    active_counted_ = true;  // the slot was taken by admit() (or handed over by the QoS queue)
    backend_counters().hits.add();
    connect_start_us_ = w_.now_us();
    last_backend_ms_ = w_.now_ms();
    phase_ = ResponsePhase::head;
    scanner_.start(head_request_, !upgrade_.empty());
    response_received_ = 0;
    backend_eof_ = extra_bytes_ = false;
    const BackendTlsContext* tls = gen_->backend_tls[backend_].get();
    const std::string_view sni = tls ? tls->sni_for(host_) : std::string_view();
    BackendConn* c = allow_pool && may_take_idle_connection(replayable_)
                         ? w_.backends.take_idle(*gen_, backend_, owner_, sni)
                         : nullptr;
    if (c) {
        backend_counters().pooled_reuses.add();
    } else {
        c = w_.backends.open(*gen_, backend_, owner_, w_.now_ms(), sni);
        if (!c) return connect_failed(Failure::refused);
    }
    conn_ = c;
    return ExchangeStep::progress;
}

// ---- the back end ----

ExchangeStep BackendExchange::step() {
    if (waiting_) return wait_step();
    if (phase_ == ResponsePhase::tunnel) return ExchangeStep::blocked;  // the session relays it (net/tunnel.hpp)
    BackendConn* c = conn_;
    if (!c) return ExchangeStep::blocked;
    bool progress = false;
    if (c->connecting) {
        if (c->error_event) return connect_failed(Failure::refused);
        if (!c->writable) return ExchangeStep::blocked;
        c->connecting = false;
        last_backend_ms_ = w_.now_ms();
        progress = true;
        if (!c->handshaking) {
            BackendState& st = *gen_->backends[backend_];
            if (st.down_until_ms() != 0) st.mark_up();  // a connect worked: back in service at once
        }
    }
    if (c->handshaking) {
        const ExchangeStep s = handshake_step(*c, &progress);
        if (s != ExchangeStep::progress) return s;
        if (c->handshaking) return progress ? ExchangeStep::progress : ExchangeStep::blocked;
    }
    while (c->writable && !to_backend_.empty()) {
        const IoResult r = c->write(to_backend_.pending_data(), to_backend_.pending());
        if (r.status == IoStatus::ok) {
            to_backend_.consume(r.n);
            last_backend_ms_ = w_.now_ms();
            progress = true;
        } else if (r.status == IoStatus::want_write) {
            c->writable = false;
        } else if (r.status == IoStatus::want_read) {
            c->readable = false;  // TLS wants the back end's next record first (a key update): its event resumes us
            break;
        } else {
            return backend_failed(Failure::reset);
        }
    }
    while (c->readable && phase_ != ResponsePhase::done && client_.out->pending() < kClientHighWater) {
        w_.buffers.attach(from_backend_);
        if (from_backend_.space_size() == 0) break;
        const size_t want = from_backend_.space_size();
        const IoResult r = c->read(from_backend_.space(), want);
        if (r.status == IoStatus::ok) {
            // Drained: wait for the next edge (see Session::read_client). Unless the back end's close came with the
            // data: its edge is spent, and only one more read sees it (a close-delimited body ends there). TLS reads
            // one record at a time, so a short read says nothing: read on until it wants more.
            if (!c->ssl && r.n < want && !c->peer_closed) c->readable = false;
            from_backend_.commit(r.n);
            response_received_ += r.n;
            last_backend_ms_ = w_.now_ms();
            return process_response();  // the exchange may have ended; the next round looks again
        }
        if (r.status == IoStatus::want_read) {
            c->readable = false;
            break;
        }
        if (r.status == IoStatus::want_write) {
            c->writable = false;  // TLS must send first (a key update's answer): the writable edge resumes us
            break;
        }
        return r.status == IoStatus::eof ? backend_eof() : backend_failed(Failure::reset);
    }
    return progress ? ExchangeStep::progress : ExchangeStep::blocked;
}

// The client handshake with a TLS back end, after the TCP connect: counted, and a failure (verification included)
// is a failed connect like a refusal.
ExchangeStep BackendExchange::handshake_step(BackendConn& c, bool* progress) {
    const IoResult r = c.handshake();
    BackendCounters& bc = backend_counters();
    switch (r.status) {
        case IoStatus::ok: {
            c.handshaking = false;
            bc.tls_handshakes.add();
            if (SSL_session_reused(c.ssl.get())) bc.tls_resumed.add();
            BackendState& st = *gen_->backends[backend_];
            if (st.down_until_ms() != 0) st.mark_up();  // a handshake worked: back in service at once
            last_backend_ms_ = w_.now_ms();
            *progress = true;
            return ExchangeStep::progress;
        }
        case IoStatus::want_read: c.readable = false; return ExchangeStep::progress;
        case IoStatus::want_write: c.writable = false; return ExchangeStep::progress;
        default: {
            bool verify_failed = false;
            const std::string why = handshake_failure(c.ssl.get(), &verify_failed);
            if (verify_failed) bc.tls_verify_failures.add();
            return connect_failed(Failure::tls_handshake, why);
        }
    }
}

ExchangeStep BackendExchange::process_response() {
    while (!from_backend_.empty()) {
        if (phase_ == ResponsePhase::head) {
            const http::ScanResult r = scanner_.scan(from_backend_.data(), from_backend_.size());
            from_backend_.consume(r.consumed);
            if (r.status == http::ScanStatus::error) {
                note_bad_response(scanner_.error().reason);
                return backend_failed(Failure::bad_response);
            }
            if (r.status == http::ScanStatus::need_more) return ExchangeStep::progress;
            const http::ResponseHead& h = scanner_.head();
            if (h.informational()) {
                // HTTP/1.0 clients do not expect interim answers. An interim answer does not start the response: a
                // 502 may still follow it (after a 1xx with a body, say, whose bytes are no status line).
                if (client_minor_ == 1) write_response_head(h, {1, false, false}, {}, out());
                scanner_.start(head_request_, !upgrade_.empty());
                continue;
            }
            if (h.switching_protocols()) {
                // Only to a protocol that was offered, and not before the whole request was sent on (RFC 9110
                // §7.8: a server reads an upgrade request's body before it switches).
                if (!request_complete_ || !to_backend_.empty() || !http::upgrade_accepted(h.headers, upgrade_)) {
                    note_bad_response("101 to a protocol that was not offered, or before the request's end");
                    return backend_failed(Failure::bad_response);
                }
                switch_protocols(h);
                return ExchangeStep::progress;
            }
            // A transfer coding the request never offered (no TE goes to the back end, RFC 9110 §10.1.4), and one an
            // HTTP/1.0 client cannot be told of (it may not get Transfer-Encoding): no faithful answer is possible.
            if (client_minor_ == 0 && h.transfer_coded && h.framing != http::BodyFraming::none) {
                note_bad_response("transfer coding for an HTTP/1.0 client");
                return backend_failed(Failure::bad_response);
            }
            response_head_complete(h);
            continue;
        }
        if (phase_ == ResponsePhase::body) {
            const http::BodyStep s = body_.step(from_backend_.data(), from_backend_.size());
            relay_body(s);
            from_backend_.consume(s.consumed);
            if (s.state == http::BodyState::error) {
                note_bad_response(body_.error().reason);
                return backend_failed(Failure::bad_response);
            }
            if (s.state == http::BodyState::complete) body_complete();
            continue;
        }
        // Bytes after the end of the response (a body on a HEAD or 204 answer, a second answer): not ours to pass
        // on, and read as the next answer they would desync the connection, so it is not reusable.
        note_bad_response("bytes after the end of the response");
        extra_bytes_ = true;
        from_backend_.consume(from_backend_.size());
    }
    return ExchangeStep::progress;
}

void BackendExchange::response_head_complete(const http::ResponseHead& h) {
    status_ = h.status;
    const int64_t elapsed_us = w_.now_us() - connect_start_us_;
    gen_->backends[backend_]->record_response_time(static_cast<double>(elapsed_us) / 1000.0);
    if (gen_->config.metrics.histogram) backend_counters().latency.observe(elapsed_us > 0 ? uint64_t(elapsed_us) : 0);
    bool& last = *client_.last_response;
    // Answered before the request was complete: the connection cannot be trusted for another request.
    if (!request_complete_) last = true;
    const bool dechunk = client_minor_ == 0 && h.framing == http::BodyFraming::chunked;
    // "Transfer-Encoding: gzip" ends at the back end's close (RFC 9112 §6.3): chunked by us, the client needs no
    // close to find the end, and the coding stays declared.
    const bool rechunk = client_minor_ == 1 && h.framing == http::BodyFraming::until_close && h.transfer_coded;
    // CDN rewriting changes the length: chunked to an HTTP/1.1 client, close-delimited to HTTP/1.0.
    const bool cdn = cdn_applies(h);
    const bool framed_by_us = rechunk || (cdn && client_minor_ == 1);
    if ((h.framing == http::BodyFraming::until_close && !framed_by_us) || (dechunk && !cdn) ||
        (cdn && client_minor_ == 0) || w_.stopping()) {
        last = true;
    }
    if (gen_->cdn[service_]) (cdn ? w_.stats.cdn_rewritten : w_.stats.cdn_passed).add();
    set_cookies_.clear();
    const ServiceConfig& svc = balancer_->service();
    if (svc.policy == BalancePolicy::cookie) {
        cookie_injections(h, svc.session_cookie, svc.inject_cookie, balancer_->key(service_backend_), force_cookie_,
                          w_.wall_seconds(), set_cookies_);
        // A session cookie from the back end, or a re-routed client, got our cookie: one more cookie group here.
        if (!set_cookies_.empty()) backend_counters().cookie_groups.add();
    }
    std::string& o = out();
    const size_t before = o.size();
    write_response_head(h, {client_minor_, last, dechunk && !cdn, rechunk, cdn, pin_answer()}, set_cookies_, o);
    bytes_to_client_ += o.size() - before;
    response_started_ = true;
    response_keep_alive_ = h.keep_alive;
    to_backend_.keep(false);
    w_.stats.responses[h.status / 100].add();
    backend_counters().responses[h.status / 100].add();
    relay_ = cdn       ? (client_minor_ == 1 ? Relay::cdn_chunked : Relay::cdn_close)
             : dechunk ? Relay::decoded
             : rechunk ? Relay::rechunked
                       : Relay::as_framed;
    if (cdn) {
        const ServiceConfig& sv = balancer_->service();
        cdn_.start({sv.cdn.host, host_, target_, gen_->cdn[service_].get()});
        if (cdn_scratch_.capacity() < kCdnScratch) cdn_scratch_.reserve(kCdnScratch);
    }
    body_.start(h.framing, h.content_length);
    phase_ = ResponsePhase::body;
    if (body_.state() == http::BodyState::complete) body_complete();  // nothing to read (a rewritten one ends here)
}

void BackendExchange::switch_protocols(const http::ResponseHead& h) {
    status_ = h.status;
    gen_->backends[backend_]->record_response_time(static_cast<double>(w_.now_us() - connect_start_us_) / 1000.0);
    *client_.last_response = true;  // no HTTP request follows on this connection
    set_cookies_.clear();
    const ServiceConfig& svc = balancer_->service();
    if (svc.policy == BalancePolicy::cookie) {
        // The handshake was scheduled as any request: its answer carries the injected cookie like any answer.
        cookie_injections(h, svc.session_cookie, svc.inject_cookie, balancer_->key(service_backend_), force_cookie_,
                          w_.wall_seconds(), set_cookies_);
        if (!set_cookies_.empty()) backend_counters().cookie_groups.add();
    }
    std::string& o = out();
    const size_t before = o.size();
    write_response_head(h, {1, false, false, false, false, pin_answer()}, set_cookies_, o);
    bytes_to_client_ += o.size() - before;
    response_started_ = true;
    to_backend_.keep(false);
    w_.stats.responses[1].add();
    // What the back end sent after its 101 in the same read is the new protocol's already.
    tunnel_.start(conn_, w_.now_ms());
    if (!from_backend_.empty()) {
        o.append(from_backend_.data(), from_backend_.size());
        tunnel_.count_down(from_backend_.size());
        from_backend_.consume(from_backend_.size());
    }
    w_.buffers.release(from_backend_);
    phase_ = ResponsePhase::tunnel;
    w_.stats.tunnels.add();
    w_.stats.tunnels_open.add();
    BackendCounters& bc = backend_counters();
    bc.tunnels.add();
    bc.tunnels_open.add();
}

void BackendExchange::relay_body(const http::BodyStep& s) {
    std::string& o = out();
    const size_t before = o.size();
    switch (relay_) {
        case Relay::as_framed: o.append(from_backend_.data(), s.consumed); break;
        case Relay::decoded: o.append(s.data.data(), s.data.size()); break;
        case Relay::rechunked:
            if (!s.data.empty()) append_chunk(o, {s.data.data(), s.data.size()});
            break;
        case Relay::cdn_close: cdn_.feed(s.data.data(), s.data.size(), o); break;
        case Relay::cdn_chunked:
            cdn_scratch_.clear();
            cdn_.feed(s.data.data(), s.data.size(), cdn_scratch_);
            if (!cdn_scratch_.empty()) append_chunk(o, cdn_scratch_);
            break;
    }
    bytes_to_client_ += o.size() - before;
}

void BackendExchange::body_complete() {
    phase_ = ResponsePhase::done;
    if (relay_ == Relay::as_framed || relay_ == Relay::decoded) return;
    std::string& o = out();
    const size_t before = o.size();
    if (relay_ == Relay::cdn_close) cdn_.finish(o);
    if (relay_ == Relay::cdn_chunked) {
        cdn_scratch_.clear();
        cdn_.finish(cdn_scratch_);
        if (!cdn_scratch_.empty()) append_chunk(o, cdn_scratch_);
    }
    if (relay_ == Relay::cdn_close || relay_ == Relay::cdn_chunked) w_.stats.cdn_urls.add(cdn_.urls_rewritten());
    if (relay_ != Relay::cdn_close) append_last_chunk(o);
    bytes_to_client_ += o.size() - before;
}

// An identity-encoded text/html answer with a body, of a service with cdn rewriting.
bool BackendExchange::cdn_applies(const http::ResponseHead& h) const {
    if (!gen_->cdn[service_] || h.framing == http::BodyFraming::none || h.transfer_coded) return false;
    if (h.status == 204 || h.status == 304 || h.informational()) return false;
    bool html = false;
    for (const http::Header& f : h.headers) {
        if (http::iequals(f.name, "content-encoding")) {
            if (!http::iequals(trim_ows(f.value), "identity")) return false;
        } else if (http::iequals(f.name, "content-type")) {
            std::string_view v = f.value;
            v = trim_ows(v.substr(0, v.find(';')));
            html = http::iequals(v, "text/html");
        }
    }
    return html;
}

ExchangeStep BackendExchange::backend_eof() {
    backend_eof_ = true;
    if (conn_) conn_->readable = false;
    if (phase_ == ResponsePhase::body && body_.finish_at_eof() == http::BodyState::complete) {
        body_complete();
        return ExchangeStep::progress;
    }
    if (phase_ == ResponsePhase::done) return ExchangeStep::progress;
    if (phase_ == ResponsePhase::head && response_received_ == 0) return backend_failed(Failure::empty);
    return backend_failed(Failure::truncated);
}

ExchangeStep BackendExchange::check_deadlines(int64_t now_ms, const ServerTimeouts& t) {
    if (waiting_) return queue_deadline(now_ms);
    if (phase_ == ResponsePhase::tunnel) return ExchangeStep::blocked;  // the tunnel's own idle deadline applies
    if (!conn_) return ExchangeStep::blocked;
    if (conn_->connecting || conn_->handshaking) {  // the connect deadline covers the TLS handshake
        if (now_ms - connect_start_us_ / 1000 > t.backend_connect_ms) return connect_failed(Failure::timeout);
        return ExchangeStep::blocked;
    }
    // The back end's deadline runs once it has the whole request (or has begun to answer); while the client is
    // still sending, the client's body deadline applies instead.
    if (phase_ != ResponsePhase::done && (response_started_ || (request_complete_ && to_backend_.empty())) &&
        now_ms - last_backend_ms_ > t.backend_response_ms) {
        backend_counters().errors.add();
        return response_started_ ? ExchangeStep::abort : give_up(504);
    }
    return ExchangeStep::blocked;
}

// ---- failures ----

ExchangeStep BackendExchange::connect_failed(Failure why, const std::string& detail) {
    BackendState& st = *gen_->backends[backend_];
    const ServiceConfig& svc = balancer_->service();
    st.mark_down(w_.now_ms(), svc.down_interval_ms);
    BackendCounters& bc = backend_counters();
    bc.errors.add();
    bc.connect_failures.add();
    w_.log.write(LogKind::backend_down, w_.now_ms(),
                 backend_name() +
                     (why == Failure::timeout         ? " did not answer the connect"
                      : why == Failure::tls_handshake ? " failed the TLS handshake (" + detail + ")"
                                                      : " refused the connection") +
                     "; marked down for " + std::to_string(svc.down_interval_ms) + " ms");
    release_backend(false);
    if (attempts_ <= svc.retries) return retry_elsewhere(503);
    w_.stats.no_backend.add();
    return give_up(503);
}

ExchangeStep BackendExchange::backend_failed(Failure why) {
    const bool reused = conn_ && conn_->reused;
    // An idle pooled connection the back end had closed is not held against it; anything it said is.
    if (!reused || (why != Failure::empty && why != Failure::reset)) backend_counters().errors.add();
    release_backend(false);
    if (response_started_) return ExchangeStep::abort;
    if (replayable_ && (why == Failure::empty || why == Failure::reset)) {
        if (reused) {
            // An idle pooled connection the back end had closed: not the back end's fault; go again, fresh.
            w_.stats.retries.add();
            to_backend_.rewind();
            --tried_count_;
            --attempts_;
            return admit(false);
        }
        if (attempts_ <= balancer_->service().retries) return retry_elsewhere(502);
    }
    return give_up(why == Failure::timeout ? 504 : 502);
}

ExchangeStep BackendExchange::retry_elsewhere(uint16_t status_if_none) {
    w_.stats.retries.add();
    to_backend_.rewind();
    const std::optional<Choice> choice = choose_backend();
    if ((!choice || !choice->index) && full_excluded_) return wait_for_slot(false, true);
    if (!choice || !choice->index) {
        if (status_if_none == 503) w_.stats.no_backend.add();
        return give_up(status_if_none);
    }
    take_choice(*choice);
    return admit(true);
}

ExchangeStep BackendExchange::give_up(uint16_t status) {
    local_status_ = status;
    return ExchangeStep::answer;
}

// ---- ends ----

void BackendExchange::release_backend(bool reusable) {
    if (waiting_) leave_queue(false);
    if (tunnel_.active()) {
        tunnel_.detach();
        w_.stats.tunnels_open.sub();
        backend_counters().tunnels_open.sub();
        reusable = false;  // it spoke another protocol
    }
    if (conn_) {
        w_.backends.release(conn_, reusable, w_.now_ms());
        conn_ = nullptr;
    }
    if (active_counted_) release_slot();
}

void BackendExchange::finish() {
    bool reusable = conn_ && response_keep_alive_ && request_complete_ && to_backend_.empty() && !backend_eof_ &&
                    !extra_bytes_ && from_backend_.empty();
    // Reading stops at the end of the answer, so what the back end sent after it may wait unread in the socket; an
    // event since the last read (readable) says there may be some. (Later bytes close it in the pool, and
    // BackendPool::take_idle looks once more before reuse.)
    if (reusable && conn_->readable) {
        const Unread u = unread(*conn_);
        if (u == Unread::bytes) note_bad_response("bytes after the end of the response");
        reusable = u == Unread::nothing;
    }
    release_backend(reusable);
}

void BackendExchange::note_bad_response(const char* rule) {
    if (bad_response_) return;
    bad_response_ = true;
    backend_counters().bad_responses.add();
    w_.log.write(LogKind::bad_response, w_.now_ms(), backend_name() + " sent a bad response: " + rule);
}

std::string BackendExchange::backend_name() const {
    const BackendConfig& cfg = gen_->backends[backend_]->config();
    return "back end " + cfg.key + " (" + format_ipv4(cfg.address) + ":" + std::to_string(cfg.port) + ")";
}

void BackendExchange::answered_locally(uint16_t status) {
    release_backend(false);
    status_ = status;
    bytes_to_client_ = 0;
}

void BackendExchange::aborted() {
    if (phase_ == ResponsePhase::tunnel) tunnel_.end(TunnelEnd::client_reset);
    release_backend(false);
    if (status_ == 0) status_ = 502;
}

void BackendExchange::describe(AccessLogEntry& e, int64_t now_ms) const {
    e.method = method_;
    e.target = target_;
    e.status = status_;
    e.bytes = bytes_to_client_;
    if (has_backend_) e.backend = gen_->backends[backend_]->config().key;
    e.duration_ms = now_ms - start_ms_;
    e.reason = reason_;
    e.attempts = attempts_;
    e.bad_response = bad_response_;
    e.redirect = redirected_;
    if (qos_ && qos_->classify) {
        e.qos_class = class_;
        e.queue_ms = queue_ms_;
    }
    if (phase_ == ResponsePhase::tunnel) {
        e.tunnel = true;
        e.bytes += tunnel_.bytes_down();
        e.tunnel_up = tunnel_.bytes_up();
        e.tunnel_down = tunnel_.bytes_down();
        e.tunnel_end = tunnel_end_name(tunnel_.end_reason());
    }
    if (listener_routed_) {
        e.route = route_;
        e.overflow = overflowed_;
    }
}

}  // namespace dlba::server
