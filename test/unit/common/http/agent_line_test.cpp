#include <catch2/catch.hpp>

#include <string>

#include "http/agent_line.hpp"

using namespace dlba::http;

namespace {

AgentLineResult parse(const std::string& s, bool closed = false) { return parse_agent_line(s, closed); }

}  // namespace

TEST_CASE("a percentage alone scales the weight and names nothing else") {
    const auto r = parse("25%\n");
    REQUIRE(r.ok());
    CHECK(r.report.percent == 25);
    CHECK_FALSE(r.report.health);
    CHECK_FALSE(r.report.admin);
    CHECK(parse("0%\n").report.percent == 0);
    CHECK(parse("100%\r\n").report.percent == 100);
    CHECK(parse("007%\n").report.percent == 7);
}

TEST_CASE("state words set their kind, case-insensitively") {
    CHECK(parse("up\n").report.health == AgentHealth::up);
    CHECK(parse("DOWN\n").report.health == AgentHealth::down);
    CHECK(parse("failed\n").report.health == AgentHealth::down);
    CHECK(parse("stopped\n").report.health == AgentHealth::down);
    CHECK(parse("drain\n").report.admin == AgentAdmin::drain);
    CHECK(parse("Maint\n").report.admin == AgentAdmin::maint);
    CHECK(parse("ready\n").report.admin == AgentAdmin::ready);
}

TEST_CASE("several words separated by spaces, tabs or commas, with a trailing comment") {
    const auto r = parse("  up, 75%\tdrain #load 3.2 on 8 cpus\n");
    REQUIRE(r.ok());
    CHECK(r.report.percent == 75);
    CHECK(r.report.health == AgentHealth::up);
    CHECK(r.report.admin == AgentAdmin::drain);
    const auto d = parse("down#disk full\n");
    REQUIRE(d.ok());
    CHECK(d.report.health == AgentHealth::down);
}

TEST_CASE("only the first line counts; without a line end it waits unless the agent closed") {
    CHECK(parse("50%\nmaint\n").report.percent == 50);
    CHECK_FALSE(parse("50%\nmaint\n").report.admin);
    CHECK(parse("50%").error == AgentLineError::incomplete);
    const auto closed = parse("50%", true);
    REQUIRE(closed.ok());
    CHECK(closed.report.percent == 50);
}

TEST_CASE("malformed lines are refused with a reason and report nothing") {
    CHECK(parse("\n").error == AgentLineError::empty);
    CHECK(parse(" , \t\n").error == AgentLineError::empty);
    CHECK(parse("#only a comment\n").error == AgentLineError::empty);
    CHECK(parse("", true).error == AgentLineError::empty);
    CHECK(parse("hello\n").error == AgentLineError::unknown_word);
    CHECK(parse("upp\n").error == AgentLineError::unknown_word);
    CHECK(parse("maxconn:10\n").error == AgentLineError::unknown_word);
    CHECK(parse("101%\n").error == AgentLineError::bad_percent);
    CHECK(parse("%\n").error == AgentLineError::bad_percent);
    CHECK(parse("2x%\n").error == AgentLineError::bad_percent);
    CHECK(parse("-5%\n").error == AgentLineError::bad_percent);
    CHECK(parse("1000%\n").error == AgentLineError::bad_percent);
    CHECK(parse("12.5%\n").error == AgentLineError::bad_percent);
    CHECK(parse("up down\n").error == AgentLineError::repeated);
    CHECK(parse("10% 20%\n").error == AgentLineError::repeated);
    CHECK(parse("drain,maint\n").error == AgentLineError::repeated);
    CHECK(parse(std::string("up\0", 3) + "\n").error == AgentLineError::bad_byte);
    CHECK(parse("up\x7f\n").error == AgentLineError::bad_byte);
    CHECK(parse("up #caf\xc3\xa9\n").error == AgentLineError::bad_byte);
    const auto bad = parse("25% nonsense\n");
    CHECK(bad.error == AgentLineError::unknown_word);
    CHECK_FALSE(bad.report.percent);  // nothing of a refused line is reported
}

TEST_CASE("a line longer than the limit is refused, ended or not") {
    const std::string longline(kMaxAgentLine + 1, ' ');
    CHECK(parse(longline).error == AgentLineError::too_long);
    CHECK(parse(longline + "up\n").error == AgentLineError::too_long);
    CHECK(parse(std::string(kMaxAgentLine - 3, ' ') + "up\n").ok());
}

TEST_CASE("every error has a name") {
    for (int e = 0; e <= static_cast<int>(AgentLineError::repeated); ++e) {
        CHECK(std::string(agent_line_error_name(static_cast<AgentLineError>(e))) != "?");
    }
}
