#include <catch2/catch.hpp>

#include <string>

#include "http/request_parser.hpp"
#include "printable.hpp"
#include "allocation_counter.hpp"
#include "request_recorder.hpp"

using namespace dlba::http;
namespace test = dlba::http::test;
using namespace std::literals;
using dlba::http::test::parse;

namespace {

struct RejectCase {
    const char* description;
    std::string input;
    uint16_t status;
};

// Every table row is also fed one byte at a time: a verdict must not depend on how TCP split the bytes.
void check_rejections(const std::vector<RejectCase>& cases, const RequestLimits& limits = {}) {
    for (const RejectCase& c : cases) {
        INFO(c.description);
        for (size_t piece : {size_t{0}, size_t{1}}) {
            INFO("piece size " << piece);
            auto out = parse(c.input, piece, limits);
            CHECK(out.status == ParseStatus::error);
            CHECK(out.error.status == c.status);
            // Nothing of a rejected request may reach the proxy's scheduler.
            CHECK(out.requests.empty());
        }
    }
}

std::string get(std::string_view extra_headers) {
    return "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view framing_headers, std::string_view body = "") {
    return "POST /f HTTP/1.1\r\nHost: a\r\n" + std::string(framing_headers) + "\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("simple GET is parsed into method, target, version and headers", "[request]") {
    auto out = parse("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\nAccept: */*\r\n\r\n");
    REQUIRE(out.status == ParseStatus::ok);
    REQUIRE(out.requests.size() == 1);
    const auto& r = out.requests[0];
    CHECK(r.method == "GET");
    CHECK(r.target == "/index.html?x=1");
    CHECK(r.form == TargetForm::origin);
    CHECK(r.minor_version == 1);
    CHECK(r.host == "example.com");
    REQUIRE(r.headers.size() == 3);
    CHECK(r.headers[1] == std::pair<std::string, std::string>("User-Agent", "curl/8"));  // OWS trimmed
    CHECK(r.framing == BodyFraming::none);
    CHECK(r.keep_alive);
    CHECK_FALSE(r.expect_continue);
    CHECK(r.complete);
}

TEST_CASE("valid request shapes are accepted", "[request]") {
    struct Case {
        const char* description;
        std::string input;
    };
    const std::vector<Case> cases = {
        {"Host with port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"},
        {"IPv6 literal Host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"},
        {"empty Host value (RFC 9110 §7.2)", "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
        {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"},
        {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"absolute-form with matching Host", "GET http://a.example/x HTTP/1.1\r\nHost: A.example\r\n\r\n"},
        {"https absolute-form", "GET https://a.example:443?q HTTP/1.1\r\nHost: a.example:443\r\n\r\n"},
        {"unknown but well-formed method", "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"header value with obs-text", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n"},
        {"header value with inner spaces and tabs", "GET / HTTP/1.1\r\nHost: a\r\nX: a \t b\r\n\r\n"},
        {"empty header value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"},
        {"empty lines before the request line are ignored", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"Content-Length with leading zeros", post("Content-Length: 003\r\n", "abc")},
        {"Content-Length: 0", post("Content-Length: 0\r\n")},
        {"gzip then chunked", post("Transfer-Encoding: gzip, chunked\r\n", "1\r\nx\r\n0\r\n\r\n")},
        {"Transfer-Encoding over two lines ending in chunked",
         post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")},
        {"Transfer-Encoding in upper case", post("Transfer-Encoding: CHUNKED\r\n", "0\r\n\r\n")},
        {"chunk extensions", post("Transfer-Encoding: chunked\r\n", "1;a=b;c=\"q;\\\"x\" ; d\r\nx\r\n0;e\r\n\r\n")},
        {"trailers", post("Transfer-Encoding: chunked\r\n", "1\r\nx\r\n0\r\nX-Sum: 1\r\nX-T: 2\r\n\r\n")},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        auto out = parse(c.input);
        CHECK((out.status == ParseStatus::ok || out.status == ParseStatus::done));
        CHECK(out.error.status == 0);
        REQUIRE(out.requests.size() == 1);
        CHECK(out.requests[0].complete);
        CHECK(out.consumed == c.input.size());
    }
}

TEST_CASE("request with both Content-Length and Transfer-Encoding is rejected with 400", "[request][smuggling]") {
    check_rejections({
        {"CL then TE", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
        {"TE then CL", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400},
        {"CL 0 with TE", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
        {"CL with TE not ending in chunked", post("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n", "abcde"), 400},
    });
}

TEST_CASE("duplicate or invalid Content-Length is rejected with 400", "[request][smuggling]") {
    check_rejections({
        {"two equal Content-Length fields", post("Content-Length: 1\r\nContent-Length: 1\r\n", "x"), 400},
        {"two different Content-Length fields", post("Content-Length: 1\r\nContent-Length: 2\r\n", "xy"), 400},
        {"list 1,1", post("Content-Length: 1,1\r\n", "x"), 400},
        {"list 1, 2", post("Content-Length: 1, 2\r\n", "xy"), 400},
        {"plus sign", post("Content-Length: +1\r\n", "x"), 400},
        {"minus sign", post("Content-Length: -1\r\n"), 400},
        {"empty", post("Content-Length:\r\n"), 400},
        {"inner space", post("Content-Length: 1 2\r\n"), 400},
        {"hex", post("Content-Length: 0x10\r\n"), 400},
        {"overflow past 2^64", post("Content-Length: 18446744073709551617\r\n"), 400},
        {"above 2^62", post("Content-Length: 4611686018427387905\r\n"), 400},
        {"trailing garbage", post("Content-Length: 5a\r\n"), 400},
    });
}

TEST_CASE("Transfer-Encoding that does not end in chunked is rejected with 400, an unknown coding with 501",
          "[request][smuggling]") {
    check_rejections({
        {"gzip alone", post("Transfer-Encoding: gzip\r\n"), 400},
        {"chunked then gzip", post("Transfer-Encoding: chunked, gzip\r\n"), 400},
        {"chunked then gzip on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400},
        {"chunked twice", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400},
        {"chunked twice on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
        {"empty element before chunked", post("Transfer-Encoding: , chunked\r\n"), 400},
        {"empty value", post("Transfer-Encoding:\r\n"), 400},
        {"parameter on chunked", post("Transfer-Encoding: chunked;q=1\r\n"), 400},
        {"quoted chunked", post("Transfer-Encoding: \"chunked\"\r\n"), 400},
        {"Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"unknown coding alone", post("Transfer-Encoding: xchunked\r\n"), 501},
        {"unknown coding before chunked", post("Transfer-Encoding: foo, chunked\r\n"), 501},
        {"identity is not accepted", post("Transfer-Encoding: identity\r\n"), 501},
        {"chunked with a vertical tab", post("Transfer-Encoding: \x0b" "chunked\r\n"), 400},
    });
}

TEST_CASE("bare CR or bare LF as a line ending is rejected with 400", "[request][smuggling]") {
    check_rejections({
        {"bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
        {"bare LF after a header", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
        {"bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
        {"only bare LFs", "GET / HTTP/1.1\nHost: a\n\n", 400},
        {"bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"bare CR inside a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
        {"bare CR as a line end", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},
        {"CR CR LF", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400},
        {"bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    });
}

TEST_CASE("header syntax violations are rejected with 400", "[request][smuggling]") {
    check_rejections({
        {"space before colon", get("Content-Length : 0\r\n"), 400},
        {"tab before colon", get("X\t: y\r\n"), 400},
        {"obs-fold continuation", get("X: a\r\n b\r\n"), 400},
        {"obs-fold with tab", get("X: a\r\n\tb\r\n"), 400},
        {"whitespace line after the request line", "GET / HTTP/1.1\r\n Host: a\r\nHost: a\r\n\r\n", 400},
        {"NUL in value", get("X: a\0b\r\n"s), 400},
        {"vertical tab in value", get("X: a\x0b" "b\r\n"), 400},
        {"DEL in value", get("X: a\x7f\r\n"), 400},
        {"escape in value", get("X: \x1b[31m\r\n"), 400},
        {"space inside a field name", get("X Y: z\r\n"), 400},
        {"non-token character in a field name", get("X(y): z\r\n"), 400},
        {"UTF-8 in a field name", get("X\xc3\xa9: z\r\n"), 400},
        {"empty field name", get(": z\r\n"), 400},
        {"line without colon", get("NoColon\r\n"), 400},
        {"NUL in field name", get("X\0: z\r\n"s), 400},
    });
}

TEST_CASE("invalid request lines are rejected with 400", "[request]") {
    check_rejections({
        {"method with a non-token char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
        {"HTTP/0.9 request", "GET /\r\n\r\n", 400},
        {"lower-case protocol name", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
        {"version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
        {"two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
        {"space inside target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"raw UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"NUL in target", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"s, 400},
        {"target without leading slash", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"asterisk-form with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"absolute-form with another scheme", "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"absolute-form with userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        {"absolute-form with empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"CONNECT is not supported", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501},
    });
}

TEST_CASE("HTTP versions other than 1.0 and 1.1 are rejected with 505", "[request]") {
    check_rejections({
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
        {"HTTP/0.9 with version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        {"HTTP/9.9", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505},
    });
}

TEST_CASE("Host must appear exactly once on HTTP/1.1 and match an absolute-form target", "[request][smuggling]") {
    check_rejections({
        {"missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
        {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
        {"duplicate Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"two hosts in one Host field", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400},
        {"Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        {"absolute-form without Host on HTTP/1.1", "GET http://a/ HTTP/1.1\r\n\r\n", 400},
        {"absolute-form with a different Host", "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", 400},
    });
}

TEST_CASE("absolute-form target takes its authority as the host", "[request]") {
    auto out = parse("GET http://shop.example:8080/cart?x HTTP/1.1\r\nHost: shop.example:8080\r\n\r\n");
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].form == TargetForm::absolute);
    CHECK(out.requests[0].host == "shop.example:8080");
    CHECK(out.requests[0].target == "http://shop.example:8080/cart?x");

    auto http10 = parse("GET http://a.example/ HTTP/1.0\r\n\r\n");
    REQUIRE(http10.requests.size() == 1);
    CHECK(http10.requests[0].host == "a.example");
}

TEST_CASE("over-long target answers 414 and over-large header section 431", "[request][limits]") {
    RequestLimits limits;
    limits.max_target_length = 64;
    limits.max_header_bytes = 256;
    limits.max_header_count = 4;
    std::string long_target = "/" + std::string(64, 'a');  // 65 bytes
    std::string huge_target = "/" + std::string(1000, 'a');
    check_rejections(
        {
            {"target one byte over the limit", "GET " + long_target + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
            {"target far over the limit, line never ends", "GET " + huge_target, 414},
            {"request line without a space over the limit", std::string(1000, 'G'), 400},
            {"header section over max_header_bytes", get("X: " + std::string(300, 'v') + "\r\n"), 431},
            {"one endless header line", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(1000, 'v'), 431},
            {"more header fields than max_header_count", get("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), 431},
        },
        limits);

    // Right at the limits is fine.
    std::string at_limit = "GET /" + std::string(63, 'a') + " HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    auto out = parse(at_limit, 0, limits);
    CHECK(out.status == ParseStatus::ok);
    CHECK(out.requests.size() == 1);
}

TEST_CASE("body larger than max_body_bytes is rejected with 413", "[request][limits]") {
    RequestLimits limits;
    limits.max_body_bytes = 10;
    check_rejections({{"Content-Length over the limit", post("Content-Length: 11\r\n", "01234567890"), 413}}, limits);

    // A chunked body is only known to be too large once the head has been passed on, so it fails mid-body.
    auto out = parse(post("Transfer-Encoding: chunked\r\n", "6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n"), 0, limits);
    CHECK(out.status == ParseStatus::error);
    CHECK(out.error.status == 413);
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].body == "012345");
    CHECK_FALSE(out.requests[0].complete);

    auto fits = parse(post("Transfer-Encoding: chunked\r\n", "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"), 0, limits);
    CHECK(fits.status == ParseStatus::ok);
}

TEST_CASE("Content-Length body is delivered exactly and the next request follows it", "[request][body]") {
    std::string input = post("Content-Length: 5\r\n", "hello") + get("");
    for (size_t piece : {size_t{0}, size_t{1}, size_t{3}, size_t{7}}) {
        INFO("piece size " << piece);
        auto out = parse(input, piece);
        CHECK(out.status == ParseStatus::ok);
        REQUIRE(out.requests.size() == 2);
        CHECK(out.requests[0].framing == BodyFraming::content_length);
        CHECK(out.requests[0].content_length == 5);
        CHECK(out.requests[0].body == "hello");
        CHECK(out.requests[1].method == "GET");
        CHECK(out.requests[1].complete);
    }
}

TEST_CASE("chunked body is decoded, extensions and trailers are consumed", "[request][body]") {
    std::string input =
        post("Transfer-Encoding: chunked\r\n", "5;name=val\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n") +
        get("");
    for (size_t piece : {size_t{0}, size_t{1}, size_t{2}, size_t{5}}) {
        INFO("piece size " << piece);
        auto out = parse(input, piece);
        CHECK(out.status == ParseStatus::ok);
        REQUIRE(out.requests.size() == 2);
        CHECK(out.requests[0].framing == BodyFraming::chunked);
        CHECK(out.requests[0].body == "hello, world");
        CHECK(out.requests[0].complete);
        CHECK(out.requests[1].complete);
        CHECK(out.consumed == input.size());
    }
}

TEST_CASE("invalid chunked framing is rejected with 400 after the head", "[request][body][smuggling]") {
    struct Case {
        const char* description;
        std::string body;
    };
    const std::vector<Case> cases = {
        {"non-hex chunk size", "g\r\nx\r\n0\r\n\r\n"},
        {"empty chunk size", "\r\nx\r\n0\r\n\r\n"},
        {"0x prefix", "0x1\r\nx\r\n0\r\n\r\n"},
        {"negative chunk size", "-1\r\nx\r\n0\r\n\r\n"},
        {"space before the size", " 1\r\nx\r\n0\r\n\r\n"},
        {"trailing space without extension", "1 \r\nx\r\n0\r\n\r\n"},
        {"chunk size overflowing 64 bits", "10000000000000001\r\nx\r\n0\r\n\r\n"},
        {"chunk size far too large", "fffffffffffffffffffff\r\nx\r\n"},
        {"bare LF after the size", "1\nx\r\n0\r\n\r\n"},
        {"bare CR after the size", "1\rx\r\n0\r\n\r\n"},
        {"data longer than the size", "1\r\nxy\r\n0\r\n\r\n"},
        {"bare LF after data", "1\r\nx\n0\r\n\r\n"},
        {"missing CRLF after data", "1\r\nx0\r\n\r\n"},
        {"extension without name", "1;\r\nx\r\n0\r\n\r\n"},
        {"extension value with a space inside", "1;a=b c\r\nx\r\n0\r\n\r\n"},
        {"unterminated quoted extension", "1;a=\"b\r\nx\r\n0\r\n\r\n"},
        {"control char in extension", "1;a=\x01\r\nx\r\n0\r\n\r\n"},
        {"extension longer than max_chunk_line", "1;a=" + std::string(2000, 'b') + "\r\nx\r\n0\r\n\r\n"},
        {"bare LF in last chunk", "0\n\r\n"},
        {"bare LF ending the trailers", "0\r\n\n"},
        {"trailer without colon", "0\r\nbad\r\n\r\n"},
        {"obs-fold in trailer", "0\r\nX: a\r\n b\r\n\r\n"},
        {"space before colon in trailer", "0\r\nX : a\r\n\r\n"},
        {"trailer section too large", "0\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        for (size_t piece : {size_t{0}, size_t{1}}) {
            auto out = parse(post("Transfer-Encoding: chunked\r\n", c.body), piece);
            CHECK(out.status == ParseStatus::error);
            CHECK(out.error.status == 400);
            REQUIRE(out.requests.size() == 1);
            CHECK_FALSE(out.requests[0].complete);
        }
    }
}

TEST_CASE("pipelined requests in one buffer are each parsed in order", "[request][pipelining]") {
    std::string input = "GET /a.html HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET /b.gif HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET /c.gif HTTP/1.1\r\nHost: a\r\n\r\n";
    auto out = parse(input);
    CHECK(out.status == ParseStatus::ok);
    REQUIRE(out.requests.size() == 3);
    CHECK(out.requests[0].target == "/a.html");
    CHECK(out.requests[1].target == "/b.gif");
    CHECK(out.requests[2].target == "/c.gif");
    for (const auto& r : out.requests) CHECK(r.complete);
}

TEST_CASE("bytes after a request with Connection: close are not parsed", "[request][pipelining]") {
    std::string first = "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    std::string input = first + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    auto out = parse(input);
    CHECK(out.status == ParseStatus::done);
    CHECK(out.consumed == first.size());
    REQUIRE(out.requests.size() == 1);
    CHECK_FALSE(out.requests[0].keep_alive);
}

TEST_CASE("an error in a pipelined request does not undo the requests before it", "[request][pipelining]") {
    auto out = parse(get("") + "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CHECK(out.status == ParseStatus::error);
    CHECK(out.error.status == 400);
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].complete);
}

TEST_CASE("keep-alive follows the version and the Connection header", "[request]") {
    struct Case {
        const char* description;
        std::string input;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"HTTP/1.1 default", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        {"HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
        {"HTTP/1.1 Close in a list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
        {"HTTP/1.1 close in a second field", "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n", false},
        {"HTTP/1.0 default", "GET / HTTP/1.0\r\n\r\n", false},
        {"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
        {"close as a substring does not count", "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        auto out = parse(c.input);
        REQUIRE(out.requests.size() == 1);
        CHECK(out.requests[0].keep_alive == c.keep_alive);
    }
}

TEST_CASE("an upgrade offer needs HTTP/1.1, an Upgrade field and Connection naming it", "[request][upgrade]") {
    struct Case {
        const char* description;
        std::string input;
        bool upgrade;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"websocket handshake", "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", true,
         true},
        {"tokens in any case, Connection as a list",
         "GET / HTTP/1.1\r\nHost: a\r\nupgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\n\r\n", true, true},
        {"Connection in a second field", "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nUpgrade: h2c\r\n"
         "Connection: upgrade\r\n\r\n", true, true},
        {"Upgrade without Connection naming it", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false,
         true},
        {"Connection: upgrade without an Upgrade field", "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
         false, true},
        {"upgrade as a substring does not count",
         "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgraded\r\n\r\n", false, true},
        {"HTTP/1.0: ignored (RFC 9110 §7.8)",
         "GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade, keep-alive\r\n\r\n", false, true},
        {"with close: an offer, and the last request if refused",
         "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\r\n", true, false},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        auto out = parse(c.input);
        REQUIRE(out.requests.size() == 1);
        CHECK(out.requests[0].upgrade == c.upgrade);
        CHECK(out.requests[0].keep_alive == c.keep_alive);
    }
    // The flag belongs to one request: the next one on the connection starts without it.
    auto two = parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"
                     "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    REQUIRE(two.requests.size() == 2);
    CHECK(two.requests[0].upgrade);
    CHECK_FALSE(two.requests[1].upgrade);
}

TEST_CASE("Expect: 100-continue is reported on HTTP/1.1 only", "[request]") {
    auto out = parse(post("Expect: 100-Continue\r\nContent-Length: 1\r\n", "x"));
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].expect_continue);

    auto http10 = parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
    REQUIRE(http10.requests.size() == 1);
    CHECK_FALSE(http10.requests[0].expect_continue);

    auto none = parse(post("Content-Length: 1\r\n", "x"));
    CHECK_FALSE(none.requests[0].expect_continue);
}

TEST_CASE("a callback can pause the parser and parsing resumes where it stopped", "[request]") {
    std::string input = post("Content-Length: 3\r\n", "abc") + get("");
    test::Recorder recorder;
    recorder.on_head = Action::pause;
    recorder.on_complete = Action::pause;
    RequestParser parser(RequestLimits{}, recorder);

    std::string_view rest = input;
    std::vector<ParseStatus> statuses;
    for (int i = 0; i < 10 && (statuses.empty() || statuses.back() == ParseStatus::paused); ++i) {
        ParseResult r = parser.execute(rest.data(), rest.size());
        rest.remove_prefix(r.consumed);
        statuses.push_back(r.status);
    }
    // head 1 | body + complete 1 | head 2 | complete 2 | ok
    CHECK(statuses == std::vector<ParseStatus>{ParseStatus::paused, ParseStatus::paused, ParseStatus::paused,
                                               ParseStatus::paused, ParseStatus::ok});
    CHECK(rest.empty());
    REQUIRE(recorder.requests.size() == 2);
    CHECK(recorder.requests[0].body == "abc");
    CHECK(recorder.requests[1].complete);
}

TEST_CASE("pausing in on_body_data delivers on_message_complete on the next call", "[request]") {
    std::string input = post("Content-Length: 3\r\n", "abc");
    test::Recorder recorder;
    recorder.on_body = Action::pause;
    RequestParser parser(RequestLimits{}, recorder);
    ParseResult r = parser.execute(input.data(), input.size());
    CHECK(r.status == ParseStatus::paused);
    CHECK(r.consumed == input.size());
    REQUIRE(recorder.requests.size() == 1);
    CHECK_FALSE(recorder.requests[0].complete);
    r = parser.execute(nullptr, 0);
    CHECK(r.status == ParseStatus::ok);
    CHECK(recorder.requests[0].complete);
    CHECK(parser.idle());
}

TEST_CASE("after an error the parser consumes nothing more", "[request]") {
    test::Recorder recorder;
    RequestParser parser(RequestLimits{}, recorder);
    std::string bad = "GET / HTTP/1.1\nHost: a\r\n\r\n";
    ParseResult r = parser.execute(bad.data(), bad.size());
    CHECK(r.status == ParseStatus::error);
    CHECK(parser.error().status == 400);
    std::string good = get("");
    r = parser.execute(good.data(), good.size());
    CHECK(r.status == ParseStatus::error);
    CHECK(r.consumed == 0);
    CHECK(recorder.requests.empty());
}

TEST_CASE("a request split at every byte boundary parses the same as in one piece", "[request]") {
    const std::vector<std::string> inputs = {
        get("Cookie: a=b\r\n"),
        post("Content-Length: 4\r\n", "wxyz") + get(""),
        post("Transfer-Encoding: chunked\r\n", "3;x=\"y\"\r\nabc\r\n0\r\nT: 1\r\n\r\n"),
        "\r\n" + get(""),
        post("Content-Length: 1\r\nContent-Length: 1\r\n", "x"),
    };
    for (const std::string& input : inputs) {
        INFO(test::printable(input));
        auto whole = parse(input);
        for (size_t split = 1; split < input.size(); ++split) {
            test::Recorder recorder;
            RequestParser parser(RequestLimits{}, recorder);
            ParseResult a = parser.execute(input.data(), split);
            ParseResult b{0, a.status};
            if (a.status == ParseStatus::ok) b = parser.execute(input.data() + split, input.size() - split);
            if (!(recorder.requests == whole.requests && b.status == whole.status &&
                  parser.error().status == whole.error.status)) {
                FAIL("split at " << split << " differs");
            }
        }
    }
    SUCCEED();
}

TEST_CASE("header views stay valid until on_message_complete", "[request]") {
    struct Checker : RequestCallbacks {
        RequestHead head;
        std::string seen_in_complete;
        Action on_request_head(const RequestHead& h) override {
            head = h;
            return Action::proceed;
        }
        Action on_body_data(std::span<const char>) override { return Action::proceed; }
        Action on_message_complete() override {
            seen_in_complete = std::string(head.method) + " " + std::string(head.headers[1].value);
            return Action::proceed;
        }
    } checker;
    RequestParser parser(RequestLimits{}, checker);
    std::string input = post("X-Id: 42\r\nContent-Length: 2\r\n", "ok");
    // Deliver the body separately so the head buffer outlives the caller's input.
    parser.execute(input.data(), input.size() - 2);
    parser.execute(input.data() + input.size() - 2, 2);
    CHECK(checker.seen_in_complete == "POST 42");
}

// ---- allocation ----

TEST_CASE("parsing requests does not allocate after construction", "[request][allocation]") {
    struct Counting : RequestCallbacks {
        size_t heads = 0, body_bytes = 0, completes = 0;
        Action on_request_head(const RequestHead&) override { return ++heads, Action::proceed; }
        Action on_body_data(std::span<const char> d) override { return body_bytes += d.size(), Action::proceed; }
        Action on_message_complete() override { return ++completes, Action::proceed; }
    } counting;
    RequestParser parser(RequestLimits{}, counting);
    std::string input;
    for (int i = 0; i < 20; ++i)
        input += post("Transfer-Encoding: chunked\r\nCookie: a=b; SpServer=web1\r\nX-Many: " + std::string(200, 'x') +
                          "\r\n",
                      "a\r\n0123456789\r\n0\r\nT: x\r\n\r\n") +
                 post("Content-Length: 5\r\n", "hello");

    test::AllocationCounter counter;
    for (size_t pos = 0; pos < input.size(); pos += 7) {
        size_t n = std::min<size_t>(7, input.size() - pos);
        parser.execute(input.data() + pos, n);
    }
    if (!test::AllocationCounter::measuring()) WARN("allocations not counted in this (sanitizer) build");
    CHECK(counter.count() == 0);
    CHECK(counting.completes == 40);
    CHECK(counting.body_bytes == 20 * 15);
}
