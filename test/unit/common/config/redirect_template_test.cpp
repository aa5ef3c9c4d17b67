// Redirect URL templates (config/redirect_template.hpp): the macros, the refusals, the request's parts.
#include <catch2/catch.hpp>

#include <string>

#include "config/redirect_template.hpp"

using namespace dlba;

namespace {

std::string expanded(const std::string& text, const RedirectRequest& r) {
    std::string why;
    const std::optional<RedirectTemplate> t = RedirectTemplate::parse(text, &why);
    INFO(why);
    REQUIRE(t);
    std::string out(t->length(r), '\0');
    REQUIRE(t->expand(r, out) == out.size());
    return out;
}

std::string refusal(const std::string& text) {
    std::string why;
    CHECK_FALSE(RedirectTemplate::parse(text, &why));
    return why;
}

}  // namespace

TEST_CASE("every macro expands to its part of the request", "[config][redirect]") {
    const RedirectRequest r{"www.acme.com", "8080", "shop/cart", "?item=7&n=2"};
    CHECK(expanded("https://web1.example.com/%d%q", r) == "https://web1.example.com/shop/cart?item=7&n=2");
    CHECK(expanded("http://%h:%s/new/%d", r) == "http://www.acme.com:8080/new/shop/cart");
    CHECK(expanded("http://coyote.acme.com/", r) == "http://coyote.acme.com/");
    CHECK(expanded("http://x.test/100%%/%d", r) == "http://x.test/100%/shop/cart");
    CHECK(expanded("HTTPS://%h%%%h", r) == "HTTPS://www.acme.com%www.acme.com");
    // No query: %q is empty, not a lone '?'.
    CHECK(expanded("http://a.test/%d%q", {"h", "80", "p", ""}) == "http://a.test/p");
    CHECK(expanded("http://a.test/%d%q", {"h", "80", "", ""}) == "http://a.test/");
}

TEST_CASE("expansion writes nothing into a buffer too small and says how much it needs", "[config][redirect]") {
    const auto t = RedirectTemplate::parse("http://%h/%d", nullptr);
    REQUIRE(t);
    const RedirectRequest r{"host.test", "80", "a/b/c", ""};
    char small[8] = {'#', '#', '#', '#', '#', '#', '#', '#'};
    CHECK(t->expand(r, small) == std::string("http://host.test/a/b/c").size());
    CHECK(std::string(small, 8) == "########");
    char big[64];
    const size_t n = t->expand(r, big);
    CHECK(std::string(big, n) == "http://host.test/a/b/c");
}

TEST_CASE("a template is compiled once into literal and macro pieces", "[config][redirect]") {
    const auto t = RedirectTemplate::parse("http://%h/x/%d%q", nullptr);
    REQUIRE(t);
    using P = RedirectTemplate::Part;
    REQUIRE(t->pieces().size() == 5);
    CHECK(t->pieces()[0].part == P::literal);
    CHECK(t->pieces()[1].part == P::host);
    CHECK(t->pieces()[2].part == P::literal);
    CHECK(t->pieces()[3].part == P::path);
    CHECK(t->pieces()[4].part == P::query);
}

TEST_CASE("bad templates are refused with the reason", "[config][redirect]") {
    CHECK_THAT(refusal("http://a.test/%x"), Catch::Contains("unknown macro '%x'"));
    CHECK_THAT(refusal("http://a.test/%H"), Catch::Contains("unknown macro '%H'"));
    CHECK_THAT(refusal("http://a.test/%"), Catch::Contains("lone '%'"));
    CHECK_THAT(refusal("/relative/%d"), Catch::Contains("absolute"));
    CHECK_THAT(refusal("%h/%d"), Catch::Contains("absolute"));
    CHECK_THAT(refusal("ftp://a.test/"), Catch::Contains("absolute"));
    CHECK_THAT(refusal("http:///path"), Catch::Contains("absolute"));
    CHECK_THAT(refusal("http://:80/"), Catch::Contains("absolute"));
    CHECK_THAT(refusal("http://"), Catch::Contains("absolute"));
    CHECK_THAT(refusal(""), Catch::Contains("absolute"));
    CHECK_THAT(refusal("http://a.test/a b"), Catch::Contains("may not carry"));
    CHECK_THAT(refusal("http://a.test/\r\nSet-Cookie: x=1"), Catch::Contains("may not carry"));
    CHECK_THAT(refusal("http://a.test/\xc3\xa9"), Catch::Contains("may not carry"));
    CHECK_THAT(refusal("http://a.test/" + std::string(5000, 'a')), Catch::Contains("longer than 4096"));
    // A host from the request is a host: "http://%h" is absolute.
    CHECK(RedirectTemplate::parse("http://%h", nullptr));
    CHECK(RedirectTemplate::parse("https://%h:%s/%d%q", nullptr));
}

TEST_CASE("the target splits into the path without its '/' and the query with its '?'", "[config][redirect]") {
    std::string_view path, query;
    split_target("/a/b.html?x=1&y", path, query);
    CHECK(path == "a/b.html");
    CHECK(query == "?x=1&y");
    split_target("/", path, query);
    CHECK(path.empty());
    CHECK(query.empty());
    split_target("/?q", path, query);
    CHECK(path.empty());
    CHECK(query == "?q");
    split_target("/dir/", path, query);
    CHECK(path == "dir/");
    CHECK(query.empty());
    split_target("http://other.test/p/q?z", path, query);
    CHECK(path == "p/q");
    CHECK(query == "?z");
    split_target("http://other.test", path, query);
    CHECK(path.empty());
    split_target("*", path, query);
    CHECK(path.empty());
    CHECK(query.empty());
}
