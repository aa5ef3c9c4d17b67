// Reading a daemon's answer once: ok or error from the dlba-reply document, never from a text search.
#include <catch2/catch.hpp>

#include "io/table_format.hpp"
#include "protocol/reply.hpp"

using namespace dlba;
using namespace dlba::proto;

TEST_CASE("a dlba-reply is read as ok or error with its text", "[reply]") {
    io::Reply r = read_reply(io::reply_ok("role is now active"));
    CHECK(r.ok);
    CHECK(r.text == "role is now active");
    r = read_reply(io::reply_error("no lease to renew"));
    CHECK_FALSE(r.ok);
    CHECK(r.text == "no lease to renew");
    REQUIRE(parse_reply(io::reply_error("x")));
    CHECK_FALSE(parse_reply(io::reply_error("x"))->ok);
}

TEST_CASE("no answer, an unreadable one, and a table", "[reply]") {
    io::Reply r = read_reply(std::nullopt);
    CHECK_FALSE(r.ok);
    CHECK(r.text == "no answer");
    r = read_reply(std::string("not json"));
    CHECK_FALSE(r.ok);
    CHECK(r.text == "unreadable answer");
    // Text that merely contains the words of an ok reply is not one.
    CHECK_FALSE(read_reply(std::string("{\"ok\":true}")).ok);
    CHECK_FALSE(parse_reply("{\"ok\":true}"));
    io::Table t;
    t.name = "status";
    t.source = "scheduler";
    CHECK(read_reply(t.to_json().dump()).ok);
    CHECK_FALSE(parse_reply(t.to_json().dump()));
}

TEST_CASE("the TCP ports' reply lines: OK and ERR with their message", "[reply]") {
    CHECK(ok_line("prepared 00000000000000ff on node 2") == "OK prepared 00000000000000ff on node 2\n");
    CHECK(error_line("bad request") == "ERR bad request\n");
    CHECK(ok_line("") == "OK\n");

    io::Reply r = read_reply_line("OK aborted\n");
    CHECK(r.ok);
    CHECK(r.text == "aborted");
    r = read_reply_line("ERR t.conf:3: 'scheduler.table_size' cannot change");
    CHECK_FALSE(r.ok);
    CHECK(r.text == "t.conf:3: 'scheduler.table_size' cannot change");
    CHECK(read_reply_line("OK").ok);
    CHECK_FALSE(read_reply_line("OKAY then").ok);
    r = read_reply_line("{\"format\":\"dlba-reply\"}");
    CHECK_FALSE(r.ok);
    CHECK(r.text == "{\"format\":\"dlba-reply\"}");
    CHECK_FALSE(read_reply_line("").ok);
}
