// Fuzzes the request parser. The first byte chooses limits, a piece size and whether callbacks pause; the rest is
// the byte stream from the client. Invariants:
//  - the verdict and everything reported do not depend on how the stream was split or paused;
//  - a call never reports more body bytes than it consumed;
//  - whatever reaches on_request_head is unambiguous: token method and field names, no CR/LF/NUL in values, a single
//    Host on HTTP/1.1, never both Content-Length and Transfer-Encoding;
//  - a completed Content-Length body has exactly that length; errors carry one of the documented statuses.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/request_parser.hpp"

using namespace dlba::http;

namespace {

struct Trace : RequestCallbacks {
    std::string events;  // everything the callbacks saw, serialised; body pieces are concatenated
    bool pause = false;
    size_t body_bytes_in_call = 0;
    RequestHead head;

    Action on_request_head(const RequestHead& h) override {
        head = h;
        FUZZ_CHECK(is_token(h.method));
        FUZZ_CHECK(!h.target.empty());
        for (char c : h.target) FUZZ_CHECK(c > 0x20 && c < 0x7f);
        FUZZ_CHECK(h.minor_version <= 1);
        size_t hosts = 0, lengths = 0, encodings = 0;
        for (const Header& hd : h.headers) {
            FUZZ_CHECK(is_token(hd.name));
            for (char c : hd.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
            hosts += iequals(hd.name, "host");
            lengths += iequals(hd.name, "content-length");
            encodings += iequals(hd.name, "transfer-encoding");
        }
        FUZZ_CHECK(hosts <= 1);
        FUZZ_CHECK(h.minor_version == 0 || hosts == 1);
        FUZZ_CHECK(lengths <= 1);
        FUZZ_CHECK(lengths == 0 || encodings == 0);
        FUZZ_CHECK((h.framing == BodyFraming::chunked) == (encodings > 0));
        FUZZ_CHECK(h.framing != BodyFraming::until_close);
        events += "H[" + std::string(h.method) + " " + std::string(h.target) + " " +
                  std::to_string(h.minor_version) + " " + body_framing_name(h.framing) + " " +
                  std::to_string(h.content_length) + (h.keep_alive ? " ka" : " close") +
                  (h.expect_continue ? " 100" : "") + "]";
        for (const Header& hd : h.headers) events += std::string(hd.name) + ":" + std::string(hd.value) + "\n";
        body_total = 0;
        return pause ? Action::pause : Action::proceed;
    }
    Action on_body_data(std::span<const char> data) override {
        FUZZ_CHECK(!data.empty());
        body_bytes_in_call += data.size();
        body_total += data.size();
        events.append(data.data(), data.size());
        return pause ? Action::pause : Action::proceed;
    }
    Action on_message_complete() override {
        if (head.framing == BodyFraming::content_length) FUZZ_CHECK(body_total == head.content_length);
        if (head.framing == BodyFraming::none) FUZZ_CHECK(body_total == 0);
        events += "|C|";
        return pause ? Action::pause : Action::proceed;
    }
    uint64_t body_total = 0;
};

struct Outcome {
    std::string events;
    ParseStatus status;
    uint16_t error_status;
    size_t consumed;
};

Outcome run(std::string_view input, const RequestLimits& limits, size_t piece, bool pause) {
    Trace trace;
    trace.pause = pause;
    RequestParser parser(limits, trace);
    Outcome out{{}, ParseStatus::ok, 0, 0};
    size_t pos = 0;
    // Bounded: every call either consumes a byte or makes a callback, and each callback follows consumed bytes.
    for (size_t calls = 0; calls < 4 * input.size() + 16; ++calls) {
        size_t n = std::min(piece, input.size() - pos);
        trace.body_bytes_in_call = 0;
        ParseResult r = parser.execute(input.data() + pos, n);
        FUZZ_CHECK(r.consumed <= n);
        FUZZ_CHECK(trace.body_bytes_in_call <= r.consumed);
        pos += r.consumed;
        out.consumed = pos;
        out.status = r.status;
        if (r.status == ParseStatus::error || r.status == ParseStatus::done) break;
        if (r.status == ParseStatus::ok) {
            FUZZ_CHECK(r.consumed == n);
            if (pos == input.size()) break;
        }
    }
    out.events = std::move(trace.events);
    out.error_status = parser.error().status;
    if (out.status == ParseStatus::error) {
        uint16_t s = out.error_status;
        FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        out.consumed = 0;  // where exactly an error is noticed may depend on the split
    } else {
        FUZZ_CHECK(out.error_status == 0);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    uint8_t control = data[0];
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    RequestLimits limits;
    if (control & 0x80) {  // small limits, so the fuzzer reaches them
        limits.max_target_length = 32;
        limits.max_header_bytes = 128;
        limits.max_header_count = 4;
        limits.max_chunk_line = 16;
        limits.max_trailer_bytes = 32;
        limits.max_body_bytes = 64;
    }
    size_t piece = (control & 0x0f) + 1;

    Outcome whole = run(input, limits, input.size() + 1, false);
    Outcome split = run(input, limits, piece, (control & 0x40) != 0);
    FUZZ_CHECK(whole.status == split.status);
    FUZZ_CHECK(whole.error_status == split.error_status);
    FUZZ_CHECK(whole.consumed == split.consumed);
    FUZZ_CHECK(whole.events == split.events);
    return 0;
}
