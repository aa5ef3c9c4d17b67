#include <catch2/catch.hpp>

#include "io/words.hpp"

using dlba::io::split_words;

TEST_CASE("control request lines split into words on spaces, tabs and carriage returns") {
    using V = std::vector<std::string_view>;
    CHECK(split_words("node 3 drain") == V{"node", "3", "drain"});
    CHECK(split_words("  role\tactive  lease 500\r") == V{"role", "active", "lease", "500"});
    CHECK(split_words("").empty());
    CHECK(split_words(" \t\r ").empty());
    CHECK(split_words("status") == V{"status"});
}

TEST_CASE("the words are views into the line, not copies") {
    const std::string line = "hash all 65536";
    const auto w = split_words(line);
    REQUIRE(w.size() == 3);
    CHECK(w[2].data() == line.data() + 9);
}
