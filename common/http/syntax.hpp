// The small pieces of RFC 9110/9112 grammar that the request parser, the response scanner, the body decoder and the
// cookie code share: character classes, list splitting, Content-Length. Header-only because all of it is tiny and
// sits on the per-byte path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dlba::http {

// One field line. Views point into the buffer of whoever produced them (see each producer for how long they live).
struct Header {
    std::string_view name;
    std::string_view value;
};

// A traffic error: the status to answer with (400, 413, 414, 431, 501, 505 for requests; 502 for a back end's
// response) and a short fixed reason for counters and logs. status == 0 means no error.
struct HttpError {
    uint16_t status = 0;
    const char* reason = "";
    explicit operator bool() const { return status != 0; }
};

// How a message body is delimited.
enum class BodyFraming : uint8_t {
    none,            // no body at all
    content_length,  // exactly content_length bytes
    chunked,         // chunked transfer coding, ends with the last chunk and trailer section
    until_close,     // responses only: everything until the back end closes the connection
};

const char* body_framing_name(BodyFraming framing);

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
inline constexpr std::array<bool, 256> tchar_table = make_tchar_table();
}  // namespace detail

// token = 1*tchar (RFC 9110 §5.6.2): methods, field names, transfer codings, chunk extension names.
constexpr bool is_tchar(char c) { return detail::tchar_table[static_cast<unsigned char>(c)]; }
constexpr bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// VCHAR / obs-text: what may appear inside a field value besides SP and HTAB.
constexpr bool is_field_vchar(char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; }
// Control characters other than HTAB (and DEL): never acceptable inside a request field value or a cookie.
constexpr bool is_ctl_not_htab(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
}

// field-value characters (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB; so no NUL, CR, LF or other control.
constexpr bool is_field_value(std::string_view s) {
    for (char c : s)
        if (is_ctl_not_htab(c)) return false;
    return true;
}

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// Calls f(element) for each element of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed. Empty elements are
// passed too, so strict callers can reject them. Returns false as soon as f does.
template <class F>
constexpr bool for_each_list_element(std::string_view value, F&& f) {
    while (true) {
        size_t comma = value.find(',');
        if (!f(trim_ows(value.substr(0, comma)))) return false;
        if (comma == std::string_view::npos) return true;
        value.remove_prefix(comma + 1);
    }
}

// Transfer codings this proxy knows (RFC 9110 §18.7 registry, minus the deprecated "identity"). Only "chunked" is
// ever decoded; the others pass through as part of the body.
constexpr bool is_known_transfer_coding(std::string_view coding) {
    for (std::string_view known : {"chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"})
        if (iequals(coding, known)) return true;
    return false;
}

// True when the comma-separated list `value` holds `token` (case-insensitive), e.g. Connection: close.
constexpr bool list_contains(std::string_view value, std::string_view token) {
    bool found = false;
    for_each_list_element(value, [&](std::string_view element) {
        found = found || iequals(element, token);
        return true;
    });
    return found;
}

// Content-Length = 1*DIGIT, strictly: no sign, no list ("1,1"), no spaces, no value above 2^62 (far beyond any
// real body, and keeps every later addition clear of overflow).
constexpr std::optional<uint64_t> parse_content_length(std::string_view s) {
    constexpr uint64_t max_length = uint64_t{1} << 62;
    if (s.empty()) return std::nullopt;
    uint64_t value = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        // Checked before multiplying, so no sequence of digits can wrap around to a small value.
        if (value > max_length / 10) return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
        if (value > max_length) return std::nullopt;
    }
    return value;
}

// First header named `name` (case-insensitive), or nullptr.
constexpr const Header* find_header(std::span<const Header> headers, std::string_view name) {
    for (const Header& h : headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

}  // namespace dlba::http

namespace dlba::http {

// Parses one field line (without its CRLF) as a strict recipient must (RFC 9112 §5): token name, no whitespace
// before the colon, no obs-fold, value made of VCHAR / obs-text / SP / HTAB only (so no NUL, bare CR or other
// controls). On failure returns an error carrying error_status; `out` is then unspecified.
HttpError parse_field_line_strict(std::string_view line, Header& out, uint16_t error_status);

}  // namespace dlba::http
