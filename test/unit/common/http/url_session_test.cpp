#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "http/consistent_hash.hpp"
#include "http/url_session.hpp"
#include "printable.hpp"

using namespace dlba::http;
namespace test = dlba::http::test;

TEST_CASE("a session id is found in the query string", "[url-session]") {
    struct Case {
        std::string target;
        std::optional<std::string> sid;
    };
    const std::vector<Case> cases = {
        {"/cart?sid=ABC", "ABC"},
        {"/cart?x=1&sid=ABC&y=2", "ABC"},
        {"/cart?sid=ABC#frag", "ABC"},
        {"/cart?sid=&sid=DEF", "DEF"},  // an empty one is no id
        {"/cart?sid=A%20B", "A%20B"},   // raw, so every node hashes the same bytes
        {"http://shop.example/cart?sid=XYZ", "XYZ"},
        {"/cart?xsid=ABC", std::nullopt},
        {"/cart?SID=ABC", std::nullopt},
        {"/cart?sid", std::nullopt},
        {"/cart?sid=", std::nullopt},
        {"/sid=ABC", std::nullopt},
        {"/cart;sid=ABC", std::nullopt},
        {"/cart#?sid=ABC", std::nullopt},
        {"", std::nullopt},
        {"*", std::nullopt},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.target));
        auto sid = find_session_id(c.target, "sid", SessionIdIn::query);
        CHECK(sid.has_value() == c.sid.has_value());
        if (sid && c.sid) CHECK(*sid == *c.sid);
    }
}

TEST_CASE("a session id is found as a path parameter", "[url-session]") {
    struct Case {
        std::string target;
        std::optional<std::string> sid;
    };
    const std::vector<Case> cases = {
        {"/app/page.jsp;jsessionid=ABC123", "ABC123"},
        {"/app/page.jsp;jsessionid=ABC123?x=1", "ABC123"},
        {"/app;jsessionid=ABC/page.jsp", "ABC"},
        {"/app/page.jsp;v=2;jsessionid=ABC;z", "ABC"},
        {"http://h.example/a;jsessionid=Q", "Q"},
        {"/app/page.jsp?jsessionid=ABC", std::nullopt},  // a query parameter is not a path parameter
        {"/app/page.jsp?x=;jsessionid=ABC", std::nullopt},
        {"/app/page.jsp;jsessionid=", std::nullopt},
        {"/app/page.jsp;xjsessionid=ABC", std::nullopt},
        {"/app/page.jsp;JSESSIONID=ABC", std::nullopt},
        {"/app/page.jsp#;jsessionid=ABC", std::nullopt},
        {"/app;", std::nullopt},
    };
    for (const Case& c : cases) {
        INFO(test::printable(c.target));
        auto sid = find_session_id(c.target, "jsessionid", SessionIdIn::path);
        CHECK(sid.has_value() == c.sid.has_value());
        if (sid && c.sid) CHECK(*sid == *c.sid);
    }
}

TEST_CASE("the same session id maps to the same back end on every node", "[url-session]") {
    // Two nodes whose configs list the back ends in a different order.
    std::vector<WeightedBackend> node_a = {{"web1"}, {"web2"}, {"web3"}, {"web4"}};
    std::vector<WeightedBackend> node_b = {{"web3"}, {"web1"}, {"web4"}, {"web2"}};
    ConsistentHash a(node_a), b(node_b);
    size_t disagreements = 0;
    for (int i = 0; i < 1000; ++i) {
        std::string target = "/cart?sid=S" + std::to_string(i) + "&x=1";
        auto sid = find_session_id(target, "sid", SessionIdIn::query).value_or("");
        if (sid.empty() || a.key(*a.choose(sid)) != b.key(*b.choose(sid))) ++disagreements;
    }
    CHECK(disagreements == 0);
}
