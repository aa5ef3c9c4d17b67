// The config push's own pieces: the id of a file and the OK/ERR reply lines.
#include <catch2/catch.hpp>

#include "protocol/push.hpp"

using namespace dlba::proto;

TEST_CASE("a configuration's id is 16 hex digits of FNV-1a 64 over its bytes", "[push]") {
    // With the offset basis ids have always been computed with (1469598103934665603), so old and new agree.
    CHECK(push::config_id("") == "14650fb0739d0383");
    CHECK(push::config_id("a") == "44bd8ad473cd9906");
    CHECK(push::config_id("a").size() == 16);
    CHECK(push::config_id("array = {};") != push::config_id("array = { };"));
}

TEST_CASE("reply lines: OK and ERR with their message", "[push]") {
    CHECK(push::ok("prepared 00000000000000ff on node 2") == "OK prepared 00000000000000ff on node 2\n");
    CHECK(push::error("bad request") == "ERR bad request\n");
    CHECK(push::ok("") == "OK\n");

    dlba::io::Reply r = push::read_reply("OK aborted\n");
    CHECK(r.ok);
    CHECK(r.text == "aborted");
    r = push::read_reply("ERR t.conf:3: 'scheduler.table_size' cannot change");
    CHECK_FALSE(r.ok);
    CHECK(r.text == "t.conf:3: 'scheduler.table_size' cannot change");
    CHECK(push::read_reply("OK").ok);
    CHECK_FALSE(push::read_reply("OKAY then").ok);
    r = push::read_reply("{\"format\":\"dlba-reply\"}");
    CHECK_FALSE(r.ok);
    CHECK(r.text == "{\"format\":\"dlba-reply\"}");
    CHECK_FALSE(push::read_reply("").ok);
}
