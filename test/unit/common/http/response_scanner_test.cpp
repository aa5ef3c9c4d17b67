#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/response_scanner.hpp"
#include "printable.hpp"

using namespace dlba::http;
namespace test = dlba::http::test;
using namespace std::literals;

namespace {

struct Scanned {
    ScanStatus status = ScanStatus::need_more;
    size_t consumed = 0;
    uint16_t error_status = 0;
};

Scanned scan(ResponseHeadScanner& s, std::string_view input, bool head_request = false, size_t piece = 0) {
    s.start(head_request);
    Scanned out;
    if (piece == 0) piece = input.size() ? input.size() : 1;
    for (size_t pos = 0; pos < input.size(); pos += piece) {
        std::string_view part = input.substr(pos, piece);
        ScanResult r = s.scan(part.data(), part.size());
        out.consumed += r.consumed;
        out.status = r.status;
        if (r.status != ScanStatus::need_more) break;
    }
    out.error_status = s.error().status;
    return out;
}

}  // namespace

TEST_CASE("status line and headers are scanned, body bytes are left unconsumed", "[response]") {
    ResponseHeadScanner s;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=b\r\n\r\n";
    auto out = scan(s, head + "hello");
    REQUIRE(out.status == ScanStatus::complete);
    CHECK(out.consumed == head.size());
    const ResponseHead& h = s.head();
    CHECK(h.status == 200);
    CHECK(h.reason == "OK");
    CHECK(h.minor_version == 1);
    REQUIRE(h.headers.size() == 2);
    CHECK(h.headers[1].name == "Set-Cookie");
    CHECK(h.headers[1].value == "a=b");
    CHECK(h.framing == BodyFraming::content_length);
    CHECK(h.content_length == 5);
    CHECK(h.keep_alive);
}

TEST_CASE("response framing follows RFC 9112 section 6.3", "[response][framing]") {
    struct Case {
        const char* description;
        std::string input;
        bool head_request;
        BodyFraming framing;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false, BodyFraming::content_length, true},
        {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, BodyFraming::chunked, true},
        {"gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, BodyFraming::chunked,
         true},
        {"neither: until close", "HTTP/1.1 200 OK\r\n\r\n", false, BodyFraming::until_close, false},
        {"TE not ending in chunked: until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
         BodyFraming::until_close, false},
        {"204 ignores Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false,
         BodyFraming::none, true},
        {"304 ignores Content-Length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false,
         BodyFraming::none, true},
        {"304 without Content-Length", "HTTP/1.1 304 Not Modified\r\n\r\n", false, BodyFraming::none, true},
        {"answer to HEAD ignores Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true,
         BodyFraming::none, true},
        {"answer to HEAD ignores chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true,
         BodyFraming::none, true},
        {"HTTP/1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false,
         BodyFraming::content_length, false},
        {"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", false,
         BodyFraming::content_length, true},
        {"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false,
         BodyFraming::content_length, false},
        {"HTTP/1.1 with until-close body", "HTTP/1.1 500 Oops\r\nConnection: keep-alive\r\n\r\n", false,
         BodyFraming::until_close, false},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        ResponseHeadScanner s;
        auto out = scan(s, c.input, c.head_request);
        REQUIRE(out.status == ScanStatus::complete);
        CHECK(s.head().framing == c.framing);
        CHECK(s.head().keep_alive == c.keep_alive);
    }
}

TEST_CASE("1xx responses are informational and followed by the final head", "[response]") {
    ResponseHeadScanner s;
    std::string input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    auto out = scan(s, input);
    REQUIRE(out.status == ScanStatus::complete);
    CHECK(s.head().informational());
    CHECK(s.head().framing == BodyFraming::none);
    std::string_view rest = std::string_view(input).substr(out.consumed);
    auto final_head = scan(s, rest);
    REQUIRE(final_head.status == ScanStatus::complete);
    CHECK(s.head().status == 200);
    CHECK_FALSE(s.head().informational());

    auto early_hints = scan(s, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n");
    CHECK(early_hints.status == ScanStatus::complete);
    CHECK(s.head().informational());
}

TEST_CASE("ambiguous response framing is rejected with 502", "[response][framing]") {
    struct Case {
        const char* description;
        std::string input;
    };
    const std::vector<Case> cases = {
        {"Content-Length and Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {"duplicate Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"},
        {"Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n"},
        {"invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n"},
        {"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"},
        {"Transfer-Encoding on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {"101 switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
        {"NUL in a value", "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n"s},
        {"bare CR in a value", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n"},
        {"invalid field name", "HTTP/1.1 200 OK\r\nX Y: z\r\n\r\n"},
        {"line without colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n"},
        {"obs-fold before any field", "HTTP/1.1 200 OK\r\n folded\r\n\r\n"},
        {"HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n"},
        {"not HTTP", "ICY 200 OK\r\n\r\n"},
        {"status 600", "HTTP/1.1 600 What\r\n\r\n"},
        {"status 099", "HTTP/1.1 099 What\r\n\r\n"},
        {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n"},
        {"status glued to reason", "HTTP/1.1 200OK\r\n\r\n"},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        ResponseHeadScanner s;
        auto out = scan(s, c.input);
        CHECK(out.status == ScanStatus::error);
        CHECK(out.error_status == 502);
    }
}

TEST_CASE("response heads are accepted where a proxy may be tolerant", "[response]") {
    ResponseHeadScanner s;

    auto bare_lf = scan(s, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
    REQUIRE(bare_lf.status == ScanStatus::complete);
    CHECK(s.head().content_length == 2);

    auto no_reason = scan(s, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(no_reason.status == ScanStatus::complete);
    CHECK(s.head().status == 404);
    CHECK(s.head().reason.empty());

    auto space_before_colon = scan(s, "HTTP/1.1 200 OK\r\nServer : x\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(space_before_colon.status == ScanStatus::complete);
    CHECK(s.head().headers[0].name == "Server");

    auto folded = scan(s, "HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\n\tpart three\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(folded.status == ScanStatus::complete);
    REQUIRE(s.head().headers.size() == 2);
    CHECK(s.head().headers[0].value == "part one    part two  \tpart three");

    auto leading_crlf = scan(s, "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK(leading_crlf.status == ScanStatus::complete);

    auto future_minor = scan(s, "HTTP/1.7 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK(future_minor.status == ScanStatus::complete);
    CHECK(s.head().minor_version == 1);
}

TEST_CASE("response head limits answer 502", "[response][limits]") {
    ResponseLimits limits;
    limits.max_head_bytes = 128;
    limits.max_header_count = 3;
    ResponseHeadScanner s(limits);
    auto too_big = scan(s, "HTTP/1.1 200 OK\r\nX: " + std::string(200, 'a') + "\r\n\r\n");
    CHECK(too_big.status == ScanStatus::error);
    CHECK(too_big.error_status == 502);
    auto too_many = scan(s, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    CHECK(too_many.status == ScanStatus::error);
    auto fits = scan(s, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    CHECK(fits.status == ScanStatus::complete);
}

TEST_CASE("a response head split into any pieces scans the same", "[response]") {
    std::string input = "HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nX: a\r\n b\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    ResponseHeadScanner whole;
    auto expected = scan(whole, input);
    REQUIRE(expected.status == ScanStatus::complete);
    for (size_t piece = 1; piece < 9; ++piece) {
        INFO("piece " << piece);
        ResponseHeadScanner s;
        auto out = scan(s, input, false, piece);
        CHECK(out.status == ScanStatus::complete);
        CHECK(out.consumed == expected.consumed);
        REQUIRE(s.head().headers.size() == whole.head().headers.size());
        for (size_t i = 0; i < s.head().headers.size(); ++i) {
            CHECK(s.head().headers[i].name == whole.head().headers[i].name);
            CHECK(s.head().headers[i].value == whole.head().headers[i].value);
        }
        CHECK(s.head().framing == BodyFraming::chunked);
    }
}

// One row per shape a lenient downstream could frame differently: refused (502, with the rule it broke) or accepted
// with the single reading the proxy passes on.
TEST_CASE("back-end answers are held to the request side's strictness", "[response][strict]") {
    struct Row {
        const char* description;
        std::string input;
        bool head_request;
        const char* refused;  // the error's reason; nullptr: accepted with the framing below
        BodyFraming framing;
        bool keep_alive;
        bool transfer_coded;
    };
    const auto ok = [](const char* d, std::string in, BodyFraming f, bool ka, bool coded = false, bool head = false) {
        return Row{d, std::move(in), head, nullptr, f, ka, coded};
    };
    const auto bad = [](const char* d, std::string in, const char* reason, bool head = false) {
        return Row{d, std::move(in), head, reason, BodyFraming::none, false, false};
    };
    const std::string s200 = "HTTP/1.1 200 OK\r\n";
    const std::vector<Row> rows = {
        // Lengths.
        bad("two different Content-Length values", s200 + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "duplicate Content-Length in response"),
        bad("two equal Content-Length values", s200 + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n",
            "duplicate Content-Length in response"),
        bad("Content-Length list", s200 + "Content-Length: 3, 3\r\n\r\n", "invalid Content-Length in response"),
        bad("Content-Length with a plus sign", s200 + "Content-Length: +3\r\n\r\n",
            "invalid Content-Length in response"),
        bad("negative Content-Length", s200 + "Content-Length: -3\r\n\r\n", "invalid Content-Length in response"),
        bad("Content-Length overflow", s200 + "Content-Length: 18446744073709551617\r\n\r\n",
            "invalid Content-Length in response"),
        bad("hex Content-Length", s200 + "Content-Length: 0x3\r\n\r\n", "invalid Content-Length in response"),
        bad("empty Content-Length", s200 + "Content-Length:\r\n\r\n", "invalid Content-Length in response"),
        bad("invalid Content-Length on a 304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 1x\r\n\r\n",
            "invalid Content-Length in response"),
        bad("duplicate Content-Length on an answer to HEAD", s200 + "Content-Length: 3\r\nContent-Length: 9\r\n\r\n",
            "duplicate Content-Length in response", true),
        // Transfer codings.
        ok("gzip alone: until close, re-chunked for the client", s200 + "Transfer-Encoding: gzip\r\n\r\n",
           BodyFraming::until_close, false, true),
        ok("gzip then chunked", s200 + "Transfer-Encoding: gzip, chunked\r\n\r\n", BodyFraming::chunked, true, true),
        ok("chunked in its own field after gzip",
           s200 + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", BodyFraming::chunked, true, true),
        bad("chunked then gzip", s200 + "Transfer-Encoding: chunked, gzip\r\n\r\n",
            "chunked not the last transfer coding"),
        bad("chunked then gzip in two fields", s200 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            "chunked not the last transfer coding"),
        bad("chunked twice", s200 + "Transfer-Encoding: chunked, chunked\r\n\r\n", "chunked applied twice in response"),
        bad("unknown coding", s200 + "Transfer-Encoding: xchunked\r\n\r\n", "unknown transfer coding in response"),
        bad("coding with a parameter", s200 + "Transfer-Encoding: chunked;q=1\r\n\r\n",
            "invalid Transfer-Encoding in response"),
        bad("empty list element", s200 + "Transfer-Encoding: gzip,,chunked\r\n\r\n",
            "invalid Transfer-Encoding in response"),
        bad("empty Transfer-Encoding", s200 + "Transfer-Encoding:\r\n\r\n", "invalid Transfer-Encoding in response"),
        bad("vertical tab before chunked", s200 + "Transfer-Encoding: \x0b" "chunked\r\n\r\n",
            "invalid character in response field"),
        bad("Transfer-Encoding on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "Transfer-Encoding in HTTP/1.0 response"),
        // Both.
        bad("Content-Length then Transfer-Encoding", s200 + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both Content-Length and Transfer-Encoding in response"),
        bad("Transfer-Encoding then Content-Length", s200 + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "both Content-Length and Transfer-Encoding in response"),
        bad("both on an answer to HEAD", s200 + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both Content-Length and Transfer-Encoding in response", true),
        bad("both on a 304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both Content-Length and Transfer-Encoding in response"),
        // Bodyless answers: no body whatever the fields say (bytes after them make the connection unusable).
        ok("204 with a Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", BodyFraming::none,
           true),
        ok("204 with chunked", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", BodyFraming::none,
           true),
        ok("100 with a Content-Length", "HTTP/1.1 100 Continue\r\nContent-Length: 10\r\n\r\n", BodyFraming::none,
           true),
        ok("304 with a Content-Length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", BodyFraming::none,
           true),
        ok("answer to HEAD with a Content-Length", s200 + "Content-Length: 10\r\n\r\n", BodyFraming::none, true, false,
           true),
        // A protocol switch: the proxy never forwards Upgrade.
        bad("101 with Upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            "protocol switch nobody asked for"),
        bad("101 without Upgrade", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "protocol switch nobody asked for"),
        // Status lines.
        bad("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version in response"),
        bad("HTTP/11", "HTTP/11 200 OK\r\n\r\n", "malformed status line"),
        bad("lower-case version", "http/1.1 200 OK\r\n\r\n", "malformed status line"),
        bad("two-digit code", "HTTP/1.1 20 OK\r\n\r\n", "invalid status code"),
        bad("four-digit code", "HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
        bad("letter in the code", "HTTP/1.1 2x0 OK\r\n\r\n", "invalid status code"),
        bad("code 600", "HTTP/1.1 600 What\r\n\r\n", "invalid status code"),
        bad("code 099", "HTTP/1.1 099 What\r\n\r\n", "invalid status code"),
        bad("code glued to the reason", "HTTP/1.1 200OK\r\n\r\n", "malformed status line"),
        bad("two spaces before the code", "HTTP/1.1  200 OK\r\n\r\n", "invalid status code"),
        bad("tab before the code", "HTTP/1.1\t200 OK\r\n\r\n", "malformed status line"),
        bad("space before the version", " HTTP/1.1 200 OK\r\n\r\n", "malformed status line"),
        bad("control character in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "invalid character in reason phrase"),
        bad("NUL in the reason", "HTTP/1.1 200 O\0K\r\n\r\n"s, "invalid character in reason phrase"),
        // Field syntax.
        bad("whitespace before the colon of Content-Length", s200 + "Content-Length : 3\r\n\r\n",
            "whitespace before colon in a framing field"),
        bad("tab before the colon of Transfer-Encoding", s200 + "Transfer-Encoding\t: chunked\r\n\r\n",
            "whitespace before colon in a framing field"),
        ok("whitespace before the colon of another field: removed", s200 + "Server : x\r\nContent-Length: 0\r\n\r\n",
           BodyFraming::content_length, true),
        bad("obs-fold in Content-Length", s200 + "Content-Length: 3\r\n 3\r\n\r\n", "obs-fold in a framing field"),
        bad("obs-fold in Transfer-Encoding", s200 + "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n",
            "obs-fold in a framing field"),
        ok("obs-fold in another field: unfolded", s200 + "X: a\r\n b\r\nContent-Length: 0\r\n\r\n",
           BodyFraming::content_length, true),
        bad("obs-fold before any field", s200 + " X: a\r\n\r\n", "obs-fold before first header"),
        bad("NUL in a value", s200 + "X: a\0b\r\n\r\n"s, "invalid character in response field"),
        bad("bare CR in a value", s200 + "X: a\rb\r\n\r\n", "invalid character in response field"),
        bad("control character in a value", s200 + "X: a\x01" "b\r\n\r\n", "invalid character in response field"),
        bad("DEL in a value", s200 + "X: a\x7f" "b\r\n\r\n", "invalid character in response field"),
        bad("bare CR ending a value", s200 + "X: a\r\r\n\r\n", "invalid character in response field"),
        bad("space in a name", s200 + "X Y: z\r\n\r\n", "invalid response field name"),
        bad("separator in a name", s200 + "X(: z\r\n\r\n", "invalid response field name"),
        bad("empty name", s200 + ": z\r\n\r\n", "invalid response field name"),
        bad("NUL in a name", s200 + "X\0: z\r\n\r\n"s, "invalid response field name"),
        bad("non-ASCII name", s200 + "\xc3\xa9t\xc3\xa9: z\r\n\r\n", "invalid response field name"),
        bad("line without colon", s200 + "nonsense\r\n\r\n", "response field line without colon"),
        bad("bare LF inside a value: a line without colon", s200 + "X: a\nb\r\n\r\n",
            "response field line without colon"),
    };
    for (const Row& r : rows) {
        INFO(r.description << ": " << test::printable(r.input));
        ResponseHeadScanner s;
        const Scanned out = scan(s, r.input, r.head_request);
        if (r.refused) {
            CHECK(out.status == ScanStatus::error);
            CHECK(out.error_status == 502);
            CHECK(std::string_view(s.error().reason) == r.refused);
        } else {
            REQUIRE(out.status == ScanStatus::complete);
            CHECK(s.head().framing == r.framing);
            CHECK(s.head().keep_alive == r.keep_alive);
            CHECK(s.head().transfer_coded == r.transfer_coded);
        }
    }
}

TEST_CASE("a 101 answers only a request that offered an upgrade, and names a protocol", "[response][upgrade]") {
    const std::string switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const std::string frame = "\x81\x05hello";
    ResponseHeadScanner s;

    s.start(false, true);
    const std::string input = switching + frame;
    ScanResult r = s.scan(input.data(), input.size());
    REQUIRE(r.status == ScanStatus::complete);
    CHECK(r.consumed == switching.size());  // what follows is the new protocol's, not a body
    CHECK(s.head().switching_protocols());
    CHECK_FALSE(s.head().informational());  // no further head follows
    CHECK(s.head().framing == BodyFraming::none);
    CHECK_FALSE(s.head().keep_alive);

    // Without an offer, the same answer is a switch nobody asked for.
    s.start(false, false);
    r = s.scan(switching.data(), switching.size());
    CHECK(r.status == ScanStatus::error);
    CHECK(std::string_view(s.error().reason) == "protocol switch nobody asked for");

    // With one, a 101 must still say what it switches to; and its framing fields are checked as on any answer.
    s.start(false, true);
    const std::string bare = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n";
    r = s.scan(bare.data(), bare.size());
    CHECK(r.status == ScanStatus::error);
    CHECK(std::string_view(s.error().reason) == "101 without Upgrade");
    s.start(false, true);
    const std::string two = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nContent-Length: 1\r\n"
                            "Content-Length: 2\r\n\r\n";
    r = s.scan(two.data(), two.size());
    CHECK(r.status == ScanStatus::error);

    // A 100 before the 101 is informational as ever; an offer does not change other answers.
    s.start(false, true);
    const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
    r = s.scan(cont.data(), cont.size());
    REQUIRE(r.status == ScanStatus::complete);
    CHECK(s.head().informational());
    s.start(false, true);
    const std::string plain = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    r = s.scan(plain.data(), plain.size());
    REQUIRE(r.status == ScanStatus::complete);
    CHECK(s.head().framing == BodyFraming::content_length);
    CHECK(s.head().keep_alive);
}
