// An HTTP/1.1 answer read back into what an h2 stream carries: the fields without hop-by-hop ones and lowercased,
// the body de-chunked, trailers kept, interim heads, close-delimited bodies ended by the caller.
#include <catch2/catch.hpp>

#include <string>

#include "http/h2_response.hpp"

using namespace dlba::http;

namespace {

struct Read {
    std::vector<std::pair<std::string, std::string>> fields, trailers;
    std::vector<uint16_t> interim;
    uint16_t status = 0;
    std::string body;
    bool ended = false, failed = false;
};

std::string value_of(const std::vector<std::pair<std::string, std::string>>& f, const std::string& n) {
    for (const auto& [k, v] : f)
        if (k == n) return v;
    return "<none>";
}

// Feeds `in` in pieces of `piece` bytes, taking at most `max` body bytes a step.
Read read_all(std::string_view in, size_t piece, size_t max, bool head_request = false, bool eof = false) {
    H1ResponseReader r;
    r.start(head_request);
    Read out;
    std::string pending;
    size_t pos = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        if (pending.empty() && pos < in.size()) {
            pending.assign(in.substr(pos, piece));
            pos += pending.size();
        }
        const H1Step s = r.step(pending.data(), pending.size(), max);
        const std::string data(s.data.data(), s.data.size());
        pending.erase(0, s.consumed);
        switch (s.event) {
            case H1Event::head:
                out.status = r.status();
                for (const Header& h : r.fields()) out.fields.emplace_back(h.name, h.value);
                break;
            case H1Event::interim: out.interim.push_back(r.status()); break;
            case H1Event::data: out.body += data; break;
            case H1Event::trailers:
                for (const Header& h : r.trailers()) out.trailers.emplace_back(h.name, h.value);
                break;
            case H1Event::end: out.ended = true; return out;
            case H1Event::error: out.failed = true; return out;
            case H1Event::need_more:
                if (pending.empty() && pos >= in.size()) {
                    if (eof) {
                        const H1Event e = r.end_of_input();
                        out.ended = e == H1Event::end;
                        out.failed = e == H1Event::error;
                    }
                    return out;
                }
                break;
        }
    }
    FAIL("no end");
    return out;
}

}  // namespace

TEST_CASE("h1 to h2: fields lowercased, hop-by-hop dropped, content-length kept", "[h2]") {
    const std::string in =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: t=5\r\n"
        "Set-Cookie: SpServer=web1; Path=/\r\nSet-Cookie: a=b\r\nContent-Length: 5\r\n\r\nhello";
    for (size_t piece : {size_t{1}, size_t{7}, in.size()}) {
        CAPTURE(piece);
        const Read r = read_all(in, piece, 3);
        CHECK(r.status == 200);
        CHECK(r.ended);
        CHECK(r.body == "hello");
        CHECK(value_of(r.fields, "content-type") == "text/plain");
        CHECK(value_of(r.fields, "content-length") == "5");
        CHECK(value_of(r.fields, "connection") == "<none>");
        CHECK(value_of(r.fields, "x-hop") == "<none>");
        CHECK(value_of(r.fields, "keep-alive") == "<none>");
        int cookies = 0;
        for (const auto& f : r.fields) cookies += f.first == "set-cookie";
        CHECK(cookies == 2);
    }
}

TEST_CASE("h1 to h2: chunked becomes the bytes, trailers are kept", "[h2]") {
    const std::string in =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n"
        "0\r\nX-Sum: 42\r\nContent-Length: 9\r\n\r\n";
    for (size_t piece : {size_t{1}, size_t{5}, in.size()}) {
        CAPTURE(piece);
        const Read r = read_all(in, piece, 4);
        CHECK(r.ended);
        CHECK(r.body == "hello world");
        CHECK(value_of(r.fields, "transfer-encoding") == "<none>");
        CHECK(value_of(r.fields, "trailer") == "<none>");
        CHECK(value_of(r.trailers, "x-sum") == "42");
        CHECK(value_of(r.trailers, "content-length") == "<none>");
    }
    const Read plain = read_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 2, 100);
    CHECK(plain.ended);
    CHECK(plain.body == "abc");
    CHECK(plain.trailers.empty());
}

TEST_CASE("h1 to h2: interim heads, bodiless answers, close-delimited bodies", "[h2]") {
    Read r = read_all("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", 3, 10);
    CHECK(r.interim == std::vector<uint16_t>{100});
    CHECK(r.status == 204);
    CHECK(r.ended);
    r = read_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 100, 10, true);  // HEAD
    CHECK(r.ended);
    CHECK(value_of(r.fields, "content-length") == "10");
    r = read_all("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", 4, 5, false, true);
    CHECK(r.ended);
    CHECK(r.body == "until the end");
    r = read_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100, 10, false, true);
    CHECK(r.failed);  // cut: the stream is reset
}

TEST_CASE("h1 to h2: what h2 cannot carry is an error", "[h2]") {
    CHECK(read_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 100, 10).failed);
    CHECK(read_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", 100, 10).failed);
    CHECK(read_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100, 10).failed);
    CHECK(read_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 100, 10).failed);
    CHECK(read_all("garbage\r\n\r\n", 100, 10).failed);
}
