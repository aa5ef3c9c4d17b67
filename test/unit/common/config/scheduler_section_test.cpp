// The 'scheduler' section: bucket table, hash, idle polling, gratuitous ARP, fragments.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the scheduler section loads its values and defaults", "[config]") {
    const Config c = loaded(kArrayText, "test.conf");
    CHECK(c.scheduler.table_size == 4096);
    CHECK(c.scheduler.hash == HashKind::seed_sum);
    CHECK(c.scheduler.bucket_idle_timeout_s == 30);
    CHECK(c.scheduler.idle_poll.sleep_max_us == 500);
    CHECK(c.scheduler.idle_poll.deep_after_ms == 1000);  // default
    CHECK(c.scheduler.idle_poll.deep_sleep_us == 5000);  // default
    CHECK(c.scheduler.garp_count == 3);  // default
}

TEST_CASE("scheduler section errors name file, line and reason", "[config]") {
    check_refusals("test.conf", {
        {"unknown key", replace(kArrayText, "hash = \"seed_sum\";", "hsah = \"seed_sum\";"), 9,
         "unknown setting 'hsah'"},
        {"bad hash name", replace(kArrayText, "\"seed_sum\"", "\"crc\""), 9, "is not one of"},
        {"table too small", replace(kArrayText, "table_size = 4096", "table_size = 100"), 8, "out of range"},
        {"sleep bounds inverted", replace(kArrayText, "sleep_max_us = 500", "sleep_max_us = 1"), 11,
         "below sleep_min_us"},
        {"deep sleep shorter than the short ones",
         replace(kArrayText, "sleep_max_us = 500;", "sleep_max_us = 500; deep_sleep_us = 100;"), 11,
         "below sleep_max_us"},
        {"deep sleep after zero ms", replace(kArrayText, "sleep_max_us = 500;", "sleep_max_us = 500; deep_after_ms = 0;"),
         11, "out of range"},
    });
}
