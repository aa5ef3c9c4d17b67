#include "http/url_patterns.hpp"

#include <cstring>

namespace dlba::http {

namespace {

// Characters with a meaning in an ERE outside brackets; a pattern using one unescaped (other than the ones the
// expansion understands) is left to regexec.
bool special(char c) { return std::strchr(".[]*+?{}\\()|^$", c) != nullptr; }

struct Expander {
    std::string_view p;
    size_t i = 0;
    bool ok = true;

    // One alternative list up to ')' or the end: each alternative a sequence of literals and groups.
    std::vector<AnchoredLiteral> alternatives(bool top) {
        std::vector<AnchoredLiteral> all;
        while (ok) {
            std::vector<AnchoredLiteral> seq = sequence(top);
            if (!ok) break;
            all.insert(all.end(), seq.begin(), seq.end());
            if (all.size() > UrlPatterns::kMaxLiterals) ok = false;
            if (i < p.size() && p[i] == '|') {
                ++i;
                continue;
            }
            break;
        }
        return all;
    }

    std::vector<AnchoredLiteral> sequence(bool top) {
        std::vector<AnchoredLiteral> out(1);
        if (top && i < p.size() && p[i] == '^') {
            out[0].at_start = true;
            ++i;
        }
        while (ok && i < p.size() && p[i] != '|' && p[i] != ')') {
            const char c = p[i];
            if (c == '\\') {
                // An escaped special character is itself; other escapes (\w, \<, back references) are not literal.
                if (i + 1 >= p.size() || !special(p[i + 1])) {
                    ok = false;
                    break;
                }
                append(out, std::string_view(&p[i + 1], 1));
                i += 2;
            } else if (c == '(') {
                ++i;
                std::vector<AnchoredLiteral> inner = alternatives(false);
                if (!ok || i >= p.size() || p[i] != ')') {
                    ok = false;
                    break;
                }
                ++i;
                // A quantifier after the group ("(a|b)?") is not literal.
                if (i < p.size() && std::strchr("*+?{", p[i])) {
                    ok = false;
                    break;
                }
                std::vector<AnchoredLiteral> product;
                for (const AnchoredLiteral& a : out) {
                    for (const AnchoredLiteral& b : inner) {
                        AnchoredLiteral x = a;
                        x.text += b.text;
                        product.push_back(std::move(x));
                        if (product.size() > UrlPatterns::kMaxLiterals) ok = false;
                    }
                }
                out = std::move(product);
            } else if (c == '$' && top && (i + 1 == p.size() || p[i + 1] == '|')) {
                for (AnchoredLiteral& a : out) a.at_end = true;
                ++i;
            } else if (special(c)) {
                ok = false;
            } else {
                // A quantifier applies to this character alone: not literal.
                if (i + 1 < p.size() && std::strchr("*+?{", p[i + 1])) {
                    ok = false;
                    break;
                }
                append(out, std::string_view(&p[i], 1));
                ++i;
            }
        }
        return out;
    }

    static void append(std::vector<AnchoredLiteral>& out, std::string_view s) {
        for (AnchoredLiteral& a : out) a.text += s;
    }
};

}  // namespace

std::optional<std::vector<AnchoredLiteral>> literal_alternatives(std::string_view pattern) {
    Expander e{pattern};
    std::vector<AnchoredLiteral> all = e.alternatives(true);
    if (!e.ok || e.i != pattern.size() || all.empty()) return std::nullopt;
    // An empty alternative ("a|", "()") matches every path: leave such a pattern to regexec too.
    for (const AnchoredLiteral& a : all) {
        if (a.text.empty()) return std::nullopt;
    }
    return all;
}

UrlPatterns::UrlPatterns(const std::vector<std::string>& patterns) {
    compiled_.reserve(patterns.size());
    for (const std::string& p : patterns) {
        if (std::optional<std::vector<AnchoredLiteral>> lit = literal_alternatives(p)) {
            literals_.insert(literals_.end(), lit->begin(), lit->end());
            continue;
        }
        regex_t re;
        if (regcomp(&re, p.c_str(), kUrlPatternFlags) == 0) compiled_.push_back(re);
    }
}

UrlPatterns::~UrlPatterns() {
    for (regex_t& re : compiled_) regfree(&re);
}

bool UrlPatterns::matches_literally(std::string_view path) const {
    for (const AnchoredLiteral& a : literals_) {
        const std::string_view t = a.text;
        if (t.size() > path.size()) continue;
        if (a.at_start && a.at_end) {
            if (path == t) return true;
        } else if (a.at_start) {
            if (path.substr(0, t.size()) == t) return true;
        } else if (a.at_end) {
            if (path.substr(path.size() - t.size()) == t) return true;
        } else if (path.find(t) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

bool UrlPatterns::matches(const std::string& path) const {
    if (matches_literally(path)) return true;
    for (const regex_t& re : compiled_) {
        if (regexec(&re, path.c_str(), 0, nullptr, 0) == 0) return true;
    }
    return false;
}

}  // namespace dlba::http
