#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/syntax.hpp"

using namespace dlba::http;

TEST_CASE("token characters follow RFC 9110", "[syntax]") {
    CHECK(is_token("Content-Length"));
    CHECK(is_token("!#$%&'*+-.^_`|~09azAZ"));
    for (std::string_view bad : {"", "a b", "a:b", "a\"b", "a(b", "a,b", "a;b", "a/b", "a@b", "a{b", "\x80", "a\tb"})
        CHECK_FALSE(is_token(bad));
}

TEST_CASE("Content-Length accepts only plain decimal digits", "[syntax]") {
    CHECK(parse_content_length("0") == 0u);
    CHECK(parse_content_length("00012") == 12u);
    CHECK(parse_content_length("4611686018427387904") == (uint64_t{1} << 62));
    for (std::string_view bad : {"", "+1", "-1", "1,1", "1 ", " 1", "0x1", "4611686018427387905",
                                 "99999999999999999999999"})
        CHECK_FALSE(parse_content_length(bad).has_value());
}

TEST_CASE("list elements are split on commas and trimmed, empty ones included", "[syntax]") {
    std::vector<std::string> seen;
    for_each_list_element(" a ,b,, c\t", [&](std::string_view e) {
        seen.emplace_back(e);
        return true;
    });
    CHECK(seen == std::vector<std::string>{"a", "b", "", "c"});
    CHECK(list_contains("keep-alive, Close", "close"));
    CHECK_FALSE(list_contains("closed", "close"));
}

TEST_CASE("strict field lines reject what a smuggler would use", "[syntax]") {
    Header h;
    CHECK_FALSE(parse_field_line_strict("Host:  a.example \t", h, 400));
    CHECK(h.name == "Host");
    CHECK(h.value == "a.example");
    CHECK(parse_field_line_strict("Host : a", h, 400).status == 400);
    CHECK(std::string_view(parse_field_line_strict("Host : a", h, 400).reason) == "whitespace before colon");
    CHECK(std::string_view(parse_field_line_strict(" folded", h, 400).reason) == "obs-fold");
    CHECK(parse_field_line_strict("X: a\x01", h, 502).status == 502);
}

TEST_CASE("case-insensitive comparison is ASCII only", "[syntax]") {
    CHECK(iequals("Transfer-Encoding", "transfer-encoding"));
    CHECK_FALSE(iequals("chunked", "chunke"));
    CHECK_FALSE(iequals("\xc3\x89", "\xc3\xa9"));
    CHECK(istarts_with("HTTP://x", "http://"));
}
