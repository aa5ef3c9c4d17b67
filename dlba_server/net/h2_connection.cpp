#include "net/h2_connection.hpp"

#include <algorithm>
#include <cstring>

#include "net/backend_exchange.hpp"
#include "net/session.hpp"
#include "net/worker_context.hpp"
#include "rewrite/response_writer.hpp"

namespace dlba::server {

namespace {

constexpr int kMaxRounds = 32;
constexpr size_t kWireHighWater = 64 * 1024;  // frames for the client waiting in the session's output buffer

http::H2Settings settings_of(const Http2Limits& h) {
    http::H2Settings s;
    s.max_concurrent_streams = h.max_concurrent_streams;
    s.max_header_list_bytes = h.max_header_list_bytes;
    s.initial_window_bytes = h.initial_window_bytes;
    s.reset_burst = h.reset_burst;
    s.reset_rate = h.reset_rate;
    s.max_queued_acks = h.max_queued_acks;
    s.max_settings_entries = h.max_settings_entries;
    s.max_continuations = h.max_continuations;
    s.max_empty_frames = h.max_empty_frames;
    return s;
}

constexpr size_t kMaxFreeStreams = 1024;  // per worker thread

}  // namespace

thread_local std::vector<std::unique_ptr<H2Connection::Stream>> H2Connection::free_;

void H2Connection::recycle(Stream* st) {
    w_.buffers.release(st->h1);
    if (free_.size() < kMaxFreeStreams) {
        free_.emplace_back(st);
    } else {
        delete st;
    }
}

H2Connection::H2Connection(Session& session, WorkerContext& worker) : s_(session), w_(worker) {}

H2Connection::~H2Connection() { cancel_all(); }

bool H2Connection::start() {
    const ServerConfig& sc = s_.gen().server();
    http::H2RequestLimits limits;
    limits.max_header_count = sc.limits.max_header_count;
    limits.max_target_length = sc.limits.max_uri_bytes;
    limits.max_body_bytes = sc.limits.max_body_bytes;
    w_.stats.h2_connections.add();
    last_activity_ms_ = w_.now_ms();
    return codec_.start(settings_of(sc.http2), limits, *this);
}

H2Connection::Stream* H2Connection::find(int32_t id) const {
    for (Stream* s : streams_)
        if (s->id == id) return s;
    return nullptr;
}

H2Connection::Stream* H2Connection::open_stream(int32_t id) {
    Stream* s;
    if (!free_.empty()) {
        s = free_.back().release();
        free_.pop_back();
    } else {
        s = new Stream();
    }
    s->id = id;
    s->ex = nullptr;
    s->last = false;
    s->submitted = s->deferred = s->body_done = s->request_ended = s->reset = false;
    s->unconsumed = 0;
    s->body_bytes = s->sent = 0;
    s->last_rx_ms = w_.now_ms();
    streams_.push_back(s);
    return s;
}

// ---- requests (from the codec, inside receive()) ----

void H2Connection::on_request(int32_t id, const http::RequestHead& head) {
    Stream& st = *open_stream(id);
    w_.stats.requests.add();
    st.reader.start(head.method == "HEAD");
    st.ex = w_.acquire_exchange();
    ++exchanges_;
    const RequestOrigin origin{s_.peer_text_, s_.client_.tls(), s_.listener_, s_.client_.tls() ? &s_.binding_ : nullptr};
    const ExchangeStep step = st.ex->begin(head, s_.gen(), s_.service_, origin, &s_, ClientSide{&st.h1, &st.last});
    settle(st, step);
}

void H2Connection::on_refused(int32_t id, uint16_t status) {
    Stream& st = *open_stream(id);
    w_.stats.requests.add();
    st.reader.start(false);
    answer_locally(st, status);
}

void H2Connection::on_body(int32_t id, std::span<const char> data) {
    Stream* st = find(id);
    if (!st || !st->ex) {  // answered already (or gone): read and dropped, the window reopens at once
        codec_.consume(id, data.size());
        return;
    }
    st->last_rx_ms = w_.now_ms();
    st->body_bytes += data.size();
    const uint64_t limit = s_.gen().server().limits.max_body_bytes;
    if (limit != 0 && st->body_bytes > limit) {
        codec_.consume(id, data.size());
        if (st->ex->response_started()) {
            abort_stream(*st);
        } else {
            answer_locally(*st, 413);
        }
        return;
    }
    st->ex->forward_body(data);
    st->unconsumed += data.size();
}

void H2Connection::on_request_end(int32_t id) {
    Stream* st = find(id);
    if (!st) return;
    st->request_ended = true;
    if (st->ex) st->ex->request_done();
}

void H2Connection::on_close(int32_t id, uint32_t) {
    const auto it = std::find_if(streams_.begin(), streams_.end(), [&](Stream* s) { return s->id == id; });
    if (it == streams_.end()) return;
    Stream* st = *it;
    if (st->ex && st->ex->response_done()) {
        finish_exchange(*st);  // the whole answer was in; the stream ended with it
    } else if (st->ex) {
        // Reset by the client (or the connection ends) before the answer was out: nobody is left to answer.
        st->ex->cancel();
        release_exchange(*st);
    }
    streams_.erase(it);
    recycle(st);
}

void H2Connection::on_event(http::H2Event e) {
    switch (e) {
        case http::H2Event::stream_opened: w_.stats.h2_streams.add(); break;
        case http::H2Event::reset_received: w_.stats.h2_resets_received.add(); break;
        case http::H2Event::reset_sent: w_.stats.h2_resets_sent.add(); break;
        case http::H2Event::limit_streams: w_.stats.h2_limit_streams.add(); break;
        case http::H2Event::limit_header_list: w_.stats.h2_limit_headers.add(); break;
        case http::H2Event::limit_flood:
            w_.stats.h2_limit_flood.add();
            w_.log.write(LogKind::h2, w_.now_ms(),
                         std::string("h2 connection from ") + s_.peer_text_ + " closed for a flood (server.http2 limits)");
            break;
        case http::H2Event::protocol_error: w_.stats.h2_protocol_errors.add(); break;
    }
}

// ---- answers ----

bool H2Connection::answer_complete(const Stream& s) const { return !s.ex || s.ex->response_done(); }

// The body of stream `id`, as nghttp2 asks for it (inside send()).
http::H2Body H2Connection::read_body(int32_t id, char* buf, size_t len) {
    Stream* st = find(id);
    if (!st) return {0, false, false, false, true};
    http::H2Body b;
    while (b.n < len) {
        const http::H1Step r = st->reader.step(st->h1.pending_data(), st->h1.pending(), len - b.n);
        // Copied before consume(): consuming may move the buffer's bytes (OutBuffer drops what was sent).
        if (r.event == http::H1Event::data) std::memcpy(buf + b.n, r.data.data(), r.data.size());
        st->h1.consume(r.consumed);
        switch (r.event) {
            case http::H1Event::data:
                b.n += r.data.size();
                continue;
            case http::H1Event::trailers:
                codec_.trailers(id, st->reader.trailers());
                b.eof = b.trailers = true;
                st->body_done = true;
                return b;
            case http::H1Event::end:
                b.eof = true;
                st->body_done = true;
                return b;
            case http::H1Event::error: b.failed = true; return b;
            case http::H1Event::need_more:
            case http::H1Event::head:
            case http::H1Event::interim:
                if (st->h1.empty() && answer_complete(*st)) {
                    if (st->reader.end_of_input() == http::H1Event::end) {
                        b.eof = true;
                        st->body_done = true;
                    } else {
                        b.failed = true;
                    }
                    return b;
                }
                break;
        }
        break;
    }
    st->sent += b.n;
    if (b.n == 0) {
        st->deferred = true;
        b.deferred = true;
    }
    return b;
}

// The answer's head, once it is in the stream's buffer; a deferred body resumed when bytes (or its end) came.
bool H2Connection::pump(Stream& st) {
    if (st.reset) return false;
    if (st.submitted) {
        if (st.deferred && (!st.h1.empty() || answer_complete(st))) {
            st.deferred = false;
            codec_.resume(st.id);
            return true;
        }
        return false;
    }
    bool progress = false;
    while (!st.h1.empty()) {
        const http::H1Step r = st.reader.step(st.h1.pending_data(), st.h1.pending(), 0);
        st.h1.consume(r.consumed);
        progress = progress || r.consumed > 0;
        if (r.event == http::H1Event::interim) {
            codec_.interim(st.id, st.reader.status(), st.reader.fields());
            continue;
        }
        if (r.event == http::H1Event::head) {
            const bool body = !st.reader.body_ended();
            codec_.respond(st.id, st.reader.status(), st.reader.fields(), body);
            st.submitted = true;
            if (!body) st.body_done = true;
            return true;
        }
        if (r.event == http::H1Event::error) {
            abort_stream(st);
            return true;
        }
        break;  // need_more
    }
    return progress;
}

bool H2Connection::settle(Stream& st, ExchangeStep step) {
    switch (step) {
        case ExchangeStep::blocked: return false;
        case ExchangeStep::progress: return true;
        case ExchangeStep::answer: answer_locally(st, st.ex->local_status()); return true;
        case ExchangeStep::abort: abort_stream(st); return true;
    }
    return false;
}

// An answer of the proxy's own (502, 503, 504, 4xx): written as for HTTP/1.1 into the stream's buffer, and read
// back into HEADERS and DATA like any other.
void H2Connection::answer_locally(Stream& st, uint16_t status) {
    w_.stats.local_errors.add();
    w_.stats.responses[status / 100].add();
    uint32_t retry_after_s = 0;
    if (st.ex) {
        retry_after_s = st.ex->retry_after_s();
        st.ex->answered_locally(status);
        log(st);
        release_exchange(st);
    } else {
        log(st, status);
    }
    if (st.submitted) {  // cannot happen (an exchange answers only before its response starts); be safe
        abort_stream(st);
        return;
    }
    w_.buffers.attach(st.h1);
    write_error_response(status, false, st.h1.text(), retry_after_s);
}

void H2Connection::abort_stream(Stream& st) {
    w_.stats.aborted.add();
    if (st.ex) {
        st.ex->aborted();
        log(st);
        release_exchange(st);
    }
    if (!st.reset) {
        st.reset = true;
        codec_.reset(st.id, NGHTTP2_INTERNAL_ERROR);
    }
}

void H2Connection::finish_exchange(Stream& st) {
    st.ex->finish();
    log(st);
    release_exchange(st);
}

void H2Connection::release_exchange(Stream& st) {
    if (st.unconsumed) codec_.consume(st.id, st.unconsumed);
    st.unconsumed = 0;
    w_.release_exchange(st.ex);
    st.ex = nullptr;
    --exchanges_;
}

void H2Connection::cancel_all() {
    for (Stream* st : streams_) {
        if (st->ex) {
            st->ex->cancel();
            w_.release_exchange(st->ex);
            st->ex = nullptr;
        }
        recycle(st);
    }
    streams_.clear();
    exchanges_ = 0;
}

bool H2Connection::step_streams() {
    bool progress = false;
    for (size_t i = 0; i < streams_.size(); ++i) {
        Stream& st = *streams_[i];
        if (st.ex) progress |= settle(st, st.ex->step());
        progress |= pump(st);
        if (st.ex && st.unconsumed && !st.ex->backend_backlogged()) {
            codec_.consume(st.id, st.unconsumed);  // the back end took it: the client may send more
            st.unconsumed = 0;
            progress = true;
        }
        // The answer is all in the stream's buffer: the back end (and its connection, back to the pool) is free
        // at once, as on HTTP/1.1; the buffer drains to the client at the pace of its windows.
        if (st.ex && st.ex->response_done()) {
            finish_exchange(st);
            progress = true;
        }
        // Answered before the client sent its whole body: once the answer is out, the rest is not wanted
        // (RFC 9113 §8.1: RST_STREAM NO_ERROR after the end of the response).
        if (!st.ex && st.body_done && !st.request_ended && !st.reset) {
            st.reset = true;
            codec_.reset(st.id, NGHTTP2_NO_ERROR);
            progress = true;
        }
    }
    return progress;
}

// ---- the connection ----

void H2Connection::fatal() {
    failed_ = true;
    s_.no_more_requests_ = true;
}

void H2Connection::on_backend_event() {
    if (s_.closed()) return;
    if (!failed_) step_streams();
    if (!drive_scheduled_) {
        drive_scheduled_ = true;
        w_.schedule(&s_);
    }
}

void H2Connection::drive() {
    drive_scheduled_ = false;
    for (int round = 0; round < kMaxRounds; ++round) {
        if (s_.closed()) return;
        // Between streams on an older generation: the next streams run on the new one.
        if (exchanges_ == 0 && s_.gen_ != w_.generations.current() && !s_.listener_gone_) {
            s_.switch_generation();
            if (s_.closed()) return;
        }
        bool progress = s_.flush_client();
        if (s_.closed()) return;
        if (!failed_) progress |= step_streams();
        progress |= s_.read_client();
        if (s_.closed()) return;
        if (!s_.in_.empty()) {
            if (!failed_) {
                last_activity_ms_ = w_.now_ms();
                if (!codec_.receive(s_.in_.data(), s_.in_.size())) fatal();
            }
            s_.in_.consume(s_.in_.size());
            progress = true;
        }
        w_.buffers.attach(s_.to_client_);
        std::string& out = s_.to_client_.text();
        const size_t before = out.size();
        if (!codec_.send(out, out.size() - s_.to_client_.pending() + kWireHighWater)) fatal();
        if (out.size() != before) progress = true;
        if (s_.peer_eof_) {  // the client is gone (or half-closed: h2 has no use for that)
            s_.close();
            return;
        }
        if ((failed_ || codec_.finished()) && s_.to_client_.empty()) {
            s_.close();
            return;
        }
        if (!progress) {
            if (s_.in_.empty()) w_.buffers.release(s_.in_);
            if (s_.to_client_.empty()) w_.buffers.release(s_.to_client_);
            return;
        }
    }
    if (!drive_scheduled_) {
        drive_scheduled_ = true;
        w_.schedule(&s_);
    }
}

void H2Connection::on_new_generation() {
    if (exchanges_ == 0) s_.switch_generation();
}

void H2Connection::begin_shutdown() {
    if (going_away_ || s_.closed()) return;
    going_away_ = true;
    s_.no_more_requests_ = true;
    codec_.goaway();
    drive();
}

void H2Connection::on_timer(int64_t now) {
    const ServerTimeouts& t = s_.gen().server().timeouts;
    if (s_.client_blocked_ && !s_.to_client_.empty() && now - s_.blocked_since_ms_ > t.body_ms) {
        w_.stats.aborted.add();
        s_.close();  // not reading what we send
        return;
    }
    bool moved = false;
    for (size_t i = 0; i < streams_.size(); ++i) {
        Stream& st = *streams_[i];
        if (!st.ex) continue;
        const ExchangeStep step = st.ex->check_deadlines(now, t);
        if (step != ExchangeStep::blocked) {
            settle(st, step);
            moved = true;
        } else if (!st.ex->waiting() && !st.ex->request_complete() && now - st.last_rx_ms > t.body_ms) {
            moved = true;
            if (st.ex->response_started()) {
                abort_stream(st);
            } else {
                answer_locally(st, 408);
            }
        }
    }
    if (moved) {
        drive();
        return;
    }
    if (streams_.empty() && s_.to_client_.empty() && now - last_activity_ms_ > t.idle_ms) {
        w_.stats.idle_timeouts.add();
        codec_.goaway();
        going_away_ = true;
        drive();
        if (!s_.closed()) s_.close();
    }
}

void H2Connection::log(const Stream& st, uint16_t local_status) {
    if (!w_.access_log.enabled()) return;
    AccessLogEntry e;
    e.unix_s = w_.wall_seconds();
    e.client_ip = s_.peer_text_;
    e.client_port = s_.peer_.port;
    e.proto = "h2";
    if (st.ex) {
        st.ex->describe(e, w_.now_ms());
    } else {
        e.method = "-";
        e.target = "-";
        e.status = local_status;
    }
    w_.access_log.write(e);
}

}  // namespace dlba::server
