// An HTTP/2 request's header block (RFC 9113 §8) turned into the same RequestHead the HTTP/1.1 parser produces, so
// the policies and the request writer see one structure whatever the client spoke. Pure: fed the fields the codec
// (nghttp2, common/http/h2_codec.hpp) decoded, one header block at a time.
//
//   :method, :path       -> method, target (origin form; "*" for OPTIONS is the asterisk form)
//   :authority (or host) -> host, written as Host for the back end (both present: they must agree)
//   cookie fields        -> one "cookie" field, joined with "; " (RFC 9113 §8.2.3)
//   content-length       -> content_length framing; no length and more DATA to come -> chunked toward the back end
//
// Malformed per RFC 9113 §8.1.1 / §8.2 (uppercase names, a pseudo field after a regular one or twice, an unknown
// pseudo field, connection-specific fields, TE other than "trailers", a bad content-length, a missing :method,
// :scheme or :path) is a stream error: `reset`. Over a limit, or not supported (CONNECT): a status to answer.
//
// Memory grows with the first requests and is kept (start() keeps the capacity): the fields are copied into one buffer and the views of the
// finished head point into it until the next start().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace dlba::http {

struct H2RequestLimits {
    size_t max_header_list_bytes = 65536;  // RFC 9113 §6.5.2 size: name + value + 32 per field; more answers 431
    size_t max_header_count = 100;         // regular fields; more answers 431
    size_t max_target_length = 8192;       // :path; longer answers 414
    uint64_t max_body_bytes = 0;           // 0 = unlimited; a larger content-length answers 413
};

enum class H2Verdict : uint8_t {
    ok,
    answer,  // answer `status` on the stream (the request is not forwarded)
    reset,   // malformed: RST_STREAM PROTOCOL_ERROR
};

struct H2Result {
    H2Verdict verdict = H2Verdict::ok;
    uint16_t status = 0;
    const char* reason = "";
};

class H2RequestBuilder {
public:
    explicit H2RequestBuilder(const H2RequestLimits& limits = {});

    void set_limits(const H2RequestLimits& limits) { limits_ = limits; }
    void start();  // a new header block
    // One decoded field. After the first non-ok verdict the rest of the block is ignored (the first verdict stands).
    void add(std::string_view name, std::string_view value);
    // The header block ended; end_stream: no DATA follows. On ok, `head` is filled (valid until the next start()).
    H2Result finish(bool end_stream, RequestHead& head);
    // Whether the limit hit (if any) was the header-list size or count (431), for the counters.
    bool over_header_limit() const { return result_.verdict == H2Verdict::answer && result_.status == 431; }

private:
    struct Span {
        uint32_t off, len;
    };
    struct Field {
        Span name, value;
    };
    void fail(H2Verdict v, uint16_t status, const char* reason);
    Span keep(std::string_view s);
    std::string_view view(Span s) const { return {store_.data() + s.off, s.len}; }

    H2RequestLimits limits_;
    H2Result result_;
    std::string store_;
    std::vector<Field> fields_;
    std::vector<Header> headers_;  // the finished head's fields
    std::string cookie_;           // joined cookie fields
    Span method_{}, path_{}, authority_{}, scheme_{}, host_{};
    bool has_method_ = false, has_path_ = false, has_authority_ = false, has_scheme_ = false, has_host_ = false;
    bool regular_seen_ = false;
    bool has_length_ = false;
    bool expect_continue_ = false;
    uint64_t length_ = 0;
    size_t list_bytes_ = 0;
};

}  // namespace dlba::http
