#include "http/html_rewriter.hpp"

#include <array>
#include <cstring>

#include "http/url_patterns.hpp"

namespace dlba::http {

namespace {

// Character classes of the tokenizer, one table lookup per byte in the tight loops.
enum : uint8_t { kSpace = 1, kSlash = 2, kGt = 4, kEq = 8 };
constexpr std::array<uint8_t, 256> make_classes() {
    std::array<uint8_t, 256> t{};
    for (unsigned char c : {' ', '\t', '\n', '\r', '\f'}) t[c] = kSpace;
    t['/'] = kSlash;
    t['>'] = kGt;
    t['='] = kEq;
    return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

// Bytes of a URL value the rewriter looks at: refused ones (white space, controls, backslash) and delimiters.
enum : uint8_t { kBad = 1, kColon = 2, kSlashByte = 4, kQuery = 8, kDot = 16 };
constexpr std::array<uint8_t, 256> make_url_bytes() {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c <= 0x20; ++c) t[c] = kBad;
    t[0x7f] = kBad;
    t['\\'] = kBad;
    t[':'] = kColon;
    t['/'] = kSlashByte;
    t['?'] = kQuery;
    t['#'] = kQuery;
    t['.'] = kDot;
    return t;
}
constexpr std::array<uint8_t, 256> kUrlBytes = make_url_bytes();
uint8_t cls(char c) { return kClass[static_cast<unsigned char>(c)]; }

bool is_space(char c) { return cls(c) == kSpace; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool same_name(const char* name, uint8_t len, std::string_view want) {
    return len == want.size() && std::memcmp(name, want.data(), len) == 0;
}

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

constexpr std::string_view kRawText[] = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                                         "noframes"};

// "host:port" -> "host"; a bracketed IPv6 literal keeps its brackets.
std::string_view without_port(std::string_view authority) {
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos || authority.back() == ']') return authority;
    if (authority.front() == '[' && authority.find(']') > colon) return authority;
    return authority.substr(0, colon);
}

// RFC 3986 §5.2.4 for a path that starts with '/': appends the path without "." and ".." segments to `out`.
void remove_dot_segments(std::string_view in, std::string& out) {
    size_t i = 0;
    while (i < in.size()) {
        size_t j = in.find('/', i + 1);
        if (j == std::string_view::npos) j = in.size();
        const std::string_view seg = in.substr(i + 1, j - i - 1);
        if (seg == ".") {
            if (j == in.size()) out += '/';
        } else if (seg == "..") {
            const size_t k = out.rfind('/');
            if (k != std::string::npos) out.resize(k);
            if (j == in.size()) out += '/';
        } else {
            out += '/';
            out += seg;
        }
        i = j;
    }
    if (out.empty()) out += '/';
}

}  // namespace

void HtmlRewriter::start(const CdnTarget& target) {
    target_ = target;
    state_ = State::text;
    end_tag_ = holding_ = interesting_ = false;
    name_len_ = attr_len_ = raw_len_ = raw_match_ = dashes_ = 0;
    value_.clear();
    rewritten_ = 0;
    // The directory relative URLs resolve against: the request path up to its last '/' ("/" for "*" or a URL).
    std::string_view dir = target.request_target;
    dir = dir.substr(0, dir.find_first_of("?#"));
    const size_t slash = dir.rfind('/');
    base_dir_ = dir.empty() || dir.front() != '/' || slash == std::string_view::npos ? std::string_view("/")
                                                                                     : dir.substr(0, slash + 1);
    base_has_dots_ = base_dir_.find("/.") != std::string_view::npos;
    // Reserved at the first body (an idle rewriter costs nothing), and grown here for a long request target:
    // never while the body streams.
    const size_t need = target.request_target.size() + kMaxValue + 2;
    if (value_.capacity() < kMaxValue) value_.reserve(kMaxValue);
    if (joined_.capacity() < need) joined_.reserve(need);
    if (path_.capacity() < need) path_.reserve(need);
}

void HtmlRewriter::tag_end() {
    // Raw-text names are 3 to 8 letters and start with one of "inst x": most tags are rejected at once.
    const char first = name_len_ >= 3 && name_len_ <= kNameMax ? name_[0] : '\0';
    if (!end_tag_ && (first == 's' || first == 't' || first == 'x' || first == 'i' || first == 'n')) {
        for (std::string_view raw : kRawText) {
            if (same_name(name_, name_len_, raw)) {
                std::memcpy(raw_, name_, name_len_);
                raw_len_ = name_len_;
                raw_match_ = 0;
                state_ = State::raw_text;
                return;
            }
        }
    }
    state_ = State::text;
}

void HtmlRewriter::begin_value(const char* after_opening, std::string& out) {
    if (!interesting_) return;
    out.append(run_, static_cast<size_t>(after_opening - run_));
    run_ = nullptr;
    holding_ = true;
    value_.clear();
}

// Bytes of a src/href value. Past kMaxValue the value is not rewritten: what was held is copied out (by the
// caller, through emit_value) and the rest of it streams as ordinary bytes.
void HtmlRewriter::hold(const char* p, size_t n) {
    if (value_.size() + n <= kMaxValue) value_.append(p, n);
}

void HtmlRewriter::end_value(const char* at) {
    run_ = at;
    holding_ = false;
}

void HtmlRewriter::emit_value(std::string& out) {
    if (!rewrite_into(out)) out += value_;
    value_.clear();
}

// The path part of the value resolved into path_. relative: against the request's directory.
bool HtmlRewriter::resolve(std::string_view url_path, bool relative, bool dots) {
    path_.clear();
    std::string_view in = url_path;
    if (relative) {
        joined_.assign(base_dir_);
        joined_ += url_path;
        in = joined_;
        dots = dots || base_has_dots_ || url_path.front() == '.';
    }
    // Most paths have no dot segment ("/." somewhere): copied as they are.
    if (dots) {
        remove_dot_segments(in, path_);
    } else {
        path_.assign(in);
    }
    return target_.patterns && target_.patterns->matches(path_);
}

bool HtmlRewriter::rewrite_into(std::string& out) {
    const std::string_view v = value_;
    if (v.empty() || v.front() == '?' || v.front() == '#') return false;
    // One pass: refuse white space, control bytes and backslashes; note the first ':', the first of "/?#", the
    // first of "?#", and whether "/." occurs before it (a dot segment, maybe).
    constexpr size_t npos = std::string_view::npos;
    size_t colon = npos, delim = npos, query = npos;
    bool dots = false;
    uint8_t prev = 0;
    for (size_t k = 0; k < v.size(); ++k) {
        const uint8_t f = kUrlBytes[static_cast<unsigned char>(v[k])];
        if (f == 0) {
            prev = 0;
            continue;
        }
        if (f & kBad) return false;
        if ((f & kColon) && colon == npos) colon = k;
        if ((f & (kSlashByte | kQuery)) && delim == npos) delim = k;
        if ((f & kQuery) && query == npos) query = k;
        if ((f & kDot) && prev == kSlashByte && query == npos) dots = true;
        prev = f;
    }
    size_t rest_at = 0;  // where the path starts
    bool relative = false;
    size_t authority_at = std::string_view::npos;
    if (v.size() >= 2 && v[0] == '/' && v[1] == '/') {
        authority_at = 2;
    } else if (colon < delim) {
        const std::string_view scheme = v.substr(0, colon);
        if (!iequal(scheme, "http") && !iequal(scheme, "https")) return false;
        if (v.substr(colon + 1, 2) != "//") return false;
        authority_at = colon + 3;
    }
    if (authority_at != std::string_view::npos) {
        const size_t end = v.find_first_of("/?#", authority_at);
        const std::string_view authority =
            v.substr(authority_at, end == std::string_view::npos ? std::string_view::npos : end - authority_at);
        if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
        if (!iequal(without_port(authority), target_.site_host)) return false;
        if (end == std::string_view::npos || v[end] != '/') return false;  // no path: the site's root
        rest_at = end;
    } else {
        relative = v.front() != '/';
    }
    const size_t q = query == npos ? v.size() : query;  // the query starts after the path (delimiters above)
    if (q <= rest_at) return false;
    const std::string_view url_path = v.substr(rest_at, q - rest_at);
    const std::string_view tail = v.substr(q);
    if (!resolve(url_path, relative, dots)) return false;
    const size_t at = out.size();
    out.resize(at + 2 + target_.cdn_host.size() + path_.size() + tail.size());
    char* w = out.data() + at;
    *w++ = '/';
    *w++ = '/';
    std::memcpy(w, target_.cdn_host.data(), target_.cdn_host.size());
    w += target_.cdn_host.size();
    std::memcpy(w, path_.data(), path_.size());
    w += path_.size();
    if (!tail.empty()) std::memcpy(w, tail.data(), tail.size());
    ++rewritten_;
    return true;
}

void HtmlRewriter::feed(const char* data, size_t len, std::string& out) {
    const char* p = data;
    const char* const end = data + len;
    run_ = holding_ ? nullptr : data;
    while (p < end) {
        switch (state_) {
            case State::text: {
                const void* lt = std::memchr(p, '<', static_cast<size_t>(end - p));
                if (!lt) {
                    p = end;
                    break;
                }
                p = static_cast<const char*>(lt) + 1;
                state_ = State::tag_open;
                break;
            }
            case State::tag_open: {
                const char c = *p;
                if (c == '!') {
                    state_ = State::bang;
                    ++p;
                } else if (c == '/') {
                    state_ = State::end_tag_open;
                    ++p;
                } else if (is_alpha(c)) {
                    end_tag_ = false;
                    name_len_ = 0;
                    state_ = State::tag_name;
                } else if (c == '?') {
                    state_ = State::markup;
                    ++p;
                } else {
                    state_ = State::text;  // a '<' of the text
                }
                break;
            }
            case State::end_tag_open: {
                const char c = *p;
                if (is_alpha(c)) {
                    end_tag_ = true;
                    name_len_ = 0;
                    state_ = State::tag_name;
                } else {
                    state_ = c == '>' ? State::text : State::markup;
                    ++p;
                }
                break;
            }
            case State::tag_name: {
                while (p < end && cls(*p) == 0) {
                    if (name_len_ < kNameMax) {
                        name_[name_len_++] = lower(*p);
                    } else {
                        name_len_ = kNameMax + 1;
                    }
                    ++p;
                }
                if (p == end) break;
                const char c = *p++;
                if (is_space(c) || c == '/') {
                    state_ = State::before_attr;
                } else if (c == '>') {
                    tag_end();
                } else if (name_len_ < kNameMax) {
                    name_[name_len_++] = lower(c);
                } else {
                    name_len_ = kNameMax + 1;
                }
                break;
            }
            case State::before_attr: {
                while (p < end && (cls(*p) & (kSpace | kSlash))) ++p;
                if (p == end) break;
                const char c = *p;
                if (is_space(c) || c == '/') {
                    ++p;
                } else if (c == '>') {
                    ++p;
                    tag_end();
                } else {
                    attr_len_ = 0;
                    state_ = State::attr_name;
                }
                break;
            }
            case State::attr_name: {
                // The name's bytes up to a space, '/', '>' or '=' (an '=' first is part of the name).
                if (attr_len_ != 0 || (p < end && *p != '=')) {
                    while (p < end && cls(*p) == 0) {
                        if (attr_len_ < kNameMax) {
                            attr_[attr_len_++] = lower(*p);
                        } else {
                            attr_len_ = kNameMax + 1;
                        }
                        ++p;
                    }
                    if (p == end) break;
                }
                const char c = *p;
                if (is_space(c)) {
                    ++p;
                    state_ = State::after_attr_name;
                } else if (c == '/') {
                    ++p;
                    state_ = State::before_attr;
                } else if (c == '>') {
                    ++p;
                    tag_end();
                } else if (c == '=' && attr_len_ != 0) {
                    ++p;
                    state_ = State::before_value;
                } else {
                    ++p;
                    if (attr_len_ < kNameMax) {
                        attr_[attr_len_++] = lower(c);
                    } else {
                        attr_len_ = kNameMax + 1;
                    }
                }
                break;
            }
            case State::after_attr_name: {
                const char c = *p;
                if (is_space(c)) {
                    ++p;
                } else if (c == '/') {
                    ++p;
                    state_ = State::before_attr;
                } else if (c == '=') {
                    ++p;
                    state_ = State::before_value;
                } else if (c == '>') {
                    ++p;
                    tag_end();
                } else {
                    attr_len_ = 0;
                    state_ = State::attr_name;
                }
                break;
            }
            case State::before_value: {
                const char c = *p;
                interesting_ = !end_tag_ && !same_name(name_, name_len_, "base") &&
                               (same_name(attr_, attr_len_, "src") || same_name(attr_, attr_len_, "href"));
                if (is_space(c)) {
                    ++p;
                } else if (c == '"' || c == '\'') {
                    ++p;
                    state_ = c == '"' ? State::value_dq : State::value_sq;
                    begin_value(p, out);
                } else if (c == '>') {
                    ++p;
                    tag_end();
                } else {
                    state_ = State::value_uq;
                    begin_value(p, out);
                }
                break;
            }
            case State::value_dq:
            case State::value_sq: {
                const char quote = state_ == State::value_dq ? '"' : '\'';
                const void* q = std::memchr(p, quote, static_cast<size_t>(end - p));
                const char* stop = q ? static_cast<const char*>(q) : end;
                if (holding_) {
                    const size_t n = static_cast<size_t>(stop - p);
                    if (value_.size() + n > kMaxValue) {
                        out += value_;  // too long: untouched, and the rest streams as it comes
                        value_.clear();
                        end_value(p);
                    } else {
                        hold(p, n);
                        if (q) {
                            emit_value(out);
                            end_value(stop);
                        }
                    }
                }
                p = stop;
                if (q) {
                    ++p;
                    state_ = State::before_attr;
                }
                break;
            }
            case State::value_uq: {
                const char* stop = p;
                while (stop < end && !(cls(*stop) & (kSpace | kGt))) ++stop;
                if (holding_) {
                    const size_t n = static_cast<size_t>(stop - p);
                    if (value_.size() + n > kMaxValue) {
                        out += value_;
                        value_.clear();
                        end_value(p);
                    } else {
                        hold(p, n);
                        if (stop < end) {
                            emit_value(out);
                            end_value(stop);
                        }
                    }
                }
                p = stop;
                if (p < end) state_ = State::before_attr;  // the space or '>' is read there
                break;
            }
            case State::bang: {
                if (*p == '-') {
                    ++p;
                    state_ = State::bang_dash;
                } else {
                    state_ = State::markup;
                }
                break;
            }
            case State::bang_dash: {
                if (*p == '-') {
                    ++p;
                    dashes_ = 2;  // so that "<!-->" and "<!--->" end at once, as in browsers
                    state_ = State::comment;
                } else {
                    state_ = State::markup;
                }
                break;
            }
            case State::markup: {
                const void* gt = std::memchr(p, '>', static_cast<size_t>(end - p));
                if (!gt) {
                    p = end;
                    break;
                }
                p = static_cast<const char*>(gt) + 1;
                state_ = State::text;
                break;
            }
            case State::comment: {
                const char c = *p++;
                if (c == '>' && dashes_ >= 2) {
                    state_ = State::text;
                } else if (c == '-') {
                    if (dashes_ < 2) ++dashes_;
                } else {
                    dashes_ = 0;
                }
                break;
            }
            case State::raw_text: {
                if (raw_match_ == 0) {
                    const void* lt = std::memchr(p, '<', static_cast<size_t>(end - p));
                    if (!lt) {
                        p = end;
                        break;
                    }
                    p = static_cast<const char*>(lt) + 1;
                    raw_match_ = 1;
                    break;
                }
                const char c = *p;
                if (raw_match_ == 1) {
                    raw_match_ = c == '/' ? 2 : 0;
                    if (raw_match_) ++p;
                    break;
                }
                const size_t i = raw_match_ - 2u;
                if (i < raw_len_) {
                    if (lower(c) == raw_[i]) {
                        ++raw_match_;
                        ++p;
                    } else {
                        raw_match_ = 0;  // reconsumed: it may be the next '<'
                    }
                    break;
                }
                if (is_space(c) || c == '/' || c == '>') {
                    end_tag_ = true;
                    std::memcpy(name_, raw_, raw_len_);
                    name_len_ = raw_len_;
                    state_ = State::tag_name;  // reads the space, '/' or '>'
                }
                raw_match_ = 0;
                break;
            }
        }
    }
    if (run_) out.append(run_, static_cast<size_t>(end - run_));
}

void HtmlRewriter::finish(std::string& out) {
    if (holding_) out += value_;
    value_.clear();
    holding_ = false;
    state_ = State::text;
}

}  // namespace dlba::http
