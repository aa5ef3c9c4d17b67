#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "http/cookie.hpp"
#include "printable.hpp"

using namespace dlba::http;
namespace test = dlba::http::test;
using namespace std::literals;

namespace {
constexpr int64_t now = 1'700'000'000;  // 2023-11-14T22:13:20Z
}

TEST_CASE("a named cookie is found in a Cookie header, malformed pairs notwithstanding", "[cookie]") {
    struct Case {
        const char* description;
        std::string header;
        std::string name;
        std::optional<std::string> value;
    };
    const std::vector<Case> cases = {
        {"only cookie", "SpServer=web1", "SpServer", "web1"},
        {"among others", "a=1; SpServer=web2; b=2", "SpServer", "web2"},
        {"no space after semicolon", "a=1;SpServer=web3", "SpServer", "web3"},
        {"spaces around =", "SpServer = web4 ", "SpServer", "web4"},
        {"first of two wins", "SpServer=a; SpServer=b", "SpServer", "a"},
        {"empty value", "SpServer=; a=1", "SpServer", ""},
        {"value containing =", "t=a=b", "t", "a=b"},
        {"quoted value kept as sent", "t=\"x\"", "t", "\"x\""},
        {"name is case-sensitive", "spserver=web1", "SpServer", std::nullopt},
        {"prefix of another name", "SpServerX=1", "SpServer", std::nullopt},
        {"suffix of another name", "XSpServer=1", "SpServer", std::nullopt},
        {"absent", "a=1; b=2", "SpServer", std::nullopt},
        {"empty header", "", "SpServer", std::nullopt},
        {"only separators", ";;; ;", "SpServer", std::nullopt},
        {"pair without = is skipped", "garbage; SpServer=web5", "SpServer", "web5"},
        {"empty pieces are skipped", ";; SpServer=web6 ;", "SpServer", "web6"},
        {"value is not a name", "x=SpServer", "SpServer", std::nullopt},
        {"empty name never matches", "=v", "", std::nullopt},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        auto found = find_cookie(c.header, c.name);
        CHECK(found.has_value() == c.value.has_value());
        if (found && c.value) CHECK(*found == *c.value);
    }
}

TEST_CASE("removing a cookie rebuilds the header without it and keeps the others byte for byte", "[cookie]") {
    struct Case {
        std::string header;
        std::string expected;
        size_t removed;
    };
    const std::vector<Case> cases = {
        {"SpServer=web1", "", 1},
        {"a=1; SpServer=web1; b=2", "a=1; b=2", 1},
        {"SpServer=web1;a=1", "a=1", 1},
        {"a=1;SpServer=x;SpServer=y;b=\"q w\"", "a=1; b=\"q w\"", 2},
        {"a=1; b=2", "a=1; b=2", 0},
        {"a=1;;  b=2 ", "a=1; b=2", 0},
        {"junk; SpServer=1; =x", "junk; =x", 1},
        {"", "", 0},
    };
    std::string out = "left over";
    for (const Case& c : cases) {
        INFO(test::printable(c.header));
        CHECK(remove_cookie(c.header, "SpServer", out) == c.removed);
        CHECK(out == c.expected);
        CHECK_FALSE(find_cookie(out, "SpServer").has_value());
    }
}

TEST_CASE("Set-Cookie attributes are parsed case-insensitively, the last one winning", "[cookie][set-cookie]") {
    auto c = parse_set_cookie(
        "JSESSIONID=abc123; path=/shop; DOMAIN=.example.com; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=3600; "
        "secure; HTTPONLY; SameSite=Lax; Path=/app; Unknown=1");
    REQUIRE(c);
    CHECK(c->name == "JSESSIONID");
    CHECK(c->value == "abc123");
    CHECK(c->path == "/app");
    CHECK(c->domain == ".example.com");
    CHECK(c->expires == "Wed, 21 Oct 2037 07:28:00 GMT");
    CHECK(c->expires_at == 2139722880);
    CHECK(c->max_age == "3600");
    CHECK(c->max_age_seconds == 3600);
    CHECK(c->secure);
    CHECK(c->http_only);
    CHECK(c->same_site == "Lax");
}

TEST_CASE("a Set-Cookie the browser would ignore parses as nothing", "[cookie][set-cookie]") {
    for (std::string_view bad : std::initializer_list<std::string_view>{"", "novalue", "=value", " =value; Path=/", "a=b\x01", "a=b; Path=/\x7f",
                                 "a=b\0c"sv, "a=b\r\nSet-Cookie: x=y", "; a=b"}) {
        INFO(test::printable(bad));
        CHECK_FALSE(parse_set_cookie(bad).has_value());
    }
    auto tab = parse_set_cookie("a=b;\tPath=/");  // HTAB is not a control for this rule
    REQUIRE(tab);
    CHECK(tab->path == "/");
}

TEST_CASE("Max-Age and Expires decide whether a Set-Cookie deletes the cookie", "[cookie][set-cookie]") {
    struct Case {
        std::string header;
        bool deletes;
    };
    const std::vector<Case> cases = {
        {"s=1", false},
        {"s=1; Max-Age=60", false},
        {"s=; Max-Age=0", true},
        {"s=; Max-Age=-1", true},
        {"s=; Max-Age=-99999999999999999999999", true},
        {"s=1; Max-Age=99999999999999999999999", false},
        {"s=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", true},
        {"s=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", false},
        {"s=1; Expires=Tue, 14 Nov 2023 22:13:20 GMT", true},  // exactly now
        {"s=1; Expires=Tue, 14 Nov 2023 22:13:21 GMT", false},
        {"s=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", false},  // Max-Age wins
        {"s=; Max-Age=0; Expires=Wed, 21 Oct 2037 07:28:00 GMT", true},
        {"s=1; Max-Age=soon; Expires=Thu, 01 Jan 1970 00:00:00 GMT", true},  // invalid Max-Age is ignored
        {"s=1; Max-Age=1x", false},
        {"s=1; Expires=garbage", false},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.header));
        auto parsed = parse_set_cookie(c.header);
        REQUIRE(parsed);
        CHECK(parsed->deletes(now) == c.deletes);
    }
}

TEST_CASE("cookie dates are parsed like browsers do (RFC 6265 5.1.1)", "[cookie][date]") {
    struct Case {
        std::string text;
        std::optional<int64_t> seconds;
    };
    const std::vector<Case> cases = {
        {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
        {"Wed, 21 Oct 2037 07:28:00 GMT", 2139722880},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},  // RFC 850
        {"Sun Nov  6 08:49:37 1994", 784111777},        // asctime
        {"06 nov 1994 08:49:37", 784111777},
        {"1994 November 6 8:49:37", 784111777},
        {"Thu, 01 Jan 70 00:00:00 GMT", 0},
        {"Sat, 01 Jan 2000 00:00:00 GMT", 946684800},
        {"Tue, 01 Jan 69 00:00:00 GMT", 3124224000},
        {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
        {"", std::nullopt},
        {"Wed, 21 Oct 2037", std::nullopt},            // no time
        {"Wed, 21 Foo 2037 07:28:00 GMT", std::nullopt},  // no month
        {"Wed, 32 Oct 2037 07:28:00 GMT", std::nullopt},
        {"Wed, 21 Oct 2037 24:00:00 GMT", std::nullopt},
        {"Wed, 21 Oct 1600 07:28:00 GMT", std::nullopt},
        {"Wed, 21 Oct 20371 07:28:00 GMT", std::nullopt},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.text));
        CHECK(parse_cookie_date(c.text) == c.seconds);
    }
}

TEST_CASE("cookie injection copies the session cookie's attributes onto SpServer", "[cookie][injection]") {
    std::vector<std::string_view> set_cookies = {
        "JSESSIONID=abc; Path=/shop; Domain=example.com; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=3600; Secure; "
        "HttpOnly; SameSite=Strict"};
    std::vector<std::string> out;
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID", "SpServer"}, "web1", now, out) == 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0] ==
          "SpServer=web1; Path=/shop; Domain=example.com; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=3600; "
          "Secure; HttpOnly; SameSite=Strict");
    auto reparsed = parse_set_cookie(out[0]);
    REQUIRE(reparsed);
    CHECK(reparsed->name == "SpServer");
    CHECK(reparsed->value == "web1");
    CHECK(reparsed->expires_at == parse_set_cookie(set_cookies[0])->expires_at);
}

TEST_CASE("a session cookie with no attributes gives a bare SpServer session cookie", "[cookie][injection]") {
    std::vector<std::string_view> set_cookies = {"sid=1"};
    std::vector<std::string> out;
    CHECK(inject_server_cookie(set_cookies, {"sid", "Backend"}, "b-2", now, out) == 1);
    CHECK(out == std::vector<std::string>{"Backend=b-2"});
}

TEST_CASE("deleting the session cookie deletes SpServer too", "[cookie][injection]") {
    struct Case {
        std::string set_cookie;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"JSESSIONID=; Path=/; Max-Age=0", "SpServer=; Path=/; Max-Age=0"},
        {"JSESSIONID=gone; Path=/a; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
         "SpServer=; Path=/a; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
        {"JSESSIONID=x; Expires=Mon, 13 Nov 2023 00:00:00 GMT; Secure",
         "SpServer=; Expires=Mon, 13 Nov 2023 00:00:00 GMT; Secure"},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.set_cookie));
        std::vector<std::string_view> set_cookies = {c.set_cookie};
        std::vector<std::string> out;
        CHECK(inject_server_cookie(set_cookies, {"JSESSIONID"}, "web1", now, out) == 1);
        REQUIRE(out.size() == 1);
        CHECK(out[0] == c.expected);
        CHECK(parse_set_cookie(out[0])->deletes(now));
    }
}

TEST_CASE("with several Set-Cookie headers only the session cookie's are mirrored", "[cookie][injection]") {
    std::vector<std::string_view> set_cookies = {
        "theme=dark; Path=/",
        "JSESSIONID=; Path=/old; Max-Age=0",
        "not a cookie",
        "JSESSIONID=new; Path=/",
        "jsessionid=case; Path=/x",  // another cookie: names are case-sensitive
        "JSESSIONID=bad\x01; Path=/",  // ignored by browsers, so by us
    };
    std::vector<std::string> out = {"kept"};
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID"}, "web3", now, out) == 2);
    CHECK(out == std::vector<std::string>{"kept", "SpServer=; Path=/old; Max-Age=0", "SpServer=web3; Path=/"});
}

TEST_CASE("no cookie is injected when there is nothing valid to inject", "[cookie][injection]") {
    std::vector<std::string_view> set_cookies = {"JSESSIONID=1; Path=/"};
    std::vector<std::string> out;
    CHECK(inject_server_cookie({}, {"JSESSIONID"}, "web1", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"OTHER"}, "web1", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID"}, "", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID"}, "web 1", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID"}, "web;1", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID", "JSESSIONID"}, "web1", now, out) == 0);
    CHECK(inject_server_cookie(set_cookies, {"JSESSIONID", "Sp Server"}, "web1", now, out) == 0);
    CHECK(out.empty());
}

TEST_CASE("an SpServer value is trusted only when it is exactly a known back-end key", "[cookie][validation]") {
    const std::vector<std::string> keys = {"web1", "web2", "cache-3"};
    struct Case {
        std::string header;
        std::optional<size_t> index;
    };
    const std::vector<Case> cases = {
        {"SpServer=web2", 1},
        {"a=1; SpServer=cache-3", 2},
        {"SpServer=web9", std::nullopt},           // unknown (back end removed)
        {"SpServer=web1x", std::nullopt},          // tampered
        {"SpServer=WEB1", std::nullopt},           // case matters
        {"SpServer=\"web1\"", std::nullopt},       // we never emit quotes
        {"SpServer=", std::nullopt},
        {"SpServer=web%31", std::nullopt},
        {"SpServer=bogus; SpServer=web1", 0},      // a stale one first, a good one later
        {"spserver=web1", std::nullopt},
        {"", std::nullopt},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.header));
        CHECK(server_from_cookie_header(c.header, "SpServer", keys) == c.index);
    }
    CHECK(find_server_key("web1", keys) == 0u);
    CHECK_FALSE(find_server_key("web1", {}).has_value());
}

TEST_CASE("cookie values we emit are cookie-octets only", "[cookie]") {
    CHECK(is_cookie_value("web-1_a.b~!#$%&'()*+/:<=>?@[]^`{|}"));
    for (std::string_view bad : {"a b", "a;b", "a,b", "a\"b", "a\\b", "a\x7f", "\xc3\xa9", "a\tb"}) CHECK_FALSE(is_cookie_value(bad));
}
