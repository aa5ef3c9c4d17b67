// The path patterns of a service's CDN rewriting (services[].cdn.match): POSIX extended regular expressions,
// compiled once when a configuration generation is built, matched against the path of each candidate URL.
#pragma once

#include <regex.h>

#include <string>
#include <string_view>
#include <vector>

namespace dlba::http {

// The flags every pattern is compiled with, by the config reader (to refuse a bad one with file:line) and here.
inline constexpr int kUrlPatternFlags = REG_EXTENDED | REG_NOSUB;

class UrlPatterns {
public:
    // The patterns must compile (the config reader checked them); one that does not is left out.
    explicit UrlPatterns(const std::vector<std::string>& patterns);
    ~UrlPatterns();
    UrlPatterns(const UrlPatterns&) = delete;
    UrlPatterns& operator=(const UrlPatterns&) = delete;

    // Whether any pattern matches somewhere in `path` (a NUL-terminated string: what regexec takes).
    bool matches(const char* path) const;
    size_t size() const { return compiled_.size(); }

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
    std::vector<regex_t> compiled_;
};

}  // namespace dlba::http
