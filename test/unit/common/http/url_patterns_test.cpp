// The CDN path patterns (http/url_patterns.hpp): the literal fast path means exactly what regexec means.
#include <catch2/catch.hpp>

#include <regex.h>

#include <string>
#include <vector>

#include "http/url_patterns.hpp"

using namespace dlba::http;

namespace {

bool by_regexec(const std::string& pattern, const std::string& path) {
    regex_t re;
    REQUIRE(regcomp(&re, pattern.c_str(), kUrlPatternFlags) == 0);
    const bool m = regexec(&re, path.c_str(), 0, nullptr, 0) == 0;
    regfree(&re);
    return m;
}

}  // namespace

TEST_CASE("common pattern shapes are expanded into anchored literals", "[http][cdn]") {
    auto a = literal_alternatives("^/static/");
    REQUIRE(a);
    REQUIRE(a->size() == 1);
    CHECK((*a)[0].text == "/static/");
    CHECK((*a)[0].at_start);
    CHECK_FALSE((*a)[0].at_end);
    auto b = literal_alternatives("\\.(png|jpg|css|js)$");
    REQUIRE(b);
    REQUIRE(b->size() == 4);
    CHECK((*b)[0].text == ".png");
    CHECK((*b)[3].text == ".js");
    CHECK((*b)[3].at_end);
    auto c = literal_alternatives("^/a/|/b$|^/c(d|e)f$");
    REQUIRE(c);
    CHECK(c->size() == 4);
    for (const char* p : {"^/sta.ic/", "\\.png*$", "^/(a|b)?/", "[a-z]", "a|", "\\w", "^/a^b", "a$b", "(a|^b)", "a{2}",
                          "x+"}) {
        INFO(p);
        CHECK_FALSE(literal_alternatives(p));
    }
}

TEST_CASE("literal and regexec matching agree on every pattern and path tried", "[http][cdn]") {
    const std::vector<std::string> patterns = {
        "^/static/", "\\.(png|jpg|css|js)$", "^/a/|/b$|^/c(d|e)f$", "img", "^/$", "(x|y)(1|2)", "^/sta.ic/",
        "\\.png*$", "[0-9]+\\.gif$", "^/(a|b)?/", "\\$", "\\.", "^/x\\(1\\)$", "a|b", "^(/p|/q)(/r|/s)$"};
    const std::vector<std::string> paths = {
        "/", "/static/", "/static", "/static/a.png", "/x/static/a.png", "/a.png", "/a.pngx", "/a.PNG", "/a.js",
        "/img/1.gif", "/a/", "/x/b", "/b/x", "/cdf", "/cef", "/cxf", "/x1", "/y2/z", "/xy", "/stabic/", "/a.pn",
        "/a.pnggg", "/12.gif", "/a$", "/x(1)", "/x1)", "/p/r", "/q/s", "/p/s/", "/pp/r", "/a", "/c", "/.", ""};
    for (const std::string& pattern : patterns) {
        const UrlPatterns one({pattern});
        for (const std::string& path : paths) {
            INFO(pattern << " on " << path);
            CHECK(one.matches(path.c_str()) == by_regexec(pattern, path));
        }
    }
    const UrlPatterns usual({"^/static/", "\\.(png|jpg|css|js)$"});
    CHECK(usual.regex_count() == 0);  // both on the fast path
    CHECK(usual.literal_count() == 5);
    const UrlPatterns mixed({"^/static/", "[0-9]+\\.gif$"});
    CHECK(mixed.regex_count() == 1);
    CHECK(mixed.matches("/img/12.gif"));
    CHECK(mixed.matches("/static/x"));
    CHECK_FALSE(mixed.matches("/img/x.gif"));
}
