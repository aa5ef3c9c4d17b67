// The streaming HTML rewriter for CDN URLs (http/html_rewriter.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "http/html_rewriter.hpp"
#include "http/url_patterns.hpp"

using namespace dlba::http;

namespace {

const UrlPatterns& patterns() {
    static const UrlPatterns p({"^/static/", "\\.(png|jpg|css|js)$"});
    return p;
}

std::string rewrite_split(std::string_view page, const std::vector<size_t>& cuts, uint64_t* urls = nullptr,
                          std::string_view target = "/dir/page.html?x=1") {
    HtmlRewriter r;
    r.start({"cdn.example.net", "www.site.test", target, &patterns()});
    std::string out;
    size_t at = 0;
    for (size_t c : cuts) {
        r.feed(page.data() + at, c - at, out);
        at = c;
    }
    r.feed(page.data() + at, page.size() - at, out);
    r.finish(out);
    if (urls) *urls = r.urls_rewritten();
    return out;
}

std::string rewrite(std::string_view page, std::string_view target = "/dir/page.html?x=1") {
    return rewrite_split(page, {}, nullptr, target);
}

// A page with every case the tokenizer knows.
const std::string kSample = R"HTML(<!DOCTYPE html>
<HTML><head><title>a <img src="/static/in-title.png"></title>
<link rel=stylesheet HREF='/css/site.css'>
<base href="/static/">
<script src="/js/app.js"></script>
<script>var s = '<img src="/static/in-script.png">'; if (a</b) {}</script >
<style>body { background: url(/static/bg.png) } </styles> <a href="/static/x.png"></style>
</head><body>
<!-- <img src="/static/commented.png"> -- still a comment -->
<!----><img src=/static/after-empty-comment.png>
<img src=/static/unquoted.png alt=x><img src=/img/unquoted-end.jpg>
<IMG SRC="http://www.site.test/static/abs.png?v=2#top">
<img src="https://WWW.SITE.TEST:8443/a/b.css">
<img src="//www.site.test/static/proto.png">
<img src="//other.test/static/other.png">
<img src="http://other.test/x.png">
<a href="/about.html">about</a><a href="rel/pic.png">rel</a><a href="../up/x.js">up</a>
<a href="./static/dot.png">dot</a><a href="/a/../static/norm.png">norm</a>
<a href="mailto:x@y.png">mail</a><a href="#frag.png">frag</a><a href="?q=1.png">query</a>
<a href="javascript:go('/static/x.png')">js</a><a href="http://user@www.site.test/static/u.png">u</a>
<a data-src="/static/not-src.png" xhref="/static/no.png">other attributes</a>
<a href = "/static/spaced.png" >spaced</a></a href="/static/end-tag.png">
<img src="/static/ends-here.png"/><img/src="/static/slash.png">
<?xml version="1.0" src="/static/pi.png"?><![CDATA[ <img src="/static/cdata.png"> ]]>
<textarea><img src="/static/in-textarea.png"></textarea><p>a < b and a<3 </p>
</body></HTML>
)HTML";

const std::string kSampleRewritten = R"HTML(<!DOCTYPE html>
<HTML><head><title>a <img src="/static/in-title.png"></title>
<link rel=stylesheet HREF='//cdn.example.net/css/site.css'>
<base href="/static/">
<script src="//cdn.example.net/js/app.js"></script>
<script>var s = '<img src="/static/in-script.png">'; if (a</b) {}</script >
<style>body { background: url(/static/bg.png) } </styles> <a href="/static/x.png"></style>
</head><body>
<!-- <img src="/static/commented.png"> -- still a comment -->
<!----><img src=//cdn.example.net/static/after-empty-comment.png>
<img src=//cdn.example.net/static/unquoted.png alt=x><img src=//cdn.example.net/img/unquoted-end.jpg>
<IMG SRC="//cdn.example.net/static/abs.png?v=2#top">
<img src="//cdn.example.net/a/b.css">
<img src="//cdn.example.net/static/proto.png">
<img src="//other.test/static/other.png">
<img src="http://other.test/x.png">
<a href="/about.html">about</a><a href="//cdn.example.net/dir/rel/pic.png">rel</a><a href="//cdn.example.net/up/x.js">up</a>
<a href="//cdn.example.net/dir/static/dot.png">dot</a><a href="//cdn.example.net/static/norm.png">norm</a>
<a href="mailto:x@y.png">mail</a><a href="#frag.png">frag</a><a href="?q=1.png">query</a>
<a href="javascript:go('/static/x.png')">js</a><a href="http://user@www.site.test/static/u.png">u</a>
<a data-src="/static/not-src.png" xhref="/static/no.png">other attributes</a>
<a href = "//cdn.example.net/static/spaced.png" >spaced</a></a href="/static/end-tag.png">
<img src="//cdn.example.net/static/ends-here.png"/><img/src="//cdn.example.net/static/slash.png">
<?xml version="1.0" src="/static/pi.png"?><![CDATA[ <img src="/static/cdata.png"> ]]>
<textarea><img src="/static/in-textarea.png"></textarea><p>a < b and a<3 </p>
</body></HTML>
)HTML";

}  // namespace

TEST_CASE("the sample page: each attribute, quote, comment and raw-text case", "[http][cdn]") {
    uint64_t urls = 0;
    CHECK(rewrite_split(kSample, {}, &urls) == kSampleRewritten);
    CHECK(urls == 15);
}

TEST_CASE("the sample page gives the same output split at every point, and byte by byte", "[http][cdn]") {
    const std::string whole = rewrite(kSample);
    for (size_t cut = 0; cut <= kSample.size(); ++cut) {
        INFO("split at " << cut);
        REQUIRE(rewrite_split(kSample, {cut}) == whole);
    }
    for (size_t a = 0; a < kSample.size(); a += 7) {
        for (size_t b = a; b <= kSample.size(); b += 13) REQUIRE(rewrite_split(kSample, {a, b}) == whole);
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < kSample.size(); ++i) every.push_back(i);
    CHECK(rewrite_split(kSample, every) == whole);
}

TEST_CASE("quotes: double, single, unquoted; the other quote inside a value is data", "[http][cdn]") {
    CHECK(rewrite(R"(<img src="/static/a'b.png">)") == R"(<img src="//cdn.example.net/static/a'b.png">)");
    CHECK(rewrite(R"(<img src='/static/a"b.png'>)") == R"(<img src='//cdn.example.net/static/a"b.png'>)");
    CHECK(rewrite("<img src=/static/a.png>") == "<img src=//cdn.example.net/static/a.png>");
    CHECK(rewrite("<img src=/static/a.png\t>") == "<img src=//cdn.example.net/static/a.png\t>");
    CHECK(rewrite("<img alt=\"src=/static/a.png\">") == "<img alt=\"src=/static/a.png\">");
    CHECK(rewrite("<img src=\"\">") == "<img src=\"\">");
    CHECK(rewrite("<img src>") == "<img src>");
    CHECK(rewrite("<img src=>") == "<img src=>");
}

TEST_CASE("comments and declarations hide what is inside them", "[http][cdn]") {
    CHECK(rewrite("<!--<img src=/static/a.png>--><img src=/x.js>") ==
          "<!--<img src=/static/a.png>--><img src=//cdn.example.net/x.js>");
    CHECK(rewrite("<!-- a -- b --- c ---><img src=/x.js>") == "<!-- a -- b --- c ---><img src=//cdn.example.net/x.js>");
    CHECK(rewrite("<!--><img src=/x.js>") == "<!--><img src=//cdn.example.net/x.js>");  // "<!-->" is whole
    CHECK(rewrite("<!-- <img src=/x.js> -> still in --><img src=/x.js>") ==
          "<!-- <img src=/x.js> -> still in --><img src=//cdn.example.net/x.js>");
    CHECK(rewrite("<!DOCTYPE html src=/x.js><img src=/x.js>") == "<!DOCTYPE html src=/x.js><img src=//cdn.example.net/x.js>");
}

TEST_CASE("script and style are raw text up to their end tag, case-insensitive", "[http][cdn]") {
    CHECK(rewrite("<script>'<img src=/x.js>'</SCRIPT><img src=/x.js>") ==
          "<script>'<img src=/x.js>'</SCRIPT><img src=//cdn.example.net/x.js>");
    CHECK(rewrite("<Script type=x src=/x.js><a href=/y.js></scriptx><a href=/y.js></script><a href=/y.js>") ==
          "<Script type=x src=//cdn.example.net/x.js><a href=/y.js></scriptx><a href=/y.js></script><a href=//cdn.example.net/y.js>");
    CHECK(rewrite("<style>a{}</style\n><link href=/s.css>") == "<style>a{}</style\n><link href=//cdn.example.net/s.css>");
    CHECK(rewrite("<scripts><img src=/x.js></scripts>") == "<scripts><img src=//cdn.example.net/x.js></scripts>");
    CHECK(rewrite("<script><<</</s</sc<img src=/x.js>") == "<script><<</</s</sc<img src=/x.js>");  // never ended
}

TEST_CASE("URLs are the site's only: host, scheme and user part decide", "[http][cdn]") {
    CHECK(rewrite("<img src=HTTP://Www.Site.Test/static/a>") == "<img src=//cdn.example.net/static/a>");
    CHECK(rewrite("<img src=http://www.site.test:81/x.js>") == "<img src=//cdn.example.net/x.js>");
    CHECK(rewrite("<img src=http://www.site.testx/x.js>") == "<img src=http://www.site.testx/x.js>");
    CHECK(rewrite("<img src=ftp://www.site.test/x.js>") == "<img src=ftp://www.site.test/x.js>");
    CHECK(rewrite("<img src=http:/www.site.test/x.js>") == "<img src=http:/www.site.test/x.js>");
    CHECK(rewrite("<img src=//www.site.test>") == "<img src=//www.site.test>");
    CHECK(rewrite("<img src=//www.site.test?a.js>") == "<img src=//www.site.test?a.js>");
    CHECK(rewrite("<img src='/static/a b.png'>") == "<img src='/static/a b.png'>");
    CHECK(rewrite("<img src='/static\\a.png'>") == "<img src='/static\\a.png'>");
}

TEST_CASE("relative URLs resolve against the request path, dot segments removed", "[http][cdn]") {
    CHECK(rewrite("<img src=a.png>", "/") == "<img src=//cdn.example.net/a.png>");
    CHECK(rewrite("<img src=a.png>", "/one/two") == "<img src=//cdn.example.net/one/a.png>");
    CHECK(rewrite("<img src=a.png>", "/one/two/?q=/x/") == "<img src=//cdn.example.net/one/two/a.png>");
    CHECK(rewrite("<img src=../../../a.png>", "/one/two/") == "<img src=//cdn.example.net/a.png>");
    CHECK(rewrite("<img src=static/.>", "/") == "<img src=//cdn.example.net/static/>");
    CHECK(rewrite("<img src=a.png>", "*") == "<img src=//cdn.example.net/a.png>");
    // The pattern sees the path without the query: "\.(png)$" matches "a.png?v=1".
    CHECK(rewrite("<img src=a.png?v=1#f>", "/") == "<img src=//cdn.example.net/a.png?v=1#f>");
    CHECK(rewrite("<img src=a.html?x.png>", "/") == "<img src=a.html?x.png>");
}

TEST_CASE("a value longer than the limit passes through untouched, however it is split", "[http][cdn]") {
    const std::string at_limit = "/static/" + std::string(HtmlRewriter::kMaxValue - 8, 'a');
    const std::string over = at_limit + "b";
    const std::string page_at = "<img src=\"" + at_limit + "\"><img src='/x.js'>";
    const std::string page_over = "<img src=\"" + over + "\"><img src='/x.js'>";
    CHECK(rewrite(page_at) == "<img src=\"//cdn.example.net" + at_limit + "\"><img src='//cdn.example.net/x.js'>");
    const std::string expect_over = "<img src=\"" + over + "\"><img src='//cdn.example.net/x.js'>";
    CHECK(rewrite(page_over) == expect_over);
    for (size_t cut : {size_t{5}, size_t{10}, size_t{11}, size_t{2000}, size_t{4105}, size_t{4106}, size_t{4107}}) {
        INFO(cut);
        CHECK(rewrite_split(page_over, {cut}) == expect_over);
    }
    // Unquoted too; and a huge value streams through.
    const std::string unq = "<img src=" + over + "><img src=/x.js>";
    CHECK(rewrite_split(unq, {100, 4100}) == "<img src=" + over + "><img src=//cdn.example.net/x.js>");
    const std::string huge = "<a href=\"/static/" + std::string(1 << 20, 'z') + "\">";
    CHECK(rewrite(huge) == huge);
}

TEST_CASE("an unterminated value at the end of the body comes out as it came", "[http][cdn]") {
    CHECK(rewrite("<img src=\"/static/a.png") == "<img src=\"/static/a.png");
    CHECK(rewrite("<img src=/static/a.png") == "<img src=/static/a.png");
}

TEST_CASE("a page without matches comes out byte-identical", "[http][cdn]") {
    std::string page;
    for (int i = 0; i < 200; ++i) page += "<p class=c" + std::to_string(i) + "><a href=\"/page" + std::to_string(i) + ".html\">x</a>\n";
    uint64_t urls = 1;
    CHECK(rewrite_split(page, {1, 77, 1000, 5000}, &urls) == page);
    CHECK(urls == 0);
}
