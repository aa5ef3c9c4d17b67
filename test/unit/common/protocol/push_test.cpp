// The config push's own piece: the id of a file.
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
