#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/upgrade.hpp"

using namespace dlba::http;

namespace {

const std::vector<std::string> kWebsocket{"websocket"};

std::string filtered(std::vector<Header> headers, const std::vector<std::string>& allowed = kWebsocket,
                     size_t* count = nullptr) {
    std::string out;
    const size_t n = filter_upgrade(headers, allowed, out);
    if (count) *count = n;
    return out;
}

}  // namespace

TEST_CASE("an Upgrade element splits into a protocol name and an optional version", "[upgrade]") {
    struct Row {
        const char* element;
        bool valid;
        const char* name;
        const char* version;
    };
    const std::vector<Row> rows = {
        {"websocket", true, "websocket", ""},
        {"WebSocket", true, "WebSocket", ""},
        {"HTTP/2.0", true, "HTTP", "2.0"},
        {"h2c", true, "h2c", ""},
        {"", false, "", ""},
        {"/1", false, "", "1"},
        {"foo/", false, "foo", ""},
        {"a/b/c", false, "a", "b/c"},
        {"web socket", false, "web socket", ""},
        {"websocket;q=1", false, "websocket;q=1", ""},
    };
    for (const Row& r : rows) {
        INFO(r.element);
        const UpgradeProtocol p = parse_upgrade_protocol(r.element);
        CHECK(p.valid == r.valid);
        CHECK(p.name == r.name);
        CHECK(p.version == r.version);
    }
}

TEST_CASE("only the protocols a service allows are passed on, case-insensitively", "[upgrade]") {
    size_t n = 0;
    CHECK(filtered({{"Upgrade", "websocket"}}, kWebsocket, &n) == "websocket");
    CHECK(n == 1);
    CHECK(filtered({{"upgrade", "WebSocket"}}) == "WebSocket");  // the field name and the token in any case
    CHECK(filtered({{"Upgrade", "h2c"}}, kWebsocket, &n).empty());
    CHECK(n == 0);
    CHECK(filtered({{"Upgrade", "h2c, websocket"}}) == "websocket");
    CHECK(filtered({{"Upgrade", "websocket/13, h2c"}}) == "websocket/13");
    // Several fields are one list (RFC 9110 §5.3); a repeat goes once.
    CHECK(filtered({{"Upgrade", "h2c"}, {"Host", "x"}, {"Upgrade", "websocket"}}) == "websocket");
    CHECK(filtered({{"Upgrade", "websocket, WEBSOCKET"}}, kWebsocket, &n) == "websocket");
    CHECK(n == 1);
    // Malformed elements and empty list elements are left out, not passed on.
    CHECK(filtered({{"Upgrade", " , websocket;x=1, web socket"}}, kWebsocket, &n).empty());
    CHECK(n == 0);
    // Other protocols go on when the service names them; an empty list passes nothing.
    const std::vector<std::string> both{"websocket", "h2c"};
    CHECK(filtered({{"Upgrade", "h2c, websocket"}}, both) == "h2c, websocket");
    CHECK(filtered({{"Upgrade", "websocket"}}, {}).empty());
    // Not an Upgrade field: nothing.
    CHECK(filtered({{"Connection", "websocket"}}).empty());
}

TEST_CASE("a 101 is accepted only for a protocol that was offered", "[upgrade]") {
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "websocket"}}, "websocket"));
    CHECK(upgrade_accepted(std::vector<Header>{{"upgrade", "WebSocket"}}, "websocket"));
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "h2c"}}, "websocket, h2c"));
    // Versions: compared when both carry one.
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "foo/2"}}, "foo/2"));
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "foo"}}, "foo/2"));
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "foo/2"}}, "foo"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "foo/3"}}, "foo/2"));
    // Not offered, malformed, or no Upgrade field at all.
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "h2c"}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "websocket, h2c"}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "web socket"}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", ""}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Connection", "upgrade"}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "websocket"}}, ""));
    // Two fields: every element of both must have been offered.
    CHECK(upgrade_accepted(std::vector<Header>{{"Upgrade", "websocket"}, {"Upgrade", "websocket"}}, "websocket"));
    CHECK_FALSE(upgrade_accepted(std::vector<Header>{{"Upgrade", "websocket"}, {"Upgrade", "tls"}}, "websocket"));
}
