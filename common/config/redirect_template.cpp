#include "config/redirect_template.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace dlba {

namespace {

// A literal byte a Location field can carry as is: visible ASCII (no space, no control, nothing beyond 0x7e).
bool url_byte(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7f;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
}

// "http://host..." or "https://host..." with a non-empty host before the first '/', '?' or '#'.
bool absolute_http_url(std::string_view url) {
    size_t at = 0;
    if (starts_with_nocase(url, "http://")) {
        at = 7;
    } else if (starts_with_nocase(url, "https://")) {
        at = 8;
    } else {
        return false;
    }
    const size_t end = url.find_first_of("/?#", at);
    const std::string_view authority = url.substr(at, end == std::string_view::npos ? url.npos : end - at);
    if (authority.empty() || authority.front() == ':' || authority.front() == '@') return false;
    return std::all_of(url.begin(), url.end(), url_byte);
}

}  // namespace

std::optional<RedirectTemplate> RedirectTemplate::parse(std::string_view text, std::string* error) {
    auto refuse = [&](std::string why) -> std::optional<RedirectTemplate> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (text.size() > 4096) return refuse("is longer than 4096 characters");
    RedirectTemplate t;
    t.source_.assign(text);
    size_t literal_start = 0;  // into literals_: where the literal piece being built begins
    auto close_literal = [&] {
        if (t.literals_.size() > literal_start) {
            t.pieces_.push_back({Part::literal, static_cast<uint32_t>(literal_start),
                                 static_cast<uint32_t>(t.literals_.size() - literal_start)});
        }
        literal_start = t.literals_.size();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '%') {
            if (!url_byte(c)) {
                return refuse("holds a character a URL may not carry (byte " + std::to_string(i + 1) +
                              ": a space, a control or a non-ASCII byte)");
            }
            t.literals_ += c;
            continue;
        }
        if (i + 1 == text.size()) return refuse("ends with a lone '%' (write %% for a '%')");
        const char m = text[++i];
        Part part = Part::literal;
        switch (m) {
            case '%': t.literals_ += '%'; continue;
            case 'h': part = Part::host; break;
            case 's': part = Part::port; break;
            case 'd': part = Part::path; break;
            case 'q': part = Part::query; break;
            default:
                return refuse(std::string("has the unknown macro '%") + (url_byte(m) ? std::string(1, m) : "?") +
                              "' (known: %h host, %s port, %d path, %q query, %% a '%')");
        }
        close_literal();
        t.pieces_.push_back({part, 0, 0});
    }
    close_literal();
    // The template must make an absolute http(s) URL whatever the request: try it on a sample.
    const RedirectRequest sample{"www.example.com", "80", "dir/page.html", "?a=1"};
    std::string url(t.length(sample), '\0');
    t.expand(sample, url);
    if (!absolute_http_url(url)) {
        return refuse("does not make an absolute http:// or https:// URL with a host (a request for "
                      "http://www.example.com/dir/page.html?a=1 would get \"" + url + "\")");
    }
    return t;
}

size_t RedirectTemplate::length(const RedirectRequest& r) const {
    size_t n = 0;
    for (const Piece& p : pieces_) {
        switch (p.part) {
            case Part::literal: n += p.length; break;
            case Part::host: n += r.host.size(); break;
            case Part::port: n += r.port.size(); break;
            case Part::path: n += r.path.size(); break;
            case Part::query: n += r.query.size(); break;
        }
    }
    return n;
}

size_t RedirectTemplate::expand(const RedirectRequest& r, std::span<char> out) const {
    const size_t n = length(r);
    if (n > out.size()) return n;
    char* at = out.data();
    auto put = [&](std::string_view v) {
        if (!v.empty()) std::memcpy(at, v.data(), v.size());
        at += v.size();
    };
    for (const Piece& p : pieces_) {
        switch (p.part) {
            case Part::literal: put(std::string_view(literals_).substr(p.offset, p.length)); break;
            case Part::host: put(r.host); break;
            case Part::port: put(r.port); break;
            case Part::path: put(r.path); break;
            case Part::query: put(r.query); break;
        }
    }
    return n;
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
    path = {};
    query = {};
    if (!target.empty() && target.front() != '/') {
        // Absolute form (RFC 9112 §3.2.2): skip "scheme://authority". Anything else ("*", authority form) has no path.
        const size_t scheme = target.find("://");
        if (scheme == std::string_view::npos) return;
        const size_t slash = target.find_first_of("/?", scheme + 3);
        if (slash == std::string_view::npos) return;
        target.remove_prefix(slash);
    }
    const size_t q = target.find('?');
    query = q == std::string_view::npos ? std::string_view() : target.substr(q);
    path = target.substr(0, q);
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
}

}  // namespace dlba
