#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/body_decoder.hpp"

using namespace dlba::http;

namespace {

struct Decoded {
    std::string data;
    size_t consumed = 0;
    BodyState state = BodyState::more;
    uint16_t error_status = 0;
};

// Feeds input in pieces of `piece` bytes (0: at once) until the body ends or fails.
Decoded decode(BodyDecoder& d, std::string_view input, size_t piece = 0) {
    Decoded out;
    if (piece == 0) piece = input.size() ? input.size() : 1;
    for (size_t pos = 0; pos < input.size() && out.state == BodyState::more; pos += piece) {
        std::string_view part = input.substr(pos, piece);
        while (true) {
            BodyStep s = d.step(part.data(), part.size());
            out.data.append(s.data.data(), s.data.size());
            out.consumed += s.consumed;
            part.remove_prefix(s.consumed);
            out.state = s.state;
            if (s.state != BodyState::more || part.empty()) break;
        }
        if (out.state != BodyState::more) break;
    }
    if (out.state == BodyState::more) out.state = d.state();
    out.error_status = d.error().status;
    return out;
}

Decoded decode(BodyFraming framing, uint64_t length, std::string_view input, size_t piece = 0,
               BodyLimits limits = {}) {
    BodyDecoder d(limits, 400);
    d.start(framing, length);
    return decode(d, input, piece);
}

}  // namespace

TEST_CASE("Content-Length body stops at its length and leaves the next bytes unconsumed", "[body]") {
    for (size_t piece : {size_t{0}, size_t{1}, size_t{4}}) {
        auto out = decode(BodyFraming::content_length, 5, "helloGET /", piece);
        CHECK(out.state == BodyState::complete);
        CHECK(out.data == "hello");
        CHECK(out.consumed == 5);
    }
}

TEST_CASE("a body with no bytes is complete before any input", "[body]") {
    BodyDecoder d;
    d.start(BodyFraming::none);
    CHECK(d.state() == BodyState::complete);
    d.start(BodyFraming::content_length, 0);
    CHECK(d.state() == BodyState::complete);
    BodyStep s = d.step("x", 1);
    CHECK(s.consumed == 0);
    CHECK(s.state == BodyState::complete);
}

TEST_CASE("chunked body decodes the same at every piece size", "[body]") {
    std::string body = "4\r\nWiki\r\n6;ext=\"a b\"\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nDate: x\r\n\r\nNEXT";
    for (size_t piece = 0; piece < 12; ++piece) {
        INFO("piece " << piece);
        auto out = decode(BodyFraming::chunked, 0, body, piece);
        CHECK(out.state == BodyState::complete);
        CHECK(out.data == "Wikipedia in \r\n\r\nchunks.");
        CHECK(out.consumed == body.size() - 4);
    }
}

TEST_CASE("chunk sizes accept hex of either case and leading zeros", "[body]") {
    auto out = decode(BodyFraming::chunked, 0, "0000A\r\n0123456789\r\na\r\n0123456789\r\n00\r\n\r\n");
    CHECK(out.state == BodyState::complete);
    CHECK(out.data.size() == 20);
}

TEST_CASE("the decoded body never exceeds what was consumed", "[body]") {
    auto out = decode(BodyFraming::chunked, 0, "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 1);
    CHECK(out.data.size() <= out.consumed);
    CHECK(out.data == "abcdef");
}

TEST_CASE("close-delimited body ends only at end of stream", "[body]") {
    BodyDecoder d(BodyLimits{}, 502);
    d.start(BodyFraming::until_close);
    auto out = decode(d, "all of this is body\r\n0\r\n\r\n");
    CHECK(out.state == BodyState::more);
    CHECK(out.data == "all of this is body\r\n0\r\n\r\n");
    CHECK(d.finish_at_eof() == BodyState::complete);
}

TEST_CASE("end of stream in the middle of a framed body is an error with the configured status", "[body]") {
    BodyDecoder d(BodyLimits{}, 502);
    d.start(BodyFraming::content_length, 10);
    decode(d, "short");
    CHECK(d.finish_at_eof() == BodyState::error);
    CHECK(d.error().status == 502);

    d.start(BodyFraming::chunked);
    decode(d, "5\r\nhello\r\n");
    CHECK(d.finish_at_eof() == BodyState::error);
}

TEST_CASE("chunked body over max_body_bytes fails with 413 before its data is delivered", "[body][limits]") {
    BodyLimits limits;
    limits.max_body_bytes = 8;
    auto out = decode(BodyFraming::chunked, 0, "5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", 0, limits);
    CHECK(out.state == BodyState::error);
    CHECK(out.error_status == 413);
    CHECK(out.data == "hello");
}

TEST_CASE("response-side framing errors carry 502", "[body]") {
    BodyDecoder d(BodyLimits{}, 502);
    d.start(BodyFraming::chunked);
    auto out = decode(d, "zz\r\n");
    CHECK(out.state == BodyState::error);
    CHECK(out.error_status == 502);
}

// A back end's chunked body: every shape a lenient reader could end elsewhere is an error (502, the connection is
// closed); a body that ends cleanly leaves whatever follows unconsumed, which the proxy then counts and does not reuse
// the connection for.
TEST_CASE("malformed chunked response bodies fail with 502 and the rule they broke", "[body][strict]") {
    struct Row {
        const char* description;
        std::string input;
        const char* reason;
    };
    const std::vector<Row> rows = {
        {"size not hex", "zz\r\n", "invalid chunk size"},
        {"negative size", "-5\r\nhello\r\n", "invalid chunk size"},
        {"0x prefix", "0x5\r\nhello\r\n", "invalid chunk extension"},
        {"space inside the size", "5 5\r\nhello\r\n", "invalid chunk extension"},
        {"size overflow", "10000000000000001\r\nx\r\n", "chunk size overflow"},
        {"bare LF after the size", "5\nhello\r\n", "bare LF in chunk size line"},
        {"data longer than its size", "1\r\nxy\r\n0\r\n\r\n", "chunk data not followed by CRLF"},
        {"data followed by a bare LF", "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"},
        {"extension name with a space", "5;a b\r\nhello\r\n", "invalid chunk extension"},
        {"extension with an unterminated quote", "5;a=\"b\r\nhello\r\n", "invalid chunk extension"},
        {"size line too long", "5;" + std::string(2000, 'a') + "\r\n", "chunk size line too long"},
        {"trailer with obs-fold", "0\r\nX: a\r\n b\r\n\r\n", "obs-fold"},
        {"trailer with whitespace before the colon", "0\r\nX : a\r\n\r\n", "whitespace before colon"},
        {"trailer without colon", "0\r\nnonsense\r\n\r\n", "field line without colon"},
        {"trailer with a control character", "0\r\nX: a\x01" "b\r\n\r\n", "invalid character in field value"},
        {"trailer ended by a bare LF", "0\r\nX: a\n\r\n", "bare LF in trailer section"},
    };
    for (const Row& r : rows) {
        INFO(r.description);
        BodyDecoder d(BodyLimits{}, 502);
        d.start(BodyFraming::chunked);
        const Decoded out = decode(d, r.input);
        CHECK(out.state == BodyState::error);
        CHECK(out.error_status == 502);
        CHECK(std::string_view(d.error().reason) == r.reason);
    }

    BodyDecoder d(BodyLimits{}, 502);
    d.start(BodyFraming::chunked);
    const std::string body = "5\r\nhello\r\n0\r\n\r\n";
    const Decoded out = decode(d, body + "HTTP/1.1 200 OK\r\n\r\n");
    CHECK(out.state == BodyState::complete);
    CHECK(out.consumed == body.size());
    CHECK(out.data == "hello");
}
