// Cookies for the persistent-cookie policy: reading the client's Cookie header, parsing a back end's Set-Cookie, and
// cookie injection (an extra "SpServer=<back-end key>" Set-Cookie that mirrors the application's session cookie, so
// a client keeps coming back to the back end that holds its session).
//
// Parsing follows RFC 6265 §5 (what user agents do), so we read cookies the way the browser that sent them did, and
// never fails loudly: malformed input yields "no cookie", never a crash or an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlba::http {

// ---- Cookie request header ----

struct CookiePair {
    std::string_view name;   // empty for a piece without '=' (RFC 6265bis treats it as a nameless value)
    std::string_view value;  // as sent, including any quotes
    std::string_view text;   // the whole trimmed piece, for rebuilding the header
};

// Calls f(pair) for each "name=value" piece of a Cookie header value, split on ';' and trimmed of spaces. Empty
// pieces are skipped. Stops early when f returns false.
template <class F>
void for_each_cookie(std::string_view header, F&& f) {
    while (!header.empty()) {
        size_t semi = header.find(';');
        std::string_view piece = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        while (!piece.empty() && (piece.front() == ' ' || piece.front() == '\t')) piece.remove_prefix(1);
        while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\t')) piece.remove_suffix(1);
        if (piece.empty()) continue;
        size_t eq = piece.find('=');
        CookiePair pair;
        pair.text = piece;
        if (eq == std::string_view::npos) {
            pair.value = piece;
        } else {
            pair.name = piece.substr(0, eq);
            pair.value = piece.substr(eq + 1);
            while (!pair.name.empty() && (pair.name.back() == ' ' || pair.name.back() == '\t')) pair.name.remove_suffix(1);
            while (!pair.value.empty() && (pair.value.front() == ' ' || pair.value.front() == '\t'))
                pair.value.remove_prefix(1);
        }
        if (!f(pair)) return;
    }
}

// Value of the first cookie named `name` (case-sensitive, as browsers compare names), or nullopt.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

// Writes into `out` (cleared first; its capacity is reused) the header with every cookie named `name` removed and the
// others kept byte for byte, joined by "; ". Returns how many were removed. An empty `out` means drop the header.
size_t remove_cookie(std::string_view header, std::string_view name, std::string& out);
// The same for every cookie named one of `names` (empty names match nothing).
size_t remove_cookies(std::string_view header, std::initializer_list<std::string_view> names, std::string& out);

// ---- Set-Cookie response header ----

// Attribute values are as received (trimmed), so they can be copied verbatim. Later attributes override earlier.
struct SetCookie {
    std::string_view name;
    std::string_view value;
    std::optional<std::string_view> path;
    std::optional<std::string_view> domain;
    std::optional<std::string_view> expires;      // raw text
    std::optional<int64_t> expires_at;           // expires parsed (Unix seconds), when it is a valid cookie-date
    std::optional<std::string_view> max_age;      // raw text
    std::optional<int64_t> max_age_seconds;      // max_age parsed, when valid ([-]1*DIGIT; clamped on overflow)
    std::optional<std::string_view> same_site;
    bool secure = false;
    bool http_only = false;

    // The user agent will delete the cookie: Max-Age <= 0, or (without a valid Max-Age) Expires not after `now`.
    bool deletes(int64_t now) const;
};

// nullopt when the user agent would ignore the whole header: no '=' in the first piece, an empty name, or a control
// character other than HTAB anywhere (RFC 6265bis §5.6).
std::optional<SetCookie> parse_set_cookie(std::string_view header_value);

// RFC 6265 §5.1.1 cookie-date ("Wed, 21 Oct 2015 07:28:00 GMT" and the many variants browsers accept), as Unix seconds.
std::optional<int64_t> parse_cookie_date(std::string_view text);

// cookie-value made of cookie-octets only (RFC 6265 §4.1.1): what we may put in an injected cookie.
bool is_cookie_value(std::string_view value);
// A cookie name we may emit: an RFC 9110 token.
bool is_cookie_name(std::string_view name);

// ---- Cookie injection ----

struct CookieInjection {
    std::string_view session_cookie;             // the application's session cookie, e.g. "JSESSIONID"
    std::string_view injected_cookie = "SpServer";
};

// For each of the response's Set-Cookie values that sets or deletes the session cookie, appends to `out` the
// Set-Cookie value for the injected cookie: "SpServer=<server_key>" (or an empty value when the session cookie is
// being deleted) with the session cookie's Path, Domain, Expires, Max-Age, Secure, HttpOnly and SameSite copied
// verbatim, so the browser keeps and drops both together. Malformed Set-Cookie values are skipped. Appends nothing if
// the names or the key are not something we can emit. Returns how many were appended. `now` is Unix seconds.
size_t inject_server_cookie(std::span<const std::string_view> set_cookies, const CookieInjection& injection,
                            std::string_view server_key, int64_t now, std::vector<std::string>& out);

// The back end named by an injected cookie's value: its index in `keys`, or nullopt when the value is not exactly one
// of the known keys (stale, tampered with, quoted): the request is then scheduled as if it had no cookie.
std::optional<size_t> find_server_key(std::string_view value, std::span<const std::string> keys);

// The same over a whole Cookie header: the first cookie named `injected_cookie` whose value is a known key.
std::optional<size_t> server_from_cookie_header(std::string_view header, std::string_view injected_cookie,
                                                std::span<const std::string> keys);

}  // namespace dlba::http
