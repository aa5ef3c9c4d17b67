// An HTTP/1.1 response, as the proxy writes it for a client (rewrite/response_writer.hpp: rebuilt head with the
// injected cookies, the body as framed), read back into what an HTTP/2 stream carries: a status and fields for
// HEADERS, the body's bytes for DATA, and the trailer fields of a chunked body for a trailing HEADERS. So every rule
// the exchange applies to a back end's answer (strict framing, cookie injection, CDN rewriting) holds on h2 too.
//
//   - the fields: names lowercased; hop-by-hop ones dropped (Connection and every field it names, Keep-Alive,
//     Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade); Content-Length kept when it frames the body;
//   - chunked -> the decoded bytes (DATA) and the trailer fields (kept, minus the framing and hop-by-hop ones);
//   - a close-delimited body ends when the caller says (end_of_input()): the exchange knows where the answer ended.
//
// Pull-style like BodyDecoder: step() takes bytes and returns at most `max_data` body bytes as a view into its input,
// so the caller copies them straight into a DATA frame. Nothing allocates once the buffers have grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/response_scanner.hpp"

namespace dlba::http {

enum class H1Event : uint8_t {
    need_more,  // all input consumed; nothing to report
    head,       // a final head: status() and fields() are valid until the next step()
    interim,    // a 1xx head (not 101): status() and fields() valid; another head follows
    data,       // body bytes in `data`
    trailers,   // the trailer fields of a chunked body: trailers() valid; end follows
    end,        // the response is complete
    error,      // not a response this reader can carry (a 101, a transfer coding other than chunked, bad chunking)
};

struct H1Step {
    size_t consumed = 0;
    H1Event event = H1Event::need_more;
    std::span<const char> data;
};

class H1ResponseReader {
public:
    H1ResponseReader();
    void start(bool head_request);
    H1Step step(const char* data, size_t len, size_t max_data);
    // A close-delimited body (or nothing at all) ends here: end, or error when the answer was cut.
    H1Event end_of_input();

    uint16_t status() const { return status_; }
    std::span<const Header> fields() const { return fields_; }
    std::span<const Header> trailers() const { return fields_; }
    bool body_ended() const { return phase_ == Phase::done; }
    bool delimited_by_close() const { return phase_ == Phase::until_close; }
    bool started_body() const { return phase_ != Phase::head; }

private:
    enum class Phase : uint8_t { head, length, until_close, size_line, chunk, chunk_crlf, trailer, done, failed };
    H1Step head_step(const char* data, size_t len);
    H1Step chunk_line_step(const char* data, size_t len);
    void keep_fields(std::span<const Header> in, bool trailers, bool keep_length);
    H1Step fail(size_t consumed);

    ResponseHeadScanner scanner_;
    bool head_request_ = false;
    Phase phase_ = Phase::head;
    uint16_t status_ = 0;
    uint64_t remaining_ = 0;
    std::string line_;   // a chunk-size or trailer line being collected
    std::string names_;  // lowercased names and trailer values, the views of fields_ point here
    std::vector<Header> fields_;
    struct FieldSpan {
        size_t off, name_len, value_len;
    };
    std::vector<FieldSpan> spans_;
    std::string raw_;  // the trailer lines, "name: value\n" each
};

}  // namespace dlba::http
