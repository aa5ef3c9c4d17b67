// dlbactl top's rates: differences of two samples over the time between them.
#include <catch2/catch.hpp>

#include "ctl/top.hpp"

using namespace dlba;
using io::ColumnType;

namespace {

io::Table nodes(uint64_t p1, uint64_t b1, nlohmann::json hits1, uint64_t p2) {
    io::Table t;
    t.name = "status";
    t.source = "scheduler";
    t.meta = {{"node", 1}, {"role", "active"}};
    t.columns = {{"node", ColumnType::unsigned_integer},    {"state", ColumnType::string},
                 {"buckets", ColumnType::unsigned_integer}, {"packets", ColumnType::unsigned_integer},
                 {"bytes", ColumnType::unsigned_integer},   {"hits", ColumnType::unsigned_integer},
                 {"open_conns", ColumnType::unsigned_integer}};
    t.rows = {{1, "enabled", 10, p1, b1, hits1, 3}, {2, "draining", 5, p2, 0, nullptr, nullptr}};
    return t;
}

}  // namespace

TEST_CASE("node rates: counters' differences per second, gauges as they are now", "[dlbactl]") {
    const io::Table r = ctl::node_rates(nodes(100, 1000, 10, 50), nodes(300, 5000, 30, 40), 2.0);
    std::string err;
    REQUIRE(r.validate(&err));
    REQUIRE(r.columns.size() == 7);
    CHECK(r.columns[0].name == "node");
    CHECK(r.columns[1].name == "state");
    CHECK(r.columns[2].name == "packets/s");
    CHECK(r.columns[3].name == "bytes/s");
    CHECK(r.columns[4].name == "hits/s");
    CHECK(r.columns[5].name == "buckets");
    CHECK(r.meta["interval_s"] == 2.0);
    CHECK(r.meta["role"] == "active");
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0][2] == 100.0);
    CHECK(r.rows[0][3] == 2000.0);
    CHECK(r.rows[0][4] == 10.0);
    CHECK(r.rows[0][1] == "enabled");
    CHECK(r.rows[0][5] == 10);
    // A counter that went down (the scheduler restarted) or is unknown gives no rate.
    CHECK(r.rows[1][2].is_null());
    CHECK(r.rows[1][4].is_null());
    CHECK(r.rows[1][3] == 0.0);
}

TEST_CASE("back-end rates: requests and errors per second; a back end new in the second sample has none",
          "[dlbactl]") {
    io::Table a;
    a.name = "backends";
    a.source = "server";
    a.columns = {{"key", ColumnType::string}, {"state", ColumnType::string}, {"open_conns", ColumnType::unsigned_integer},
                 {"hits", ColumnType::unsigned_integer}, {"errors", ColumnType::unsigned_integer}};
    a.rows = {{"web1", "up", 2, 100, 1}};
    io::Table b = a;
    b.rows = {{"web1", "up", 4, 150, 1}, {"web9", "down", 0, 7, 7}};
    const io::Table r = ctl::backend_rates(a, b, 0.5);
    std::string err;
    REQUIRE(r.validate(&err));
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0][0] == "web1");
    CHECK(r.rows[0][2] == 100.0);  // requests/s
    CHECK(r.rows[0][3] == 0.0);    // errors/s
    CHECK(r.rows[0][4] == 4);      // open_conns now
    CHECK(r.rows[1][2].is_null());
}
