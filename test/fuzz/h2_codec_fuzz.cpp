// Fuzzes the HTTP/2 input path: client frames -> nghttp2 (HTTP messaging validation on) -> H2RequestBuilder ->
// the RequestHead the policies and the request writer see; answers go back through the data provider, trailers
// included, and the H1ResponseReader reads an answer built from the input's tail. The client preface is prepended,
// so the input is frames. The first byte picks the limits and a piece size. Invariants:
//  - every RequestHead that reaches the sink is what HTTP/1.1 would carry: a token method, an origin-form (or "*")
//    target without controls or spaces, a host, lowercase token names without connection-specific fields or
//    CR/LF/NUL in values, at most one cookie field, framing none / content_length / chunked;
//  - events come in order per stream (head, body, end), nothing after the end of a request;
//  - the limits hold: a head over the header-list size or field count is refused (431), never forwarded.
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/h2_codec.hpp"
#include "http/h2_response.hpp"

using namespace dlba::http;

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Sink : H2Sink {
    H2Codec codec;
    H2RequestLimits limits;
    struct State {
        bool head = false, ended = false, closed = false;
        size_t given = 0;
    };
    std::map<int32_t, State> st;

    void on_request(int32_t id, const RequestHead& h) override {
        State& s = st[id];
        FUZZ_CHECK(!s.head && !s.closed);
        s.head = true;
        FUZZ_CHECK(is_token(h.method));
        FUZZ_CHECK(h.method != "CONNECT");
        FUZZ_CHECK(!h.target.empty() && h.target.size() <= limits.max_target_length);
        FUZZ_CHECK(h.target[0] == '/' || h.target == "*");
        for (char c : h.target) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
        FUZZ_CHECK(!h.host.empty());
        FUZZ_CHECK(h.framing != BodyFraming::until_close);
        size_t cookies = 0;
        FUZZ_CHECK(h.headers.size() <= limits.max_header_count + 1);
        for (const Header& f : h.headers) {
            FUZZ_CHECK(is_token(f.name));
            for (char c : f.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
            FUZZ_CHECK(f.name != "connection" && f.name != "transfer-encoding" && f.name != "upgrade" &&
                       f.name != "keep-alive" && f.name != "proxy-connection" && f.name != "te" &&
                       f.name != "host" && f.name != "content-length");
            for (char c : f.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
            cookies += f.name == "cookie";
        }
        FUZZ_CHECK(cookies <= 1);
        // Answer at once: a small body and a trailer, through the data provider.
        const Header fields[] = {{"content-type", "text/plain"}};
        codec.respond(id, 200, fields, true);
    }
    void on_refused(int32_t id, uint16_t status) override {
        State& s = st[id];
        FUZZ_CHECK(!s.head);
        FUZZ_CHECK(status == 400 || status == 413 || status == 414 || status == 431 || status == 501);
        codec.respond(id, status, {}, false);
    }
    void on_body(int32_t id, std::span<const char> d) override {
        State& s = st[id];
        FUZZ_CHECK(!s.ended);  // (a refused or reset stream's DATA may still come: no head needed)
        codec.consume(id, d.size());
    }
    void on_request_end(int32_t id) override {
        State& s = st[id];
        FUZZ_CHECK(!s.ended);
        s.ended = true;
    }
    void on_close(int32_t id, uint32_t) override { st[id].closed = true; }
    H2Body read_body(int32_t id, char* buf, size_t len) override {
        State& s = st[id];
        H2Body b;
        const std::string_view body = "answer body";
        b.n = std::min(len, body.size() - s.given);
        std::memcpy(buf, body.data() + s.given, b.n);
        s.given += b.n;
        if (s.given == body.size()) {
            const Header t[] = {{"x-trailer", "1"}};
            codec.trailers(id, t);
            b.eof = b.trailers = true;
        }
        return b;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t mode = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    Sink sink;
    H2Settings settings;
    settings.max_concurrent_streams = (mode & 1) ? 2 : 100;
    settings.max_header_list_bytes = (mode & 2) ? 1024 : 65536;
    settings.reset_burst = (mode & 4) ? 5 : 1000;
    settings.max_empty_frames = (mode & 4) ? 3 : 100;
    sink.limits.max_header_count = (mode & 8) ? 4 : 100;
    sink.limits.max_target_length = (mode & 8) ? 32 : 8192;
    if (!sink.codec.start(settings, sink.limits, sink)) return 0;
    const size_t piece = (mode >> 4) == 0 ? input.size() + kPreface.size() : (mode >> 4);
    std::string stream(kPreface);
    stream.append(input);
    std::string out;
    for (size_t pos = 0; pos < stream.size(); pos += piece) {
        const std::string_view part = std::string_view(stream).substr(pos, piece);
        const bool ok = sink.codec.receive(part.data(), part.size());
        out.clear();
        sink.codec.send(out, 1 << 20);
        if (!ok) break;
    }
    // The answer reader on the input itself, as if it were a back end's answer to a GET.
    H1ResponseReader reader;
    reader.start(mode & 1);
    size_t pos = 0;
    for (int guard = 0; guard < 100000 && pos <= input.size(); ++guard) {
        const H1Step s = reader.step(input.data() + pos, input.size() - pos, 1 + (mode >> 4));
        FUZZ_CHECK(s.consumed <= input.size() - pos);
        FUZZ_CHECK(s.data.size() <= s.consumed);
        pos += s.consumed;
        if (s.event == H1Event::head || s.event == H1Event::interim || s.event == H1Event::trailers) {
            for (const Header& f : reader.fields()) {
                for (char c : f.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
                FUZZ_CHECK(f.name != "connection" && f.name != "transfer-encoding");
            }
        }
        if (s.event == H1Event::end || s.event == H1Event::error) break;
        if (s.event == H1Event::need_more && pos == input.size()) {
            reader.end_of_input();
            break;
        }
    }
    return 0;
}
