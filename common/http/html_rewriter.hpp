// CDN URL rewriting of an HTML body as it streams ("speederizing", seed 003): the src and href attribute values
// that point at the site's own host and whose path matches the service's patterns become "//<cdn host><path>".
//
// A push-style tokenizer: feed() takes the body in pieces of any size and appends the output to `out`; the result
// does not depend on where the pieces are split. Everything but a src/href value is copied as it arrives; a value
// is held until its end (at most kMaxValue bytes: a longer one passes through untouched), so the state is bounded
// whatever the page size. It knows enough HTML to find real attributes: quoted ('...' "...") and unquoted values,
// comments, <!...> and <?...> declarations, end tags, and the raw-text elements (script, style, textarea, title,
// xmp, iframe, noembed, noframes) whose content is never rewritten. Tag and attribute names are case-insensitive.
// <base href> is never rewritten (it would move every relative URL of the page).
//
// Which URLs count as the site's: "http(s)://HOST[:port]/...", "//HOST[:port]/..." with HOST equal to the request's
// host (case-insensitive, ports ignored), and root-relative or relative paths, resolved against the request path
// (dot segments removed). Values with another scheme, a user part, a backslash, white space or control bytes, or
// that start with '?' or '#', are left alone. The pattern sees the resolved path without query or fragment; the
// rewritten URL keeps the query and fragment as written. Character references (&amp;) are not decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dlba::http {

class UrlPatterns;

struct CdnTarget {
    std::string_view cdn_host;        // "cdn.example.net"
    std::string_view site_host;       // the request's host, without its port
    std::string_view request_target;  // "/dir/page.html?q": relative URLs resolve against "/dir/"
    const UrlPatterns* patterns = nullptr;
};

class HtmlRewriter {
public:
    static constexpr size_t kMaxValue = 4096;  // a src/href value longer than this passes through untouched

    // Begins a body. The views in `target` must stay valid until the body ends.
    void start(const CdnTarget& target);
    // The next piece of the body; the output (the same bytes, with matching URLs rewritten) is appended to `out`.
    void feed(const char* data, size_t len, std::string& out);
    // The body ended: a value still held (an unterminated attribute) is appended as it came.
    void finish(std::string& out);

    uint64_t urls_rewritten() const { return rewritten_; }

private:
    enum class State : uint8_t {
        text, tag_open, end_tag_open, tag_name, before_attr, attr_name, after_attr_name, before_value,
        value_dq, value_sq, value_uq, bang, bang_dash, markup, comment, raw_text,
    };
    static constexpr size_t kNameMax = 8;  // the longest name we look for ("textarea", "noframes")

    void tag_end();
    void begin_value(const char* after_opening, std::string& out);
    void hold(const char* p, size_t n);
    void end_value(const char* at);
    void emit_value(std::string& out);
    bool rewrite_into(std::string& out);
    bool resolve(std::string_view url_path, bool relative, bool dots);

    CdnTarget target_;
    State state_ = State::text;
    bool end_tag_ = false;
    bool holding_ = false;       // a src/href value is being collected in value_
    bool interesting_ = false;   // the attribute being read is src/href on a tag that may be rewritten
    char name_[kNameMax];
    uint8_t name_len_ = 0;       // kNameMax + 1: longer than any name we look for
    char attr_[kNameMax];
    uint8_t attr_len_ = 0;
    char raw_[kNameMax];         // the raw-text element we are in
    uint8_t raw_len_ = 0;
    uint8_t raw_match_ = 0;      // bytes of "</" + raw_ matched so far
    uint8_t dashes_ = 0;         // '-' just seen in a comment
    std::string value_;          // the held value (capacity kMaxValue)
    std::string joined_;         // base directory + relative path
    std::string path_;           // the resolved path
    std::string_view base_dir_;  // the request path up to its last '/'
    bool base_has_dots_ = false;
    const char* run_ = nullptr;  // start of the bytes of the current piece not yet copied to out (null: holding)
    uint64_t rewritten_ = 0;
};

}  // namespace dlba::http
