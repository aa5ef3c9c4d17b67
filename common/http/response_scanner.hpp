// Scans a back end's response head (status line + header fields) and decides how its body is framed, so the proxy
// can stream the body with BodyDecoder and knows whether the back-end connection can be reused.
//
// Held to the request parser's strictness wherever a lenient reader could frame the answer differently; the proxy
// answers every error with 502 and closes the back-end connection:
//   - status line: "HTTP/1.<digit>" SP 3DIGIT (100..599) [SP reason], no control characters in the reason;
//   - field lines: a token name, a colon, a value without NUL, CR, LF or other controls (RFC 9110 §5.5);
//   - Content-Length (RFC 9112 §6.3): one field of plain digits, no list, sign or overflow, never beside
//     Transfer-Encoding;
//   - Transfer-Encoding: a list of known coding tokens, chunked at most once and, if present, last; not on HTTP/1.0;
//   - 101: only when the request offered an upgrade the proxy passed on (start's upgrade_offered), and with an
//     Upgrade field; otherwise a protocol switch nobody asked for. Its bytes after the head are the new protocol's.
// The framing fields are checked on every answer, bodyless ones included, because they are passed on.
//
// Tolerant only where RFC 9112 lets a proxy repair the head and the repair leaves one reading: bare LF line ends
// (§2.2), a missing reason phrase, whitespace before the colon (removed, §5.1) and obs-fold (replaced by spaces,
// §5.2). Neither repair is made on Content-Length or Transfer-Encoding, where a reader that did not make it would
// find the body's end elsewhere: those are errors. Because of the repairs, the proxy sends the client a head rebuilt
// from the parsed fields, never the raw bytes.
//
// Transfer codings besides chunked with chunked not among them ("gzip"): RFC 9112 §6.3 reads the body until the
// back end closes (until_close, transfer_coded); the proxy passes it on re-chunked, so the client has one reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/syntax.hpp"

namespace dlba::http {

struct ResponseLimits {
    size_t max_head_bytes = 65536;  // status line + field section; more is a 502
    size_t max_header_count = 100;
};

// Views point into the scanner's buffer and stay valid until the next start().
struct ResponseHead {
    uint8_t minor_version = 1;
    uint16_t status = 0;
    std::string_view reason;
    std::span<const Header> headers;  // names with any whitespace before the colon removed, folded values unfolded
    BodyFraming framing = BodyFraming::none;
    uint64_t content_length = 0;
    bool transfer_coded = false;  // Transfer-Encoding names codings besides chunked (gzip, ...)
    bool keep_alive = false;  // the back-end connection can carry another request after this response

    // 1xx other than 101: another head follows for the same request (call start() again with the same arguments).
    bool informational() const { return status >= 100 && status < 200 && status != 101; }
    // 101: the connection switches to the protocol the Upgrade field names; no body, no further head.
    bool switching_protocols() const { return status == 101; }
};

enum class ScanStatus : uint8_t { need_more, complete, error };

struct ScanResult {
    size_t consumed = 0;  // bytes of the head; body bytes after it are not consumed
    ScanStatus status = ScanStatus::need_more;
};

class ResponseHeadScanner {
public:
    explicit ResponseHeadScanner(const ResponseLimits& limits = {});
    ResponseHeadScanner(const ResponseHeadScanner&) = delete;
    ResponseHeadScanner& operator=(const ResponseHeadScanner&) = delete;

    // Prepares for a response. head_request: it answers a HEAD request, so it has no body whatever it says.
    // upgrade_offered: the request carried an Upgrade offer to the back end, so a 101 may answer it.
    void start(bool head_request, bool upgrade_offered = false);
    ScanResult scan(const char* data, size_t len);

    const ResponseHead& head() const { return head_; }
    const HttpError& error() const { return error_; }

private:
    ScanResult fail(size_t consumed, HttpError error);
    HttpError parse_head();
    HttpError parse_status_line(std::string_view line);
    HttpError decide_framing();

    ResponseLimits limits_;
    bool head_request_ = false;
    bool upgrade_offered_ = false;
    bool complete_ = false;
    std::string head_buf_;
    size_t line_start_ = 0;
    size_t lines_ = 0;
    std::vector<Header> headers_;
    ResponseHead head_;
    HttpError error_;
};

}  // namespace dlba::http
