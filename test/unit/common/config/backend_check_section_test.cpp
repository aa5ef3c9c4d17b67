// A back end's 'check' and 'agent' groups: their values and defaults, and the refusals with file:line.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

const std::string kPlain = R"(address = "127.0.0.12"; port = 8081; enabled = false; })";

// The back end "b" (line 28 of kServerFileText) with `groups` added on that line.
std::string with(const std::string& groups) {
    return replace(kServerFileText, kPlain, R"(address = "127.0.0.12"; port = 8081; enabled = false; )" + groups + " }");
}

}  // namespace

TEST_CASE("backend check and agent: off unless given; values and defaults", "[config][server][health]") {
    const Config plain = loaded(kServerFileText, "srv.conf");
    CHECK_FALSE(plain.backends[1].check.enabled);
    CHECK_FALSE(plain.backends[1].agent.enabled);

    const Config c = loaded(with(R"(check = { path = "/health?deep=1"; interval_ms = 500; timeout_ms = 200; rise = 1;
                                      fall = 4; expect_status = 204; };)"),
                            "srv.conf");
    const BackendCheckConfig& k = c.backends[1].check;
    CHECK(k.enabled);
    CHECK(k.path == "/health?deep=1");
    CHECK(k.interval_ms == 500);
    CHECK(k.timeout_ms == 200);
    CHECK(k.rise == 1);
    CHECK(k.fall == 4);
    CHECK(k.expect_status == 204);
    CHECK(k.line == 28);

    const Config d = loaded(with("check = { }; agent = { port = 9777; };"), "srv.conf");
    CHECK(d.backends[1].check.path == "/");
    CHECK(d.backends[1].check.interval_ms == 2000);
    CHECK(d.backends[1].check.timeout_ms == 1000);
    CHECK(d.backends[1].check.rise == 2);
    CHECK(d.backends[1].check.fall == 3);
    CHECK(d.backends[1].check.expect_status == 0);  // any 2xx or 3xx
    CHECK(d.backends[1].agent.enabled);
    CHECK(d.backends[1].agent.port == 9777);
    CHECK(d.backends[1].agent.interval_ms == 2000);
    CHECK(d.backends[1].agent.timeout_ms == 1000);

    const Config a = loaded(with("agent = { port = 1; interval_ms = 100; timeout_ms = 99; };"), "srv.conf");
    CHECK(a.backends[1].agent.interval_ms == 100);
    CHECK(a.backends[1].agent.timeout_ms == 99);
}

TEST_CASE("backend check and agent errors name file, line and reason", "[config][server][health]") {
    check_refusals("srv.conf", {
        {"unknown check key", with("check = { pth = \"/\"; };"), 28, "pth"},
        {"relative path", with("check = { path = \"health\"; };"), 28, "must start with '/'"},
        {"path with a space", with("check = { path = \"/a b\"; };"), 28, "must start with '/'"},
        {"empty path", with("check = { path = \"\"; };"), 28, "must start with '/'"},
        {"rise 0", with("check = { rise = 0; };"), 28, "out of range"},
        {"fall 0", with("check = { fall = 0; };"), 28, "out of range"},
        {"interval too short", with("check = { interval_ms = 50; };"), 28, "out of range"},
        {"status 99", with("check = { expect_status = 99; };"), 28, "out of range"},
        {"status 600", with("check = { expect_status = 600; };"), 28, "out of range"},
        {"status as text", with("check = { expect_status = \"200\"; };"), 28, "must be an integer"},
        {"timeout = interval", with("check = { interval_ms = 1000; timeout_ms = 1000; };"), 28,
         "must be less than interval_ms"},
        {"timeout beyond a default interval", with("check = { timeout_ms = 5000; };"), 28,
         "must be less than interval_ms"},
        {"check not a group", with("check = 1;"), 28, "must be a group"},
        {"agent without port", with("agent = { interval_ms = 1000; };"), 28, "missing setting 'port'"},
        {"agent port 0", with("agent = { port = 0; };"), 28, "out of range"},
        {"agent port too big", with("agent = { port = 70000; };"), 28, "out of range"},
        {"agent timeout = interval", with("agent = { port = 1; interval_ms = 300; timeout_ms = 300; };"), 28,
         "must be less than interval_ms"},
        {"unknown agent key", with("agent = { port = 1; host = \"x\"; };"), 28, "host"},
    });
}

TEST_CASE("a check refusal points at the line of the bad setting", "[config][server][health]") {
    const std::string text = with("check = { path = \"/h\";\n interval_ms = 400;\n timeout_ms = 400; };");
    check_refusals("srv.conf", {{"timeout on its own line", text, 30, "must be less than interval_ms"},
                                {"path on the next line", with("check = {\n path = \"h\"; };"), 29, "'/'"}});
}
