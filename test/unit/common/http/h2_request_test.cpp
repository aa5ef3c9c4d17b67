// An HTTP/2 header block turned into the HTTP/1.1 RequestHead: pseudo fields, :authority as Host, cookie fields
// joined, framing from content-length and END_STREAM, and what RFC 9113 §8 makes malformed (a stream error) or a
// limit makes an answer.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "http/h2_request.hpp"

using namespace dlba::http;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields basic(const Fields& extra = {}) {
    Fields f{{":method", "GET"}, {":scheme", "https"}, {":authority", "web.example"}, {":path", "/a?b=1"}};
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
}

H2Result build(H2RequestBuilder& b, const Fields& fields, bool end_stream, RequestHead& head) {
    b.start();
    for (const auto& [n, v] : fields) b.add(n, v);
    return b.finish(end_stream, head);
}

std::string field(const RequestHead& h, std::string_view name) {
    for (const Header& f : h.headers)
        if (f.name == name) return std::string(f.value);
    return "<none>";
}

}  // namespace

TEST_CASE("h2 request: pseudo fields become method, target and host", "[h2]") {
    H2RequestBuilder b;
    RequestHead h;
    const H2Result r = build(b, basic({{"accept", "*/*"}}), true, h);
    REQUIRE(r.verdict == H2Verdict::ok);
    CHECK(h.method == "GET");
    CHECK(h.target == "/a?b=1");
    CHECK(h.host == "web.example");
    CHECK(h.minor_version == 1);
    CHECK(h.framing == BodyFraming::none);
    CHECK(h.keep_alive);
    REQUIRE(h.headers.size() == 1);
    CHECK(field(h, "accept") == "*/*");
}

TEST_CASE("h2 request: split cookie fields are joined with '; ' (RFC 9113 8.2.3)", "[h2]") {
    H2RequestBuilder b;
    RequestHead h;
    REQUIRE(build(b, basic({{"cookie", "a=1"}, {"x", "y"}, {"cookie", "SpServer=web2"}, {"cookie", "c=3"}}), true, h)
                .verdict == H2Verdict::ok);
    CHECK(field(h, "cookie") == "a=1; SpServer=web2; c=3");
    CHECK(h.headers.size() == 2);
}

TEST_CASE("h2 request: framing from content-length and END_STREAM", "[h2]") {
    H2RequestBuilder b;
    RequestHead h;
    Fields post = basic();
    post[0].second = "POST";
    REQUIRE(build(b, post, false, h).verdict == H2Verdict::ok);
    CHECK(h.framing == BodyFraming::chunked);  // length unknown: chunked toward the back end
    Fields with_length = post;
    with_length.push_back({"content-length", "12"});
    REQUIRE(build(b, with_length, false, h).verdict == H2Verdict::ok);
    CHECK(h.framing == BodyFraming::content_length);
    CHECK(h.content_length == 12);
    CHECK(field(h, "content-length") == "<none>");  // written again by the request writer
    CHECK(build(b, with_length, true, h).verdict == H2Verdict::reset);  // a length but no body
}

TEST_CASE("h2 request: host without :authority, and the two must agree", "[h2]") {
    H2RequestBuilder b;
    RequestHead h;
    Fields f{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.example:8080"}};
    REQUIRE(build(b, f, true, h).verdict == H2Verdict::ok);
    CHECK(h.host == "h.example:8080");
    CHECK(field(h, "host") == "<none>");
    CHECK(build(b, basic({{"host", "other.example"}}), true, h).verdict == H2Verdict::reset);
    CHECK(build(b, basic({{"host", "web.example"}}), true, h).verdict == H2Verdict::ok);
    Fields none{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}};
    const H2Result r = build(b, none, true, h);
    CHECK(r.verdict == H2Verdict::answer);
    CHECK(r.status == 400);
}

TEST_CASE("h2 request: what RFC 9113 makes malformed is a stream error", "[h2]") {
    H2RequestBuilder b;
    RequestHead h;
    for (const Fields& f : std::vector<Fields>{
             basic({{"connection", "keep-alive"}}),
             basic({{"transfer-encoding", "chunked"}}),
             basic({{"upgrade", "websocket"}}),
             basic({{"keep-alive", "timeout=5"}}),
             basic({{"proxy-connection", "close"}}),
             basic({{"te", "gzip"}}),
             basic({{"Accept", "x"}}),
             basic({{"x", "a\r\nb"}}),
             basic({{"content-length", "1,1"}}),
             basic({{":path", "/again"}}),
             basic({{":protocol", "websocket"}}),
             {{":method", "GET"}, {"x", "1"}, {":path", "/"}, {":scheme", "http"}, {":authority", "a"}},
             {{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}},
             {{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "relative"}},
             {{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "*"}},
             {{":scheme", "http"}, {":authority", "a"}, {":path", "/"}},
             {{":method", "G T"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}},
         }) {
        CAPTURE(f);
        CHECK(build(b, f, true, h).verdict == H2Verdict::reset);
    }
    CHECK(build(b, basic({{"te", "trailers"}}), true, h).verdict == H2Verdict::ok);
    CHECK(h.headers.empty());  // TE is hop-by-hop
    Fields options{{":method", "OPTIONS"}, {":scheme", "http"}, {":authority", "a"}, {":path", "*"}};
    REQUIRE(build(b, options, true, h).verdict == H2Verdict::ok);
    CHECK(h.form == TargetForm::asterisk);
}

TEST_CASE("h2 request: limits answer 431, 414, 413; CONNECT 501", "[h2]") {
    H2RequestLimits l;
    l.max_header_list_bytes = 1024;
    l.max_header_count = 3;
    l.max_target_length = 16;
    l.max_body_bytes = 100;
    H2RequestBuilder b(l);
    RequestHead h;
    H2Result r = build(b, basic({{"big", std::string(1000, 'x')}}), true, h);
    CHECK(r.verdict == H2Verdict::answer);
    CHECK(r.status == 431);
    CHECK(b.over_header_limit());
    r = build(b, basic({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}), true, h);
    CHECK(r.status == 431);
    r = build(b, basic({{":path", "/"}}), true, h);  // repeated :path: reset, not 431
    CHECK(r.verdict == H2Verdict::reset);
    Fields long_path{{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/0123456789abcdefgh"}};
    r = build(b, long_path, true, h);
    CHECK(r.status == 414);
    Fields post = basic({{"content-length", "101"}});
    post[0].second = "POST";
    r = build(b, post, false, h);
    CHECK(r.status == 413);
    Fields connect{{":method", "CONNECT"}, {":authority", "a:443"}};
    r = build(b, connect, false, h);
    CHECK(r.verdict == H2Verdict::answer);
    CHECK(r.status == 501);
    // The builder is reusable: a good request after the refused ones.
    CHECK(build(b, basic(), true, h).verdict == H2Verdict::ok);
    CHECK(h.target == "/a?b=1");
}
