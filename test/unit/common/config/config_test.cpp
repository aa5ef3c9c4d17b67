// The entry points: the whole file (load_config, parse_config) and the array sections alone (load_array_config).
#include <catch2/catch.hpp>

#include "config/array_config.hpp"
#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("errors not tied to one section name file, line and reason", "[config]") {
    check_refusals("test.conf", {
        {"syntax error", replace(kArrayText, "vip = \"", "vip = = \""), 4, "syntax error"},
    });
    check_refusals("srv.conf", {
        {"unknown top-level section", kServerFileText + "proxy = { };\n", 38, "unknown setting 'proxy'"},
    });
}

TEST_CASE("a file without the server sections loads with none", "[config]") {
    const Config bare = loaded(kServerArrayText, "srv.conf");
    CHECK_FALSE(bare.server);
    CHECK_FALSE(bare.tls);
    CHECK(bare.backends.empty());
    CHECK(bare.services.empty());
}

TEST_CASE("a missing file is refused with its name", "[config]") {
    ConfigResult r = load_config("/nonexistent/dlba.conf");
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).str() == "/nonexistent/dlba.conf: cannot read the file");
}

TEST_CASE("errors in a file on disk carry that file's path and line", "[config]") {
    const TempConfigFile file(replace(kArrayText, "weight = 2;", "weight = -1;"));
    ConfigResult r = load_config(file.path());
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).file == file.path());
    CHECK(std::get<ConfigError>(r).line == 15);
}

TEST_CASE("the shipped example configuration is valid", "[config]") {
    ConfigResult r = load_config(DLBA_SOURCE_ROOT "/conf/dlba.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    CHECK(std::get<Config>(r).nodes.size() == 3);
}

TEST_CASE("the array sections alone load from the same file, still validated whole", "[config]") {
    ArrayConfigResult shipped = load_array_config(DLBA_SOURCE_ROOT "/conf/dlba.conf");
    if (auto* e = std::get_if<ConfigError>(&shipped)) FAIL(e->str());
    CHECK(std::get<ArrayConfig>(shipped).nodes.size() == 3);
    CHECK(std::get<ArrayConfig>(shipped).source == DLBA_SOURCE_ROOT "/conf/dlba.conf");

    // A bad server section is refused here too, with the same file, line and reason as the whole-file loader.
    const TempConfigFile file(replace(kServerFileText, "workers = 2;", "wokers = 2;"));
    ArrayConfigResult r = load_array_config(file.path());
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).str() == std::get<ConfigError>(load_config(file.path())).str());
    CHECK(std::get<ConfigError>(r).line == 9);
}
