// Fuzzes what the proxy does with a back end's response: the head scanner (whole and split must agree; an accepted
// head leaves one reading of its framing: at most one valid Content-Length, never beside Transfer-Encoding, no
// control characters in any value), the body
// decoder on what follows the head (never more data than consumed; a Content-Length body is exactly that long), and
// cookie injection over the response's Set-Cookie headers (every injected header re-parses to the injected name with
// the session cookie's attributes, and contains nothing that could end a header line).
// The first byte chooses a HEAD request, a piece size and the clock.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/body_decoder.hpp"
#include "http/cookie.hpp"
#include "http/response_scanner.hpp"

using namespace dlba::http;

namespace {

struct Scan {
    ScanStatus status;
    size_t consumed;
    uint16_t error_status;
    std::string summary;
};

Scan scan(ResponseHeadScanner& s, std::string_view input, bool head_request, size_t piece) {
    s.start(head_request);
    Scan out{ScanStatus::need_more, 0, 0, {}};
    for (size_t pos = 0; pos < input.size() && out.status == ScanStatus::need_more;) {
        size_t n = std::min(piece, input.size() - pos);
        ScanResult r = s.scan(input.data() + pos, n);
        FUZZ_CHECK(r.consumed <= n);
        if (r.status == ScanStatus::need_more) FUZZ_CHECK(r.consumed == n);
        pos += r.consumed;
        out.consumed = pos;
        out.status = r.status;
    }
    out.error_status = s.error().status;
    if (out.status == ScanStatus::error) {
        FUZZ_CHECK(out.error_status == 502);
        out.consumed = 0;
    }
    if (out.status == ScanStatus::complete) {
        const ResponseHead& h = s.head();
        FUZZ_CHECK(h.status >= 100 && h.status <= 599 && h.status != 101);
        out.summary = std::to_string(h.status) + " " + body_framing_name(h.framing) + " " +
                      std::to_string(h.content_length) + (h.keep_alive ? " ka\n" : " close\n");
        size_t lengths = 0, codings = 0;
        for (const Header& hd : h.headers) {
            FUZZ_CHECK(is_token(hd.name));
            FUZZ_CHECK(is_field_value(hd.value));
            if (iequals(hd.name, "content-length")) {
                ++lengths;
                FUZZ_CHECK(parse_content_length(hd.value).has_value());
            }
            if (iequals(hd.name, "transfer-encoding")) ++codings;
            out.summary += std::string(hd.name) + ":" + std::string(hd.value) + "\n";
        }
        FUZZ_CHECK(lengths <= 1);
        FUZZ_CHECK(lengths == 0 || codings == 0);
        if (codings > 0) FUZZ_CHECK(h.minor_version == 1);
        if (h.framing == BodyFraming::content_length) FUZZ_CHECK(lengths == 1);
        if (h.framing == BodyFraming::chunked || h.transfer_coded) FUZZ_CHECK(codings > 0);
        if (h.framing == BodyFraming::until_close) FUZZ_CHECK(!h.keep_alive);
        if (head_request || h.status == 204 || h.status == 304 || h.informational())
            FUZZ_CHECK(h.framing == BodyFraming::none);
    }
    return out;
}

void check_body(const ResponseHead& head, std::string_view rest, size_t piece) {
    BodyDecoder body(BodyLimits{}, 502);
    body.start(head.framing, head.content_length);
    uint64_t delivered = 0;
    size_t pos = 0;
    while (body.state() == BodyState::more && pos < rest.size()) {
        size_t n = std::min(piece, rest.size() - pos);
        BodyStep s = body.step(rest.data() + pos, n);
        FUZZ_CHECK(s.consumed <= n);
        FUZZ_CHECK(s.data.size() <= s.consumed);
        if (!s.data.empty()) FUZZ_CHECK(s.data.data() >= rest.data() + pos && s.data.data() + s.data.size() <= rest.data() + pos + s.consumed);
        delivered += s.data.size();
        pos += s.consumed;
        if (s.state == BodyState::more && s.data.empty()) FUZZ_CHECK(s.consumed == n);
    }
    if (body.state() == BodyState::complete && head.framing == BodyFraming::content_length)
        FUZZ_CHECK(delivered == head.content_length);
    if (body.state() == BodyState::more) body.finish_at_eof();
    FUZZ_CHECK(body.state() != BodyState::more);
    FUZZ_CHECK(body.body_bytes() == delivered);
}

void check_injection(const ResponseHead& head, int64_t now) {
    std::vector<std::string_view> set_cookies;
    for (const Header& h : head.headers)
        if (iequals(h.name, "set-cookie")) set_cookies.push_back(h.value);
    std::vector<std::string_view> session_names = {"JSESSIONID", "sid"};
    if (!set_cookies.empty())
        if (auto first = parse_set_cookie(set_cookies[0])) session_names.push_back(first->name);

    for (std::string_view session : session_names) {
        std::vector<std::string> out;
        size_t n = inject_server_cookie(set_cookies, {session, "SpServer"}, "web-1", now, out);
        FUZZ_CHECK(n == out.size());
        size_t source_index = 0;
        for (const std::string& injected : out) {
            for (char c : injected) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
            auto parsed = parse_set_cookie(injected);
            FUZZ_CHECK(parsed.has_value());
            FUZZ_CHECK(parsed->name == "SpServer");
            // Find the session Set-Cookie this one mirrors (they are appended in order).
            std::optional<SetCookie> source;
            while (source_index < set_cookies.size() && !source) {
                auto c = parse_set_cookie(set_cookies[source_index++]);
                if (c && c->name == session) source = c;
            }
            FUZZ_CHECK(source.has_value());
            FUZZ_CHECK(parsed->value == (source->deletes(now) ? "" : "web-1"));
            FUZZ_CHECK(parsed->path == source->path);
            FUZZ_CHECK(parsed->domain == source->domain);
            FUZZ_CHECK(parsed->expires == source->expires);
            FUZZ_CHECK(parsed->max_age == source->max_age);
            FUZZ_CHECK(parsed->same_site == source->same_site);
            FUZZ_CHECK(parsed->secure == source->secure);
            FUZZ_CHECK(parsed->http_only == source->http_only);
            FUZZ_CHECK(parsed->deletes(now) == source->deletes(now));
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    uint8_t control = data[0];
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    bool head_request = control & 0x80;
    size_t piece = (control & 0x0f) + 1;
    int64_t now = (control & 0x40) ? 0 : 1'700'000'000;

    ResponseLimits limits;
    limits.max_head_bytes = 4096;
    limits.max_header_count = 32;
    ResponseHeadScanner whole_scanner(limits), split_scanner(limits);

    // Up to a few heads in a row: 1xx responses are followed by another head.
    for (int heads = 0; heads < 4 && !input.empty(); ++heads) {
        Scan whole = scan(whole_scanner, input, head_request, input.size());
        Scan split = scan(split_scanner, input, head_request, piece);
        FUZZ_CHECK(whole.status == split.status);
        FUZZ_CHECK(whole.consumed == split.consumed);
        FUZZ_CHECK(whole.error_status == split.error_status);
        FUZZ_CHECK(whole.summary == split.summary);
        if (whole.status != ScanStatus::complete) break;

        const ResponseHead& head = whole_scanner.head();
        check_injection(head, now);
        input.remove_prefix(whole.consumed);
        if (!head.informational()) {
            check_body(head, input, piece);
            break;
        }
    }
    return 0;
}
