// Scans a back end's response head (status line + header fields) and decides how its body is framed, so the proxy
// can stream the body with BodyDecoder and knows whether the back-end connection can be reused.
//
// Tolerant where RFC 9112 lets a proxy be (bare LF line ends, a missing reason phrase, whitespace before the colon,
// obs-fold unfolded to spaces), strict about framing: any doubt about where the body ends (Content-Length together
// with Transfer-Encoding, a duplicate or invalid Content-Length, chunked applied twice, Transfer-Encoding on
// HTTP/1.0) is an error the proxy answers with 502 (RFC 9112 §6.3). Because of the tolerance, the proxy must send
// the client a head rebuilt from the parsed fields, not the raw bytes.
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
    bool keep_alive = false;  // the back-end connection can carry another request after this response

    // 1xx other than 101: another head follows for the same request (call start() again with the same argument).
    bool informational() const { return status >= 100 && status < 200; }
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
    void start(bool head_request);
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
    bool complete_ = false;
    std::string head_buf_;
    size_t line_start_ = 0;
    size_t lines_ = 0;
    std::vector<Header> headers_;
    ResponseHead head_;
    HttpError error_;
};

}  // namespace dlba::http
