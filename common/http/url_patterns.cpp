#include "http/url_patterns.hpp"

namespace dlba::http {

UrlPatterns::UrlPatterns(const std::vector<std::string>& patterns) {
    compiled_.reserve(patterns.size());
    for (const std::string& p : patterns) {
        regex_t re;
        if (regcomp(&re, p.c_str(), kUrlPatternFlags) == 0) compiled_.push_back(re);
    }
}

UrlPatterns::~UrlPatterns() {
    for (regex_t& re : compiled_) regfree(&re);
}

bool UrlPatterns::matches(const char* path) const {
    for (const regex_t& re : compiled_) {
        if (regexec(&re, path, 0, nullptr, 0) == 0) return true;
    }
    return false;
}

}  // namespace dlba::http
