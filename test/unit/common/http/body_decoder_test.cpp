#include <catch2/catch.hpp>

#include <string>

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
