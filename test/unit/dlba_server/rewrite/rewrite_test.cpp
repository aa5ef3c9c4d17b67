// What the back end and the client see: request heads rebuilt for the back end, response heads rebuilt for the
// client with cookie injection, and the proxy's own error answers.
#include <catch2/catch.hpp>

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "http/response_scanner.hpp"
#include "rewrite/redirect_writer.hpp"
#include "rewrite/request_writer.hpp"
#include "rewrite/response_writer.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

// Parses one request and returns the head the back end would get.
class Forward : public http::RequestCallbacks {
public:
    explicit Forward(ForwardContext ctx) : ctx_(ctx), parser_(http::RequestLimits{}, *this) {}

    std::string run(std::string_view raw) {
        out_.clear();
        const http::ParseResult r = parser_.execute(raw.data(), raw.size());
        REQUIRE(r.status != http::ParseStatus::error);
        return out_;
    }
    http::Action on_request_head(const http::RequestHead& head) override {
        write_request_head(head, ctx_, out_, scratch_);
        return http::Action::proceed;
    }
    http::Action on_body_data(std::span<const char>) override { return http::Action::proceed; }
    http::Action on_message_complete() override { return http::Action::proceed; }

private:
    ForwardContext ctx_;
    http::RequestParser parser_;
    std::string out_, scratch_;
};

ForwardContext context() {
    ForwardContext c;
    c.client_ip = "192.0.2.7";
    c.default_host = "10.77.0.100:80";
    return c;
}

struct Scanned {
    http::ResponseHeadScanner scanner;
    const http::ResponseHead& head;
    explicit Scanned(std::string_view raw, bool head_request = false, bool upgrade_offered = false)
        : head(scanner.head()) {
        scanner.start(head_request, upgrade_offered);
        const http::ScanResult r = scanner.scan(raw.data(), raw.size());
        REQUIRE(r.status == http::ScanStatus::complete);
    }
};

}  // namespace

TEST_CASE("the forwarded request drops hop-by-hop fields and adds X-Forwarded-For", "[rewrite][request]") {
    Forward f(context());
    const std::string out = f.run(
        "GET /a.html?x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\n"
        "X-Secret: 1\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n");
    CHECK(out ==
          "GET /a.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Forwarded-For: 192.0.2.7\r\n"
          "X-Forwarded-Proto: http\r\nConnection: close\r\n\r\n");
}

TEST_CASE("an upgrade the service passes on goes with its own Upgrade and Connection fields", "[rewrite][request]") {
    ForwardContext ctx = context();
    ctx.upgrade = "websocket";
    Forward f(ctx);
    // The client's Connection (and what it names) still stops here; the end-to-end WebSocket fields go on.
    const std::string out = f.run(
        "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: h2c, websocket\r\nConnection: keep-alive, Upgrade, "
        "HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n");
    CHECK(out ==
          "GET /chat HTTP/1.1\r\nHost: example.com\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n"
          "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    // Pooled back-end connections or not, the Connection field is the upgrade's alone.
    ctx.keep_alive = true;
    Forward pooled(ctx);
    const std::string again = pooled.run("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    CHECK(again.find("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") != std::string::npos);
    CHECK(again.find("close") == std::string::npos);
}

TEST_CASE("forwarding headers follow the forwarded setting and extend an existing chain", "[rewrite][request]") {
    const char* raw =
        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1\r\nX-Forwarded-Proto: ftp\r\nForwarded: for=10.1.1.1\r\n\r\n";
    ForwardContext c = context();
    c.tls = true;
    c.forwarded = ForwardedHeader::both;
    CHECK(Forward(c).run(raw) ==
          "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1, 192.0.2.7\r\n"
          "Forwarded: for=10.1.1.1, for=192.0.2.7;proto=https\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n");
    c.forwarded = ForwardedHeader::forwarded;
    CHECK(Forward(c).run("GET / HTTP/1.1\r\nHost: h\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nForwarded: for=192.0.2.7;proto=https\r\nConnection: close\r\n\r\n");
    c.forwarded = ForwardedHeader::none;
    CHECK(Forward(c).run(raw) ==
          "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1\r\nX-Forwarded-Proto: ftp\r\n"
          "Forwarded: for=10.1.1.1\r\nConnection: close\r\n\r\n");
}

TEST_CASE("the injected cookie is stripped from Cookie before forwarding", "[rewrite][request]") {
    ForwardContext c = context();
    c.forwarded = ForwardedHeader::none;
    c.strip_cookie = "SpServer";
    Forward f(c);
    CHECK(f.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; SpServer=2; b=3\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=3\r\nConnection: close\r\n\r\n");
    // Only the injected cookie: the whole field goes.
    CHECK(f.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: SpServer=2\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    // Untouched bytes when there is nothing to strip.
    CHECK(f.run("GET / HTTP/1.1\r\nHost: h\r\nCookie:  a=1;b=2\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1;b=2\r\nConnection: close\r\n\r\n");
    c.strip_cookie = "";
    CHECK(Forward(c).run("GET / HTTP/1.1\r\nHost: h\r\nCookie: SpServer=2\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: SpServer=2\r\nConnection: close\r\n\r\n");
}

TEST_CASE("the pin cookie is stripped too, with or without the injected one", "[rewrite][request][pin]") {
    ForwardContext c = context();
    c.forwarded = ForwardedHeader::none;
    c.strip_pin = "SpPin";
    Forward f(c);
    CHECK(f.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; SpPin=web1.00; SpServer=2; b=3\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; SpServer=2; b=3\r\nConnection: close\r\n\r\n");
    c.strip_cookie = "SpServer";
    Forward both(c);
    CHECK(both.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; SpPin=web1.00; SpServer=2; b=3\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=3\r\nConnection: close\r\n\r\n");
    CHECK(both.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: SpPin=x\r\nCookie: SpServer=2\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    // A name that only begins like it stays.
    CHECK(both.run("GET / HTTP/1.1\r\nHost: h\r\nCookie: SpPinX=1\r\n\r\n") ==
          "GET / HTTP/1.1\r\nHost: h\r\nCookie: SpPinX=1\r\nConnection: close\r\n\r\n");
}

TEST_CASE("body framing is rewritten from the parsed head", "[rewrite][request]") {
    ForwardContext c = context();
    c.forwarded = ForwardedHeader::none;
    c.keep_alive = true;
    Forward f(c);
    CHECK(f.run("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello") ==
          "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    CHECK(f.run("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") ==
          "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string body;
    append_chunk(body, "hello");
    append_chunk(body, "");
    append_chunk(body, std::string(26, 'x'));
    append_last_chunk(body);
    CHECK(body == "5\r\nhello\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n");
}

TEST_CASE("an HTTP/1.0 request without Host gets one for the back end", "[rewrite][request]") {
    ForwardContext c = context();
    c.forwarded = ForwardedHeader::none;
    CHECK(Forward(c).run("GET /x HTTP/1.0\r\n\r\n") ==
          "GET /x HTTP/1.1\r\nHost: 10.77.0.100:80\r\nConnection: close\r\n\r\n");
    CHECK(Forward(c).run("GET http://a.example/x HTTP/1.0\r\n\r\n") ==
          "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n");
}

TEST_CASE("the response head keeps end-to-end fields and sets Connection for the client", "[rewrite][response]") {
    Scanned s("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nConnection: keep-alive, X-Hop\r\n"
              "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Backend: web1\r\n\r\n");
    std::string out;
    write_response_head(s.head, {1, false, false}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nX-Backend: web1\r\n\r\n");
    out.clear();
    write_response_head(s.head, {1, true, false}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nX-Backend: web1\r\nConnection: close\r\n\r\n");
    out.clear();
    write_response_head(s.head, {0, false, false}, {}, out);
    CHECK(out ==
          "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nX-Backend: web1\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("a chunked response keeps its coding for HTTP/1.1 and loses it when de-chunked", "[rewrite][response]") {
    Scanned s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string out;
    write_response_head(s.head, {1, false, false}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    out.clear();
    write_response_head(s.head, {0, true, true}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

TEST_CASE("a rewritten (CDN) body: no Content-Length, chunked to HTTP/1.1, none to HTTP/1.0, weak ETag",
          "[rewrite][response][cdn]") {
    Scanned len("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\nETag: \"abc\"\r\n\r\n");
    std::string out;
    write_response_head(len.head, {1, false, false, false, true}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: W/\"abc\"\r\nTransfer-Encoding: chunked\r\n\r\n");
    out.clear();
    write_response_head(len.head, {0, true, false, false, true}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: W/\"abc\"\r\nConnection: close\r\n\r\n");
    // Already chunked: one Transfer-Encoding field, not two; a weak ETag stays as it is.
    Scanned chunked("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: W/\"x\"\r\n\r\n");
    out.clear();
    write_response_head(chunked.head, {1, false, false, false, true}, {}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nETag: W/\"x\"\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST_CASE("the framing fields the client gets give one reading of the body", "[rewrite][response][strict]") {
    struct Row {
        const char* description;
        std::string input;
        bool head_request;
        ResponseContext ctx;
        std::string expected;
    };
    const std::vector<Row> rows = {
        {"a 204 loses a Content-Length it must not have", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
         false, {1, false, false}, "HTTP/1.1 204 No Content\r\n\r\n"},
        {"a 204 loses Transfer-Encoding", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", false,
         {1, false, false}, "HTTP/1.1 204 No Content\r\n\r\n"},
        {"a 103 loses a Content-Length", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 3\r\n\r\n",
         false, {1, false, false}, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"},
        {"a 304 keeps the length of what a GET would get", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
         false, {1, false, false}, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
        {"an answer to HEAD keeps its length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true,
         {1, false, false}, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"},
        {"Connection naming Content-Length does not remove the length",
         "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 3\r\n\r\n", false, {1, false, false},
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"},
        {"Connection naming Transfer-Encoding does not remove chunked",
         "HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n", false,
         {1, false, false}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {"a close-delimited gzip body is re-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
         {1, false, false, true}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {"an HTTP/1.0 client never gets Transfer-Encoding",
         "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, {0, true, false},
         "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n"},
        {"a repaired field is sent without the whitespace before its colon",
         "HTTP/1.1 200 OK\r\nServer : x\r\nContent-Length: 0\r\n\r\n", false, {1, false, false},
         "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 0\r\n\r\n"},
    };
    for (const Row& r : rows) {
        INFO(r.description);
        Scanned s(r.input, r.head_request);
        std::string out;
        write_response_head(s.head, r.ctx, {}, out);
        CHECK(out == r.expected);
    }
}

TEST_CASE("a tolerated back-end head is sent normalised", "[rewrite][response]") {
    // Bare LF, a missing reason, obs-fold (unfolded to spaces): the scanner accepts them, the client gets CRLFs.
    Scanned s("HTTP/1.0 404\nX-Long: a\n  b\nContent-Length: 0\n\n");
    std::string out;
    write_response_head(s.head, {1, true, false}, {}, out);
    CHECK(out == "HTTP/1.1 404 Not Found\r\nX-Long: a   b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST_CASE("the pin's Set-Cookie follows the injected ones", "[rewrite][response][pin]") {
    Scanned s("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=a; Path=/\r\nContent-Length: 0\r\n\r\n");
    std::string out;
    ResponseContext ctx{1, false, false};
    ctx.pin_cookie = "SpPin=web1.00; Path=/banking/; Max-Age=60; HttpOnly";
    write_response_head(s.head, ctx, {"SpServer=2; Path=/"}, out);
    CHECK(out == "HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=a; Path=/\r\nContent-Length: 0\r\n"
                 "Set-Cookie: SpServer=2; Path=/\r\nSet-Cookie: SpPin=web1.00; Path=/banking/; Max-Age=60; HttpOnly\r\n"
                 "\r\n");
}

TEST_CASE("an interim 100 Continue is passed on without a Connection field", "[rewrite][response]") {
    Scanned s("HTTP/1.1 100 Continue\r\n\r\n");
    std::string out;
    write_response_head(s.head, {1, true, false}, {}, out);
    CHECK(out == "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("a 101 keeps its Upgrade field, says Connection: Upgrade and carries an injected cookie", "[rewrite][response]") {
    Scanned s("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade, X-Hop\r\nX-Hop: 1\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nContent-Length: 0\r\n\r\n",
              false, true);
    std::string out;
    write_response_head(s.head, {1, false, false}, {"SpServer=2; Path=/"}, out);
    CHECK(out == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: SpServer=2; Path=/\r\n"
                 "Connection: Upgrade\r\n\r\n");
}

TEST_CASE("cookie injection copies the session cookie's attributes", "[rewrite][cookie]") {
    Scanned s("HTTP/1.1 200 OK\r\nSet-Cookie: theme=dark; Path=/\r\n"
              "Set-Cookie: JSESSIONID=abc; Path=/app; Domain=example.com; Max-Age=3600; Secure; HttpOnly; "
              "SameSite=Lax\r\nContent-Length: 0\r\n\r\n");
    std::vector<std::string> inject;
    cookie_injections(s.head, "JSESSIONID", "SpServer", "2", false, 0, inject);
    REQUIRE(inject.size() == 1);
    CHECK(inject[0] == "SpServer=2; Path=/app; Domain=example.com; Max-Age=3600; Secure; HttpOnly; SameSite=Lax");
    std::string out;
    write_response_head(s.head, {1, false, false}, inject, out);
    CHECK(out ==
          "HTTP/1.1 200 OK\r\nSet-Cookie: theme=dark; Path=/\r\nSet-Cookie: JSESSIONID=abc; Path=/app; "
          "Domain=example.com; Max-Age=3600; Secure; HttpOnly; SameSite=Lax\r\nContent-Length: 0\r\n"
          "Set-Cookie: SpServer=2; Path=/app; Domain=example.com; Max-Age=3600; Secure; HttpOnly; SameSite=Lax\r\n\r\n");
}

TEST_CASE("deleting the session cookie deletes the injected one", "[rewrite][cookie]") {
    Scanned s("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n"
              "Content-Length: 0\r\n\r\n");
    std::vector<std::string> inject;
    cookie_injections(s.head, "JSESSIONID", "SpServer", "2", false, 1700000000, inject);
    REQUIRE(inject.size() == 1);
    CHECK(inject[0] == "SpServer=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("no session cookie, no injection unless the request was rerouted", "[rewrite][cookie]") {
    Scanned s("HTTP/1.1 200 OK\r\nSet-Cookie: other=1\r\nSet-Cookie: broken\r\nContent-Length: 0\r\n\r\n");
    std::vector<std::string> inject;
    cookie_injections(s.head, "JSESSIONID", "SpServer", "2", false, 0, inject);
    CHECK(inject.empty());
    cookie_injections(s.head, "JSESSIONID", "SpServer", "3", true, 0, inject);
    REQUIRE(inject.size() == 1);
    CHECK(inject[0] == "SpServer=3; Path=/");
    // Rerouted and a session starts: one injection, with the session's attributes.
    Scanned t("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=x; Path=/shop\r\nContent-Length: 0\r\n\r\n");
    inject.clear();
    cookie_injections(t.head, "JSESSIONID", "SpServer", "3", true, 0, inject);
    REQUIRE(inject.size() == 1);
    CHECK(inject[0] == "SpServer=3; Path=/shop");
}

TEST_CASE("the proxy's own answers are complete responses", "[rewrite][error]") {
    std::string out;
    write_error_response(503, false, out);
    CHECK(out ==
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
          "Cache-Control: no-store\r\n\r\nService Unavailable\n");
    out.clear();
    write_error_response(431, true, out);
    CHECK(out.find("HTTP/1.1 431 Request Header Fields Too Large\r\n") == 0);
    CHECK(out.find("\r\nConnection: close\r\n") != std::string::npos);
    for (uint16_t status : {400, 408, 413, 414, 501, 502, 504, 505}) CHECK(std::string(status_reason(status)) != "Unknown");
}

TEST_CASE("a redirect answer: status line for the code, Location expanded, no body, Connection as asked",
          "[rewrite][redirect]") {
    const auto t = dlba::RedirectTemplate::parse("https://web1.example.com/%d%q", nullptr);
    REQUIRE(t);
    RedirectAnswer a;
    a.location = &*t;
    a.request = {"www.acme.com", "80", "shop/cart", "?item=7"};
    std::string out = "prefix|";
    write_redirect_response(a, out);
    CHECK(out == "prefix|HTTP/1.1 302 Found\r\nLocation: https://web1.example.com/shop/cart?item=7\r\n"
                 "Content-Length: 0\r\n\r\n");
    for (auto [code, reason] : {std::pair{301, "Moved Permanently"}, {303, "See Other"}, {307, "Temporary Redirect"},
                                {308, "Permanent Redirect"}}) {
        out.clear();
        a.code = static_cast<uint16_t>(code);
        write_redirect_response(a, out);
        CHECK(out.rfind("HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n", 0) == 0);
    }
    out.clear();
    a.code = 302;
    a.close = true;
    a.cookie_name = "SpServer";
    a.cookie_value = "web1";
    write_redirect_response(a, out);
    CHECK(out == "HTTP/1.1 302 Found\r\nLocation: https://web1.example.com/shop/cart?item=7\r\nContent-Length: 0\r\n"
                 "Set-Cookie: SpServer=web1; Path=/\r\nConnection: close\r\n\r\n");
    out.clear();
    a.close = false;
    a.cookie_name = {};
    a.client_minor = 0;  // an HTTP/1.0 client that keeps the connection is told so
    write_redirect_response(a, out);
    CHECK(out.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
}
