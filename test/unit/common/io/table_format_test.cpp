#include <catch2/catch.hpp>

#include <string>

#include "io/table_format.hpp"

using dlba::io::Column;
using dlba::io::ColumnType;
using dlba::io::Table;
using nlohmann::json;

namespace {

Table status_table() {
    Table t;
    t.name = "status";
    t.source = "scheduler";
    t.version = 7;
    t.meta = {{"nodes", 2}, {"vip", "10.0.0.100"}};
    t.columns = {{"number", ColumnType::unsigned_integer}, {"eth0_mac", ColumnType::mac},
                 {"ip", ColumnType::ipv4},                 {"enabled", ColumnType::boolean},
                 {"weight", ColumnType::unsigned_integer}, {"delta", ColumnType::integer},
                 {"avg_ms", ColumnType::floating},         {"last_sweep", ColumnType::time},
                 {"name", ColumnType::string}};
    t.rows = {
        {1, "02:00:00:00:00:01", "10.0.0.1", true, 1, -5, 12.25, 1, "first"},
        {12, "02:00:00:00:00:0a", "10.0.0.12", false, 10, 300, nullptr, 0, "n2"},
    };
    return t;
}

// The document as it arrives over the socket: serialized and parsed again.
json wire(const json& doc) { return json::parse(doc.dump()); }

}  // namespace

TEST_CASE("table survives a JSON round trip unchanged", "[table_format]") {
    const Table t = status_table();
    std::string err;
    REQUIRE(t.validate(&err));

    const json doc = t.to_json();
    CHECK(doc["format"] == "dlba-table");
    CHECK(doc["format_version"] == 1);
    CHECK(doc["table"] == "status");
    CHECK(doc["columns"][1] == json({{"name", "eth0_mac"}, {"type", "mac"}}));

    auto back = Table::from_json(wire(doc), &err);
    REQUIRE(back);
    CHECK(err.empty());
    CHECK(back->name == "status");
    CHECK(back->source == "scheduler");
    CHECK(back->version == 7);
    CHECK(back->meta == t.meta);
    REQUIRE(back->columns.size() == t.columns.size());
    for (size_t i = 0; i < t.columns.size(); ++i) {
        CHECK(back->columns[i].name == t.columns[i].name);
        CHECK(back->columns[i].type == t.columns[i].type);
    }
    CHECK(back->rows == t.rows);
    CHECK(back->to_json() == doc);
}

TEST_CASE("every column type name maps back to its type", "[table_format]") {
    for (auto type : {ColumnType::integer, ColumnType::unsigned_integer, ColumnType::floating, ColumnType::string,
                      ColumnType::mac, ColumnType::ipv4, ColumnType::boolean, ColumnType::time})
        CHECK(dlba::io::column_type_from_name(dlba::io::column_type_name(type)) == type);
    CHECK_FALSE(dlba::io::column_type_from_name("double"));
}

TEST_CASE("from_json refuses documents that are not a valid version-1 table", "[table_format]") {
    struct Case {
        const char* what;
        void (*mutate)(json&);
        const char* error;  // a substring of the message
    };
    const Case cases[] = {
        {"not an object", [](json& d) { d = json::array(); }, "not a JSON object"},
        {"no format", [](json& d) { d.erase("format"); }, "missing \"format\""},
        {"reply, not table", [](json& d) { d["format"] = "dlba-reply"; }, "expected \"dlba-table\""},
        {"other format", [](json& d) { d["format"] = "glb-table"; }, "format is \"glb-table\""},
        {"no version", [](json& d) { d.erase("format_version"); }, "missing \"format_version\""},
        {"future version", [](json& d) { d["format_version"] = 2; }, "unsupported format_version 2"},
        {"version as string", [](json& d) { d["format_version"] = "1"; }, "missing \"format_version\""},
        {"no table name", [](json& d) { d.erase("table"); }, "\"table\""},
        {"empty table name", [](json& d) { d["table"] = ""; }, "table name is empty"},
        {"negative data version", [](json& d) { d["version"] = -1; }, "\"version\""},
        {"meta not object", [](json& d) { d["meta"] = json::array(); }, "\"meta\" is not an object"},
        {"columns not array", [](json& d) { d["columns"] = 3; }, "\"columns\""},
        {"unknown column type", [](json& d) { d["columns"][0]["type"] = "double"; }, "unknown type \"double\""},
        {"column without name", [](json& d) { d["columns"][2].erase("name"); }, "columns[2]"},
        {"rows not array", [](json& d) { d["rows"] = json::object(); }, "\"rows\""},
        {"row not array", [](json& d) { d["rows"][1] = 5; }, "rows[1] is not an array"},
        {"row too short", [](json& d) { d["rows"][0].erase(8); }, "rows[0] has 8 cells, expected 9"},
        {"row too long", [](json& d) { d["rows"][1].push_back(1); }, "rows[1] has 10 cells, expected 9"},
        {"string in uint", [](json& d) { d["rows"][0][0] = "1"; }, "rows[0][0]: column \"number\" is uint"},
        {"negative uint", [](json& d) { d["rows"][1][4] = -1; }, "column \"weight\" is uint, got -1"},
        {"float in int", [](json& d) { d["rows"][0][5] = 1.5; }, "column \"delta\" is int"},
        {"bad mac", [](json& d) { d["rows"][0][1] = "02:00:00:00:00"; }, "column \"eth0_mac\" is mac"},
        {"bad ipv4", [](json& d) { d["rows"][0][2] = "10.0.0.256"; }, "column \"ip\" is ipv4"},
        {"number in bool", [](json& d) { d["rows"][0][3] = 1; }, "column \"enabled\" is bool"},
        {"string in float", [](json& d) { d["rows"][0][6] = "12"; }, "column \"avg_ms\" is float"},
        {"negative time", [](json& d) { d["rows"][0][7] = -3; }, "column \"last_sweep\" is time"},
        {"number in string", [](json& d) { d["rows"][0][8] = 7; }, "column \"name\" is string"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        json doc = wire(status_table().to_json());
        c.mutate(doc);
        std::string err;
        CHECK_FALSE(Table::from_json(doc, &err));
        CHECK_THAT(err, Catch::Matchers::Contains(c.error));
    }
}

TEST_CASE("null is accepted in every column as 'not known'", "[table_format]") {
    Table t = status_table();
    t.rows.assign(1, std::vector<json>(t.columns.size(), nullptr));
    std::string err;
    CHECK(Table::from_json(wire(t.to_json()), &err));
}

TEST_CASE("a table without meta is still valid", "[table_format]") {
    json doc = wire(status_table().to_json());
    doc.erase("meta");
    std::string err;
    auto t = Table::from_json(doc, &err);
    REQUIRE(t);
    CHECK(t->meta == json::object());
}

TEST_CASE("render_text aligns numbers right and text left, like ipvsadm -L -n", "[table_format]") {
    const std::string expected =
        "status (scheduler, version 7)\n"
        "nodes: 2\n"
        "vip: 10.0.0.100\n"
        "\n"
        "number  eth0_mac           ip         enabled  weight  delta  avg_ms  last_sweep     name\n"
        "     1  02:00:00:00:00:01  10.0.0.1   yes           1     -5   12.25  3 min 2 s ago  first\n"
        "    12  02:00:00:00:00:0a  10.0.0.12  no           10    300       -  -              n2\n";
    CHECK(dlba::io::render_text(status_table(), 183) == expected);
}

TEST_CASE("timestamps show as ages in the text, the JSON keeps the epoch", "[table_format]") {
    using dlba::io::format_age;
    CHECK(format_age(0, 1700000000) == "-");
    CHECK(format_age(1700000000, 1700000000) == "0 s ago");
    CHECK(format_age(1699999997, 1700000000) == "3 s ago");
    CHECK(format_age(1700000000 - 125, 1700000000) == "2 min 5 s ago");
    CHECK(format_age(1700000000 - 4 * 3600 - 600, 1700000000) == "4 h 10 min ago");
    CHECK(format_age(1700000000 - 3 * 86400 - 7200, 1700000000) == "3 d 2 h ago");
    CHECK(format_age(1700000003, 1700000000) == "in 3 s");
    CHECK(dlba::io::is_time_key("last_sweep"));
    CHECK(dlba::io::is_time_key("config_loaded_unix"));
    CHECK_FALSE(dlba::io::is_time_key("unix"));
    CHECK_FALSE(dlba::io::is_time_key("lease_ms"));

    Table t;
    t.name = "sweep";
    t.source = "dlbad";
    t.meta = {{"last_sweep", 1700000000}, {"sweeps", 4}, {"time", nullptr}};
    const std::string text = dlba::io::render_text(t, 1700000012);
    CHECK(text.find("last_sweep: 12 s ago (2023-11-14T22:13:20Z)\n") != std::string::npos);
    CHECK(text.find("sweeps: 4\n") != std::string::npos);   // not a time: as it is
    CHECK(text.find("time: null\n") != std::string::npos);  // unknown stays unknown
    CHECK(t.to_json()["meta"]["last_sweep"] == 1700000000);   // the JSON view is unchanged
}

TEST_CASE("render_text shows an empty table as its header alone", "[table_format]") {
    Table t;
    t.name = "hash";
    t.source = "scheduler";
    t.version = 0;
    t.columns = {{"node", ColumnType::unsigned_integer}, {"buckets", ColumnType::unsigned_integer}};
    CHECK(dlba::io::render_text(t) == "hash (scheduler, version 0)\n\nnode  buckets\n");
}

TEST_CASE("render_text keeps control characters from breaking the layout", "[table_format]") {
    Table t;
    t.name = "x";
    t.source = "server";
    t.columns = {{"key", ColumnType::string}, {"hits", ColumnType::unsigned_integer}};
    t.rows = {{"a\nb", 3}};
    CHECK(dlba::io::render_text(t) == "x (server, version 0)\n\nkey  hits\na?b     3\n");
}

TEST_CASE("replies carry ok with a message or an error", "[table_format]") {
    const json ok = json::parse(dlba::io::reply_ok("node 2 failed"));
    CHECK(ok == json({{"format", "dlba-reply"}, {"format_version", 1}, {"ok", true}, {"message", "node 2 failed"}}));
    const json bad = json::parse(dlba::io::reply_error("no node 9"));
    CHECK(bad == json({{"format", "dlba-reply"}, {"format_version", 1}, {"ok", false}, {"error", "no node 9"}}));

    std::string err;
    auto r = dlba::io::reply_from_json(bad, &err);
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->text == "no node 9");

    CHECK_FALSE(dlba::io::reply_from_json(json({{"format", "dlba-reply"}, {"format_version", 1}}), &err));
    CHECK_THAT(err, Catch::Matchers::Contains("\"ok\""));
    CHECK_FALSE(dlba::io::reply_from_json(status_table().to_json(), &err));
    CHECK_THAT(err, Catch::Matchers::Contains("expected \"dlba-reply\""));
}

TEST_CASE("replies quoting invalid UTF-8 still serialize", "[table_format]") {
    const std::string text = dlba::io::reply_error("unknown command '\xff'");
    CHECK(json::parse(text)["ok"] == false);
}
