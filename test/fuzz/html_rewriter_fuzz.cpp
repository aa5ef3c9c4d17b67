// Fuzzes the streaming HTML rewriter for CDN URLs (http/html_rewriter.hpp). Input: an HTML body. Invariants: the
// output is the same whatever the split (one piece, byte by byte, pieces sized by the input's own bytes); with no
// pattern that can match, the output is the input; a body where nothing was rewritten comes out unchanged; the
// output grows by at most one CDN prefix plus the request directory per rewritten URL (the state is bounded, and
// nothing is dropped or invented).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/html_rewriter.hpp"
#include "http/url_patterns.hpp"

using namespace dlba::http;

namespace {

constexpr std::string_view kCdn = "cdn.example.net";
constexpr std::string_view kSite = "www.site.test";
constexpr std::string_view kTarget = "/dir/sub/page.html?q=/x/";

const UrlPatterns& some() {
    static const UrlPatterns p({"^/static/", "\\.(png|jpg|css|js)$", "a"});
    return p;
}
const UrlPatterns& none() {
    static const UrlPatterns p({"^$"});  // a resolved path is never empty
    return p;
}

std::string run(const UrlPatterns& pats, std::string_view in, size_t mode, uint64_t* urls) {
    HtmlRewriter r;
    r.start({kCdn, kSite, kTarget, &pats});
    std::string out;
    size_t at = 0, k = 0;
    while (at < in.size()) {
        size_t n = in.size() - at;
        if (mode == 1) n = 1;
        if (mode == 2) n = 1 + static_cast<unsigned char>(in[k++ % in.size()]) % 61;
        if (mode == 3) n = 4093 + (k++ % 7);  // around the value limit
        if (n > in.size() - at) n = in.size() - at;
        r.feed(in.data() + at, n, out);
        at += n;
    }
    r.finish(out);
    if (urls) *urls = r.urls_rewritten();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    uint64_t urls = 0;
    const std::string whole = run(some(), in, 0, &urls);
    for (size_t mode = 1; mode <= 3; ++mode) {
        uint64_t u = 0;
        FUZZ_CHECK(run(some(), in, mode, &u) == whole);
        FUZZ_CHECK(u == urls);
    }
    if (urls == 0) FUZZ_CHECK(whole == in);
    FUZZ_CHECK(whole.size() <= in.size() + urls * (2 + kCdn.size() + kTarget.size()));
    uint64_t none_urls = 1;
    FUZZ_CHECK(run(none(), in, 2, &none_urls) == in);
    FUZZ_CHECK(none_urls == 0);
    return 0;
}
