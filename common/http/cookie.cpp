#include "http/cookie.hpp"

#include <algorithm>
#include <limits>

#include "http/syntax.hpp"

namespace dlba::http {

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
    std::optional<std::string_view> found;
    if (name.empty()) return found;
    for_each_cookie(header, [&](const CookiePair& pair) {
        if (pair.name == name) found = pair.value;
        return !found;
    });
    return found;
}

size_t remove_cookie(std::string_view header, std::string_view name, std::string& out) {
    return remove_cookies(header, {name}, out);
}

size_t remove_cookies(std::string_view header, std::initializer_list<std::string_view> names, std::string& out) {
    out.clear();
    size_t removed = 0;
    for_each_cookie(header, [&](const CookiePair& pair) {
        if (!pair.name.empty() && std::find(names.begin(), names.end(), pair.name) != names.end()) {
            ++removed;
        } else {
            if (!out.empty()) out += "; ";
            out += pair.text;
        }
        return true;
    });
    return removed;
}

// ---- cookie-date (RFC 6265 §5.1.1) ----

namespace {

bool is_date_delimiter(char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
           (c >= 0x7b && c <= 0x7e);
}

// Reads min..max digits at the front of s; they must be followed by the end or a non-digit. Advances s.
std::optional<int> take_digits(std::string_view& s, size_t min, size_t max) {
    size_t n = 0;
    int value = 0;
    while (n < s.size() && is_digit(s[n])) {
        if (++n > max) return std::nullopt;
        value = value * 10 + (s[n - 1] - '0');
    }
    if (n < min) return std::nullopt;
    s.remove_prefix(n);
    return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2 ? 1 : 0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<int64_t> parse_cookie_date(std::string_view text) {
    std::optional<int> hour, minute, second, day, month, year;
    static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_date_delimiter(text[i])) ++i;
        size_t start = i;
        while (i < text.size() && !is_date_delimiter(text[i])) ++i;
        std::string_view token = text.substr(start, i - start);
        if (token.empty()) continue;

        if (!hour) {  // time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT ( non-digit *OCTET )
            std::string_view t = token;
            auto h = take_digits(t, 1, 2);
            if (h && !t.empty() && t[0] == ':') {
                t.remove_prefix(1);
                auto m = take_digits(t, 1, 2);
                if (m && !t.empty() && t[0] == ':') {
                    t.remove_prefix(1);
                    if (auto s = take_digits(t, 1, 2)) {
                        hour = h, minute = m, second = s;
                        continue;
                    }
                }
            }
        }
        if (!day) {
            std::string_view t = token;
            if (auto d = take_digits(t, 1, 2)) {
                day = d;
                continue;
            }
        }
        if (!month && token.size() >= 3) {
            for (int m = 0; m < 12; ++m)
                if (iequals(token.substr(0, 3), months[m])) month = m + 1;
            if (month) continue;
        }
        if (!year) {
            std::string_view t = token;
            if (auto y = take_digits(t, 2, 4)) year = y;
        }
    }
    if (!hour || !day || !month || !year) return std::nullopt;
    int y = *year;
    if (y >= 70 && y <= 99) y += 1900;
    if (y >= 0 && y <= 69) y += 2000;
    if (*day < 1 || *day > 31 || y < 1601 || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
    return days_from_civil(y, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
}

// ---- Set-Cookie (RFC 6265 §5.2) ----

namespace {

// Max-Age = [ "-" ] 1*DIGIT; anything else makes the user agent ignore the attribute.
std::optional<int64_t> parse_max_age(std::string_view s) {
    bool negative = !s.empty() && s.front() == '-';
    if (negative) s.remove_prefix(1);
    if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
    constexpr int64_t cap = std::numeric_limits<int64_t>::max() / 10;  // larger values mean "forever" anyway
    int64_t value = 0;
    for (char c : s) value = value >= cap ? cap : value * 10 + (c - '0');
    return negative ? -value : value;
}

}  // namespace

bool SetCookie::deletes(int64_t now) const {
    if (max_age_seconds) return *max_age_seconds <= 0;  // Max-Age wins over Expires
    if (expires_at) return *expires_at <= now;
    return false;
}

std::optional<SetCookie> parse_set_cookie(std::string_view header_value) {
    if (std::any_of(header_value.begin(), header_value.end(), is_ctl_not_htab)) return std::nullopt;
    size_t semi = header_value.find(';');
    std::string_view pair = header_value.substr(0, semi);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    SetCookie cookie;
    cookie.name = trim_ows(pair.substr(0, eq));
    cookie.value = trim_ows(pair.substr(eq + 1));
    if (cookie.name.empty()) return std::nullopt;

    std::string_view attributes = semi == std::string_view::npos ? std::string_view() : header_value.substr(semi + 1);
    while (!attributes.empty()) {
        semi = attributes.find(';');
        std::string_view av = attributes.substr(0, semi);
        attributes = semi == std::string_view::npos ? std::string_view() : attributes.substr(semi + 1);
        eq = av.find('=');
        std::string_view name = trim_ows(av.substr(0, eq));
        std::string_view value = eq == std::string_view::npos ? std::string_view() : trim_ows(av.substr(eq + 1));
        if (iequals(name, "path")) {
            cookie.path = value;
        } else if (iequals(name, "domain")) {
            cookie.domain = value;
        } else if (iequals(name, "expires")) {
            cookie.expires = value;
            cookie.expires_at = parse_cookie_date(value);
        } else if (iequals(name, "max-age")) {
            cookie.max_age = value;
            cookie.max_age_seconds = parse_max_age(value);
        } else if (iequals(name, "samesite")) {
            cookie.same_site = value;
        } else if (iequals(name, "secure")) {
            cookie.secure = true;
        } else if (iequals(name, "httponly")) {
            cookie.http_only = true;
        }
    }
    return cookie;
}

bool is_cookie_value(std::string_view value) {
    // cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: no CTL, space, DQUOTE, comma, semicolon, backslash.
    return std::all_of(value.begin(), value.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

bool is_cookie_name(std::string_view name) { return is_token(name); }

// ---- cookie injection ----

size_t inject_server_cookie(std::span<const std::string_view> set_cookies, const CookieInjection& injection,
                            std::string_view server_key, int64_t now, std::vector<std::string>& out) {
    if (!is_cookie_name(injection.session_cookie) || !is_cookie_name(injection.injected_cookie) ||
        injection.session_cookie == injection.injected_cookie || server_key.empty() || !is_cookie_value(server_key))
        return 0;
    size_t appended = 0;
    for (std::string_view header : set_cookies) {
        auto cookie = parse_set_cookie(header);
        if (!cookie || cookie->name != injection.session_cookie) continue;
        // Attribute values come from a parsed header: split on ';' and free of controls, so copying them verbatim
        // cannot inject another attribute or header line.
        std::string s;
        s.reserve(injection.injected_cookie.size() + server_key.size() + header.size() + 32);
        s += injection.injected_cookie;
        s += '=';
        if (!cookie->deletes(now)) s += server_key;
        auto attribute = [&](std::string_view name, const std::optional<std::string_view>& value) {
            if (!value) return;
            s += "; ";
            s += name;
            s += '=';
            s += *value;
        };
        attribute("Path", cookie->path);
        attribute("Domain", cookie->domain);
        attribute("Expires", cookie->expires);
        attribute("Max-Age", cookie->max_age);
        if (cookie->secure) s += "; Secure";
        if (cookie->http_only) s += "; HttpOnly";
        attribute("SameSite", cookie->same_site);
        out.push_back(std::move(s));
        ++appended;
    }
    return appended;
}

std::optional<size_t> find_server_key(std::string_view value, std::span<const std::string> keys) {
    if (value.empty()) return std::nullopt;
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i] == value) return i;
    return std::nullopt;
}

std::optional<size_t> server_from_cookie_header(std::string_view header, std::string_view injected_cookie,
                                                std::span<const std::string> keys) {
    std::optional<size_t> found;
    if (injected_cookie.empty()) return found;
    for_each_cookie(header, [&](const CookiePair& pair) {
        if (pair.name == injected_cookie) found = find_server_key(pair.value, keys);
        return !found;
    });
    return found;
}

}  // namespace dlba::http
