#include "metrics/scrape_request.hpp"

#include "metrics/prom_text.hpp"

namespace dlba::metrics {

namespace {

// RFC 9110 tchar.
bool tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    for (char t : std::string_view("!#$%&'*+-.^_`|~"))
        if (c == t) return true;
    return false;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!tchar(c)) return false;
    return true;
}

// A request target in origin form: '/' then visible ASCII.
bool origin_form(std::string_view t) {
    if (t.empty() || t[0] != '/') return false;
    for (char c : t) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) return false;
    }
    return true;
}

// One line of the head without its line end; the CR of a CRLF is stripped, a bare CR inside is refused.
bool next_line(std::string_view& rest, std::string_view& line) {
    const size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) return false;
    line = rest.substr(0, lf);
    rest.remove_prefix(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
}

std::string answer(std::string_view status, std::string_view type, std::string_view body,
                   std::string_view extra = {}) {
    std::string out = "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += type;
    out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    out += extra;
    out += "Connection: close\r\n\r\n";
    out += body;
    return out;
}

}  // namespace

ScrapeVerdict judge_scrape_request(std::string_view bytes) {
    // The end of the head: an empty line (CRLF CRLF, or bare LFs as RFC 9112 allows a recipient to accept).
    size_t end = std::string_view::npos;
    for (size_t i = bytes.find('\n'); i != std::string_view::npos; i = bytes.find('\n', i + 1)) {
        const size_t next = i + 1;
        if (next < bytes.size() && bytes[next] == '\n') {
            end = next + 1;
            break;
        }
        if (next + 1 < bytes.size() && bytes[next] == '\r' && bytes[next + 1] == '\n') {
            end = next + 2;
            break;
        }
    }
    if (end == std::string_view::npos || end > kMaxScrapeRequest) {
        return bytes.size() >= kMaxScrapeRequest ? ScrapeVerdict::too_large : ScrapeVerdict::incomplete;
    }
    std::string_view rest = bytes.substr(0, end);
    std::string_view line;
    // Leading empty lines before the request line are allowed (RFC 9112 §2.2): at most a few.
    for (int skipped = 0;; ++skipped) {
        if (!next_line(rest, line)) return ScrapeVerdict::bad_request;
        if (!line.empty()) break;
        if (skipped == 4) return ScrapeVerdict::bad_request;
    }
    // METHOD SP TARGET SP HTTP/1.x
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return ScrapeVerdict::bad_request;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || !origin_form(target)) return ScrapeVerdict::bad_request;
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return ScrapeVerdict::bad_request;
    // Header fields: NAME ":" value; no bare CR, no NUL, no obsolete line folding.
    while (next_line(rest, line)) {
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') return ScrapeVerdict::bad_request;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return ScrapeVerdict::bad_request;
        for (char c : line.substr(colon + 1)) {
            if (c == '\r' || c == '\0') return ScrapeVerdict::bad_request;
        }
    }
    if (method != "GET") return ScrapeVerdict::method_not_allowed;
    const std::string_view path = target.substr(0, target.find('?'));
    return path == "/metrics" ? ScrapeVerdict::metrics : ScrapeVerdict::not_found;
}

std::string scrape_response(ScrapeVerdict verdict, std::string_view body) {
    constexpr std::string_view kText = "text/plain; charset=utf-8";
    switch (verdict) {
        case ScrapeVerdict::metrics: return answer("200 OK", kContentType, body);
        case ScrapeVerdict::not_found: return answer("404 Not Found", kText, "not found: try /metrics\n");
        case ScrapeVerdict::method_not_allowed:
            return answer("405 Method Not Allowed", kText, "only GET /metrics\n", "Allow: GET\r\n");
        case ScrapeVerdict::too_large:
            return answer("431 Request Header Fields Too Large", kText, "request head too large\n");
        case ScrapeVerdict::incomplete:
        case ScrapeVerdict::bad_request: break;
    }
    return answer("400 Bad Request", kText, "bad request\n");
}

std::string timeout_response() { return answer("408 Request Timeout", "text/plain; charset=utf-8", "timeout\n"); }

}  // namespace dlba::metrics
