// Push-style HTTP/1.1 request parser (RFC 9112), strict because it guards back ends against request smuggling.
//
//   RequestParser parser(limits, callbacks);
//   ParseResult r = parser.execute(buf, n);   // calls callbacks as requests are recognised
//
// The request line and every header are parsed and checked before on_request_head, so a request is never scheduled
// or forwarded half-validated. Bodies are decoded as they stream (on_body_data gets the decoded bytes, so the proxy
// re-frames them itself). Pipelined requests in one buffer are parsed one after another.
//
// Line endings: RFC 9112 §2.2 lets a recipient accept a bare LF. We do not: a proxy that accepts framing its back
// end reads differently is how smuggling happens, so a bare LF or bare CR anywhere in the head or in chunk framing
// is a 400.
//
// Nothing here throws or does I/O. Memory is reserved once at construction: the head is copied into one buffer of
// max_request_line() + max_header_bytes bytes and the header list is sized to max_header_count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/syntax.hpp"

namespace dlba::http {

struct RequestLimits {
    size_t max_target_length = 8192;  // request-target; longer answers 414
    size_t max_header_bytes = 32768;   // the field section after the request line, CRLFs included; more answers 431
    size_t max_header_count = 100;     // field lines; more answers 431
    size_t max_chunk_line = 1024;      // chunk-size line with extensions; longer answers 400
    size_t max_trailer_bytes = 8192;   // trailer section of a chunked body; more answers 400
    uint64_t max_body_bytes = 0;       // 0 = unlimited; a larger Content-Length or chunked total answers 413

    // Bytes allowed for the whole request line: the target plus room for a method and " HTTP/1.1\r\n".
    size_t max_request_line() const { return max_target_length + 64; }
};

enum class TargetForm : uint8_t {
    origin,    // "/path?query"
    absolute,  // "http://host/path": the Host header must be present (HTTP/1.1) and name the same authority
    asterisk,  // "*", OPTIONS only
};

// Everything the proxy needs to schedule and forward a request. The views point into the parser's head buffer and
// stay valid from on_request_head until on_message_complete returns.
struct RequestHead {
    std::string_view method;
    std::string_view target;
    TargetForm form = TargetForm::origin;
    uint8_t minor_version = 1;  // HTTP/1.<minor_version>: 0 or 1
    std::span<const Header> headers;
    std::string_view host;  // the absolute-form authority, else the Host value (empty when HTTP/1.0 sent none)
    BodyFraming framing = BodyFraming::none;  // none, content_length or chunked: requests are never close-delimited
    uint64_t content_length = 0;
    bool keep_alive = true;        // the connection may carry another request after this one
    bool expect_continue = false;  // "Expect: 100-continue" on HTTP/1.1
    // HTTP/1.1 with an Upgrade field and a Connection field naming "upgrade" (RFC 9110 §7.8): the client offers to
    // switch protocols (which ones: http/upgrade.hpp). False on HTTP/1.0, where Upgrade must be ignored.
    bool upgrade = false;
};

// What a callback wants the parser to do next.
enum class Action : uint8_t {
    proceed,
    pause,  // return from execute() now; call execute() again with the unconsumed bytes (possibly none) to go on
};

class RequestCallbacks {
public:
    virtual ~RequestCallbacks() = default;
    virtual Action on_request_head(const RequestHead& head) = 0;
    virtual Action on_body_data(std::span<const char> data) = 0;  // decoded body bytes, in order
    virtual Action on_message_complete() = 0;
};

enum class ParseStatus : uint8_t {
    ok,      // all input consumed; waiting for more
    paused,  // a callback returned Action::pause
    done,    // a request without keep-alive completed; bytes after it are not consumed (and must not be served)
    error,   // error() has the status to answer; close the connection after answering
};

struct ParseResult {
    size_t consumed = 0;
    ParseStatus status = ParseStatus::ok;
};

class RequestParser {
public:
    RequestParser(const RequestLimits& limits, RequestCallbacks& callbacks);
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    ParseResult execute(const char* data, size_t len);

    const HttpError& error() const { return error_; }
    // True between requests with no byte of the next one received: a client closing here closes cleanly.
    bool idle() const { return state_ == State::head && head_buf_.empty(); }

private:
    enum class State : uint8_t { head, body, message_end, closed, failed };

    size_t feed_head(const char* data, size_t len, bool& complete);
    bool end_line(bool& complete);
    HttpError parse_head();
    HttpError parse_request_line(std::string_view line);
    HttpError apply_header(const Header& h);
    HttpError check_framing_and_host();
    void start_next_request();
    ParseResult fail(size_t consumed, HttpError error);

    RequestLimits limits_;
    RequestCallbacks& callbacks_;
    State state_ = State::head;
    HttpError error_;

    // Head collection.
    std::string head_buf_;
    size_t line_start_ = 0;
    size_t request_line_end_ = 0;  // offset just past the request line's CRLF; 0 until it has been seen
    size_t field_lines_ = 0;

    // The request being parsed.
    RequestHead head_;
    std::vector<Header> headers_;
    size_t host_count_ = 0;
    size_t content_length_count_ = 0;
    bool content_length_invalid_ = false;
    bool has_transfer_encoding_ = false;
    bool te_last_is_chunked_ = false;
    size_t te_chunked_count_ = 0;
    bool connection_close_ = false;
    bool connection_keep_alive_ = false;
    bool connection_upgrade_ = false;  // Connection names "upgrade"
    bool has_upgrade_ = false;         // an Upgrade field

    BodyDecoder body_;
};

}  // namespace dlba::http
