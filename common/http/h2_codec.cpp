#include "http/h2_codec.hpp"

#include <algorithm>
#include <cstring>

namespace dlba::http {

namespace {

H2Codec& codec_of(void* user) { return *static_cast<H2Codec*>(user); }

int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        H2Codec& c = codec_of(user);
        c.builder().start();
        ++c.open_streams;
        c.sink()->on_event(H2Event::stream_opened);
    }
    return 0;
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    // Request trailers are checked by nghttp2 and dropped, as the HTTP/1.1 path drops them.
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    codec_of(user).builder().add({reinterpret_cast<const char*>(name), namelen},
                                 {reinterpret_cast<const char*>(value), valuelen});
    return 0;
}

int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    H2Codec& c = codec_of(user);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
        case NGHTTP2_HEADERS: {
            if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
                if (end_stream) c.sink()->on_request_end(id);  // trailers end the request
                return 0;
            }
            RequestHead head;
            const H2Result r = c.builder().finish(end_stream, head);
            switch (r.verdict) {
                case H2Verdict::ok:
                    c.sink()->on_request(id, head);
                    if (end_stream) c.sink()->on_request_end(id);
                    break;
                case H2Verdict::answer:
                    if (c.builder().over_header_limit()) c.sink()->on_event(H2Event::limit_header_list);
                    c.sink()->on_refused(id, r.status);
                    break;
                case H2Verdict::reset: nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_PROTOCOL_ERROR); break;
            }
            return 0;
        }
        case NGHTTP2_DATA:
            if (c.goaway_ours) return 0;  // going away: the rest of this input counts for nothing
            if (frame->hd.length == 0 && !end_stream && ++c.empty_frames > c.max_empty_frames) {
                c.sink()->on_event(H2Event::limit_flood);
                c.goaway_ours = true;
                // Not from inside nghttp2's frame processing (its state machine asserts): receive() does it.
                c.terminate_pending = true;
                return 0;
            }
            if (end_stream) c.sink()->on_request_end(id);
            return 0;
        case NGHTTP2_RST_STREAM: c.sink()->on_event(H2Event::reset_received); return 0;
        default: return 0;
    }
}

// A frame nghttp2 refused. A request HEADERS while the client already has max_concurrent_streams open is one (nghttp2
// makes it a connection error once the SETTINGS are acknowledged, a refused stream before): the limit, counted.
int on_invalid_frame(nghttp2_session*, const nghttp2_frame* frame, int, void* user) {
    H2Codec& c = codec_of(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
        c.open_streams >= c.max_streams && !c.goaway_ours) {
        c.sink()->on_event(H2Event::limit_streams);
        c.streams_limit_hit = true;
    }
    return 0;
}

int on_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    codec_of(user).sink()->on_body(id, {reinterpret_cast<const char*>(data), len});
    return 0;
}

int on_stream_close(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    H2Codec& c = codec_of(user);
    if (c.open_streams > 0 && (id & 1)) --c.open_streams;
    c.sink()->on_close(id, error_code);
    return 0;
}

int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Codec& c = codec_of(user);
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        c.sink()->on_event(H2Event::reset_sent);
        if (frame->rst_stream.error_code == NGHTTP2_REFUSED_STREAM && !c.streams_limit_hit) {
            c.sink()->on_event(H2Event::limit_streams);
        }
        c.streams_limit_hit = false;
    } else if (frame->hd.type == NGHTTP2_GOAWAY && c.streams_limit_hit) {
        c.goaway_ours = true;  // counted as the streams limit
    } else if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && !c.goaway_ours) {
        // nghttp2 tore the connection down itself: its rate limits (resets) or a protocol violation.
        const bool flood = frame->goaway.error_code == NGHTTP2_ENHANCE_YOUR_CALM ||
                           frame->goaway.error_code == NGHTTP2_INTERNAL_ERROR;
        c.sink()->on_event(flood ? H2Event::limit_flood : H2Event::protocol_error);
        c.goaway_ours = true;  // once
    }
    return 0;
}

ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags, nghttp2_data_source*,
                  void* user) {
    H2Codec& c = codec_of(user);
    c.body_trailers = false;
    c.in_read = true;
    const H2Body b = c.sink()->read_body(id, reinterpret_cast<char*>(buf), len);
    c.in_read = false;
    if (b.failed) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM INTERNAL_ERROR
    if (b.deferred && b.n == 0 && !b.eof) return NGHTTP2_ERR_DEFERRED;
    if (b.eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (b.trailers && c.body_trailers) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return static_cast<ssize_t>(b.n);
}

}  // namespace

H2Codec::~H2Codec() {
    if (session_) nghttp2_session_del(session_);
}

bool H2Codec::start(const H2Settings& s, const H2RequestLimits& limits, H2Sink& sink) {
    sink_ = &sink;
    H2RequestLimits l = limits;
    l.max_header_list_bytes = s.max_header_list_bytes;
    builder_.set_limits(l);
    max_empty_frames = s.max_empty_frames;
    max_streams = s.max_concurrent_streams;
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
    nghttp2_option* opt = nullptr;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        return false;
    }
    nghttp2_option_set_no_auto_window_update(opt, 1);  // consume() reopens the windows
    nghttp2_option_set_max_outbound_ack(opt, s.max_queued_acks);
    nghttp2_option_set_max_settings(opt, s.max_settings_entries);
    nghttp2_option_set_stream_reset_rate_limit(opt, s.reset_burst, s.reset_rate);
    nghttp2_option_set_max_continuations(opt, s.max_continuations);
    nghttp2_option_set_no_closed_streams(opt, 1);
    // HTTP messaging validation stays on (the default): pseudo fields, field characters, content-length vs DATA.
    const int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        session_ = nullptr;
        return false;
    }
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.initial_window_bytes},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s.max_header_list_bytes},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, std::size(iv)) == 0;
}

bool H2Codec::receive(const char* data, size_t len) {
    const ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), len);
    if (terminate_pending) {
        terminate_pending = false;
        nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
    }
    if (n >= 0) return true;
    if (n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
        if (!goaway_ours) sink_->on_event(H2Event::limit_flood);
    } else if (!goaway_ours) {
        sink_->on_event(H2Event::protocol_error);
    }
    goaway_ours = true;
    return false;
}

bool H2Codec::send(std::string& out, size_t high_water) {
    while (out.size() < high_water) {
        const uint8_t* p = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &p);
        if (n < 0) return false;
        if (n == 0) break;
        out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    }
    return true;
}

bool H2Codec::finished() const {
    return !session_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_));
}

void H2Codec::build_nv(uint16_t status, std::span<const Header> fields, bool with_status) {
    nv_.clear();
    const auto add = [&](std::string_view n, std::string_view v) {
        nv_.push_back({const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(n.data())),
                       const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(v.data())), n.size(), v.size(),
                       NGHTTP2_NV_FLAG_NONE});
    };
    if (with_status) {
        status_[0] = static_cast<char>('0' + status / 100 % 10);
        status_[1] = static_cast<char>('0' + status / 10 % 10);
        status_[2] = static_cast<char>('0' + status % 10);
        add(":status", {status_, 3});
    }
    for (const Header& f : fields) add(f.name, f.value);
}

bool H2Codec::respond(int32_t stream, uint16_t status, std::span<const Header> fields, bool with_body) {
    build_nv(status, fields, true);
    nghttp2_data_provider dp{};
    dp.read_callback = read_body;
    return nghttp2_submit_response(session_, stream, nv_.data(), nv_.size(), with_body ? &dp : nullptr) == 0;
}

bool H2Codec::interim(int32_t stream, uint16_t status, std::span<const Header> fields) {
    build_nv(status, fields, true);
    return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream, nullptr, nv_.data(), nv_.size(), nullptr) >= 0;
}

bool H2Codec::trailers(int32_t stream, std::span<const Header> fields) {
    build_nv(0, fields, false);
    const bool ok = nghttp2_submit_trailer(session_, stream, nv_.data(), nv_.size()) == 0;
    if (ok && in_read) body_trailers = true;
    return ok;
}

void H2Codec::resume(int32_t stream) { nghttp2_session_resume_data(session_, stream); }

void H2Codec::reset(int32_t stream, uint32_t error_code) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void H2Codec::consume(int32_t stream, size_t n) {
    if (n) nghttp2_session_consume(session_, stream, n);
}

void H2Codec::goaway() {
    goaway_ours = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
}

void H2Codec::terminate(uint32_t error_code) {
    goaway_ours = true;
    nghttp2_session_terminate_session(session_, error_code);
}

}  // namespace dlba::http
