// The path patterns of a service's CDN rewriting (services[].cdn.match): POSIX extended regular expressions,
// compiled once when a configuration generation is built, matched against the path of each candidate URL.
//
// Most patterns are literal prefixes, suffixes or alternations of them ("^/static/", "\.(png|jpg|css|js)$"). Those
// are matched without regexec (which takes a lock and may allocate on every call in glibc): a pattern made only of
// literal characters, escaped ones, '^' and '$' at the ends of top-level alternatives, and groups of literal
// alternatives, is expanded into its (at most kMaxLiterals) anchored literals, with exactly the regex's meaning.
// Anything else goes to regexec.
#pragma once

#include <regex.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlba::http {

// The flags every pattern is compiled with, by the config reader (to refuse a bad one with file:line) and here.
inline constexpr int kUrlPatternFlags = REG_EXTENDED | REG_NOSUB;

// One literal alternative of a pattern: where it must sit in the path.
struct AnchoredLiteral {
    std::string text;
    bool at_start = false;  // '^'
    bool at_end = false;    // '$'
};

// The pattern as literal alternatives, when it is that simple (none when not).
std::optional<std::vector<AnchoredLiteral>> literal_alternatives(std::string_view pattern);

class UrlPatterns {
public:
    static constexpr size_t kMaxLiterals = 64;

    // The patterns must compile (the config reader checked them); one that does not is left out.
    explicit UrlPatterns(const std::vector<std::string>& patterns);
    ~UrlPatterns();
    UrlPatterns(const UrlPatterns&) = delete;
    UrlPatterns& operator=(const UrlPatterns&) = delete;

    // Whether any pattern matches somewhere in `path` (a std::string: NUL-terminated, as regexec needs).
    bool matches(const std::string& path) const;
    bool matches_literally(std::string_view path) const;  // the literal patterns only
    size_t literal_count() const { return literals_.size(); }
    size_t regex_count() const { return compiled_.size(); }

    // Compiles `pattern` with kUrlPatternFlags only to check it: empty when valid, else regerror's message.
    // Inline so that the config reader can use it without linking the HTTP library.
    static std::string check(const std::string& pattern) {
        regex_t re;
        const int rc = regcomp(&re, pattern.c_str(), kUrlPatternFlags);
        if (rc == 0) {
            regfree(&re);
            return {};
        }
        char buf[256];
        regerror(rc, &re, buf, sizeof buf);
        return buf[0] ? std::string(buf) : std::string("invalid regular expression");
    }

private:
    std::vector<AnchoredLiteral> literals_;  // of every pattern simple enough
    std::vector<regex_t> compiled_;          // the others
};

}  // namespace dlba::http
