// The server side of one HTTP/2 connection (RFC 9113), with nghttp2 as the codec: bytes in (receive), frames out
// (send), and per-stream events for the owner (H2Sink): a request head already validated by nghttp2's HTTP
// messaging rules and turned into the HTTP/1.1 RequestHead (http/h2_request.hpp), its body, its end, the stream's
// close. The owner answers with respond() and feeds the response body when nghttp2 asks (H2Sink::read_body; a body
// not yet there is deferred and resume()d later).
//
// Flow control is manual: a request body's bytes are acknowledged (consume()) once the owner has passed them on, so
// a back end that does not read stops the client of that stream alone, and at most the initial window per stream is
// buffered. Limits (H2Settings) are nghttp2's flood protections (SETTINGS/PING ack queue, SETTINGS entries,
// RST_STREAM rate for CVE-2023-44487, CONTINUATION count for CVE-2024-28182) plus ours: concurrent streams, the
// header list size, empty DATA frames. Every limit hit is reported to the sink (H2Event).
//
// No I/O and no clock: the fuzz target (test/fuzz/h2_codec_fuzz.cpp) drives it with bytes alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "http/h2_request.hpp"

namespace dlba::http {

struct H2Settings {
    uint32_t max_concurrent_streams = 100;
    uint32_t max_header_list_bytes = 65536;
    uint32_t initial_window_bytes = 65535;  // per stream, for request bodies
    uint64_t reset_burst = 1000;            // RST_STREAM token bucket (rapid reset)
    uint64_t reset_rate = 33;               // tokens per second
    uint32_t max_queued_acks = 1000;        // SETTINGS/PING acks (and resets) waiting to be sent
    uint32_t max_settings_entries = 32;     // per SETTINGS frame
    uint32_t max_continuations = 8;         // CONTINUATION frames after one HEADERS
    uint32_t max_empty_frames = 100;        // empty DATA frames without END_STREAM on one connection
};

enum class H2Event : uint8_t {
    stream_opened,
    reset_received,
    reset_sent,
    limit_streams,      // a stream over max_concurrent_streams (refused, or the connection closed: nghttp2's choice)
    limit_header_list,  // a request head over max_header_list_bytes or the field count (431)
    limit_flood,        // the connection closed for a flood (acks, resets, CONTINUATION, empty frames)
    protocol_error,     // the connection closed for another protocol error
};

// What read_body() found for a stream.
struct H2Body {
    size_t n = 0;          // bytes copied
    bool eof = false;      // the body ends with these bytes
    bool trailers = false;  // with eof: trailers were submitted (trailers()) and end the stream
    bool deferred = false;  // nothing yet: resume() when there is
    bool failed = false;    // the answer cannot be completed: the stream is reset
};

class H2Sink {
public:
    virtual ~H2Sink() = default;
    // A valid request head (views valid during the call only).
    virtual void on_request(int32_t stream, const RequestHead& head) = 0;
    // A request that is not forwarded: the owner answers `status` itself.
    virtual void on_refused(int32_t stream, uint16_t status) = 0;
    virtual void on_body(int32_t stream, std::span<const char> data) = 0;
    virtual void on_request_end(int32_t stream) = 0;
    // The stream is closed (answered, reset by either side, or the connection ends). error_code 0 = clean.
    virtual void on_close(int32_t stream, uint32_t error_code) = 0;
    virtual H2Body read_body(int32_t stream, char* buf, size_t len) = 0;
    virtual void on_event(H2Event) {}
};

class H2Codec {
public:
    H2Codec() = default;
    ~H2Codec();
    H2Codec(const H2Codec&) = delete;
    H2Codec& operator=(const H2Codec&) = delete;

    // A server session; the connection preface's SETTINGS is queued. False if nghttp2 cannot allocate.
    bool start(const H2Settings& settings, const H2RequestLimits& limits, H2Sink& sink);
    // Client bytes. False: a connection error (the GOAWAY nghttp2 queued may still be sent, then close).
    bool receive(const char* data, size_t len);
    // Appends frames to `out` while it holds less than `high_water` bytes. False on a fatal error.
    bool send(std::string& out, size_t high_water);
    // Neither side has anything more to say: the connection can close.
    bool finished() const;

    // ---- the owner's answers ----
    bool respond(int32_t stream, uint16_t status, std::span<const Header> fields, bool with_body);
    bool interim(int32_t stream, uint16_t status, std::span<const Header> fields);
    bool trailers(int32_t stream, std::span<const Header> fields);
    void resume(int32_t stream);
    void reset(int32_t stream, uint32_t error_code);
    void consume(int32_t stream, size_t n);  // request body bytes passed on: the window reopens
    void goaway();                           // graceful: streams in progress finish, no new ones
    void terminate(uint32_t error_code);     // GOAWAY with an error, then close

    // internal, for the C callbacks
    H2Sink* sink() const { return sink_; }
    H2RequestBuilder& builder() { return builder_; }
    uint32_t empty_frames = 0;
    uint32_t max_empty_frames = 0;
    bool body_trailers = false;  // set by trailers() inside read_body
    bool in_read = false;
    bool goaway_ours = false;
    bool terminate_pending = false;  // a limit of ours was hit inside a callback: GOAWAY once mem_recv returns
    uint32_t open_streams = 0;  // client streams begun and not closed
    uint32_t max_streams = 0;
    bool streams_limit_hit = false;  // the refusal (RST_STREAM or GOAWAY) that follows is the streams limit

private:
    void build_nv(uint16_t status, std::span<const Header> fields, bool with_status);

    nghttp2_session* session_ = nullptr;
    H2Sink* sink_ = nullptr;
    H2RequestBuilder builder_;
    std::vector<nghttp2_nv> nv_;
    char status_[4] = {};
};

}  // namespace dlba::http
