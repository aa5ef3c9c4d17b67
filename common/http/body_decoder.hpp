// Streams a message body and finds where it ends: Content-Length, chunked (decoded strictly as it streams) or
// close-delimited. Used by the request parser for client bodies and by the proxy for back-end response bodies.
// Pull-style: each step() consumes framing bytes up to the next piece of body data and returns that piece as a view
// into the caller's input, so nothing is copied and the caller decides between forwarding the raw bytes it consumed
// (same framing on both sides) or re-framing the decoded data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "http/syntax.hpp"

namespace dlba::http {

struct BodyLimits {
    size_t max_chunk_line = 1024;      // chunk-size line including extensions and CRLF; longer is an error
    size_t max_trailer_bytes = 16384;  // the whole trailer section including CRLFs
    uint64_t max_body_bytes = 0;       // decoded body; 0 = no limit. Exceeding it answers 413.
};

enum class BodyState : uint8_t { more, complete, error };

struct BodyStep {
    size_t consumed = 0;         // input bytes used by this step (framing and data)
    std::span<const char> data;  // decoded body bytes found by this step; a view into the input, may be empty
    BodyState state = BodyState::more;
};

class BodyDecoder {
public:
    // error_status is what framing errors answer: 400 for a client's request, 502 for a back end's response.
    explicit BodyDecoder(BodyLimits limits = {}, uint16_t error_status = 400);

    // Begins a body. content_length is used only with BodyFraming::content_length. A body with no bytes to read
    // (none, or a zero length) is complete at once.
    void start(BodyFraming framing, uint64_t content_length = 0);

    // Consumes bytes of the body. Stops after the first piece of data, at the end of the body, at an error, or when
    // the input is used up (state == more, consumed == len). Bytes after the end of the body are not consumed.
    BodyStep step(const char* data, size_t len);

    // The connection closed: a close-delimited body is now complete; any other unfinished body is an error.
    BodyState finish_at_eof();

    BodyState state() const;
    const HttpError& error() const { return error_; }
    uint64_t body_bytes() const { return body_bytes_; }  // decoded bytes delivered so far

private:
    enum class Phase : uint8_t { done, failed, length, until_close, size_line, data, data_cr, data_lf, trailer };

    BodyStep fail(size_t consumed, HttpError error);
    bool take_line(const char*& p, const char* end, size_t limit, bool& complete);
    HttpError parse_size_line(std::string_view line, uint64_t& size) const;

    BodyLimits limits_;
    uint16_t error_status_;
    Phase phase_ = Phase::done;
    uint64_t remaining_ = 0;   // bytes left in the Content-Length body or the current chunk
    uint64_t body_bytes_ = 0;
    size_t trailer_bytes_ = 0;
    std::string line_;  // the chunk-size or trailer line being collected; capacity reserved once
    HttpError error_;
};

}  // namespace dlba::http
