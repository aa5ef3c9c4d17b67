#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "ctl/ctl_args.hpp"
#include "ctl/ctl_output.hpp"
#include "io/table_format.hpp"

using dlba::ctl::print_answer;
using dlba::io::ColumnType;

namespace {

struct Printed {
    int code;
    std::string out;
    std::string err;
};

Printed print(const std::string& answer, bool json) {
    std::ostringstream out, err;
    int code = print_answer(answer, json, out, err);
    return {code, out.str(), err.str()};
}

std::string small_table() {
    dlba::io::Table t;
    t.name = "counters";
    t.source = "scheduler";
    t.version = 3;
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    t.rows = {{"rx_packets", 1200}, {"dropped_truncated", 4}};
    return t.to_json().dump();
}

}  // namespace

TEST_CASE("a table is printed as aligned text, or as indented JSON with --json", "[dlbactl]") {
    Printed text = print(small_table(), false);
    CHECK(text.code == 0);
    CHECK(text.err.empty());
    CHECK(text.out ==
          "counters (scheduler, version 3)\n"
          "\n"
          "counter            value\n"
          "rx_packets          1200\n"
          "dropped_truncated      4\n");

    Printed json = print(small_table(), true);
    CHECK(json.code == 0);
    CHECK(json.out.rfind("{\n  \"columns\": [\n    {\n", 0) == 0);
    CHECK(nlohmann::json::parse(json.out) == nlohmann::json::parse(small_table()));
}

TEST_CASE("replies print ok on stdout and errors on stderr with exit 1", "[dlbactl]") {
    Printed okay = print(dlba::io::reply_ok("node 2 marked failed"), false);
    CHECK(okay.code == dlba::ctl::kExitOk);
    CHECK(okay.out == "ok: node 2 marked failed\n");

    Printed bad = print(dlba::io::reply_error("no node 9"), false);
    CHECK(bad.code == dlba::ctl::kExitDaemonError);
    CHECK(bad.out.empty());
    CHECK(bad.err == "error: no node 9\n");

    Printed bad_json = print(dlba::io::reply_error("no node 9"), true);
    CHECK(bad_json.code == dlba::ctl::kExitDaemonError);
    CHECK(nlohmann::json::parse(bad_json.out)["error"] == "no node 9");
}

TEST_CASE("answers that are not a valid table or reply are an error", "[dlbactl]") {
    const char* const wide_row = R"({"format":"dlba-table","format_version":1,"table":"t","source":"s",)"
                                 R"("version":1,"columns":[{"name":"n","type":"uint"}],"rows":[[1,2]]})";
    for (const char* answer :
         {"hello\n", "[]", R"({"format":"dlba-reply","format_version":2,"ok":true})", wide_row, R"({"format":5})"}) {
        INFO(nlohmann::json(answer).dump());  // escaped: a raw newline would break the TAP stream
        Printed p = print(answer, true);
        CHECK(p.code == dlba::ctl::kExitDaemonError);
        CHECK(p.out.empty());
        CHECK_THAT(p.err, Catch::Matchers::StartsWith("error: "));
    }
}
