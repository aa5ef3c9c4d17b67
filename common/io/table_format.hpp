// The one monitoring format: every table a daemon serves (scheduler or DLBA server data) and every answer to a
// control command is a versioned JSON document that dlbactl can check before it trusts it.
//
//   {"format":"dlba-table","format_version":1,"table":"status","source":"scheduler","version":42,
//    "meta":{...},"columns":[{"name":"number","type":"uint"},...],"rows":[[1,...],...]}
//   {"format":"dlba-reply","format_version":1,"ok":true,"message":"..."}
//   {"format":"dlba-reply","format_version":1,"ok":false,"error":"..."}
//
// Any cell may be null, meaning "not known" (e.g. average response time before the first sweep).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dlba::io {

inline constexpr int kFormatVersion = 1;

enum class ColumnType : uint8_t {
    integer,           // "int": signed 64-bit
    unsigned_integer,  // "uint": unsigned 64-bit
    floating,          // "float": any JSON number
    string,            // "string"
    mac,               // "mac": "02:00:00:00:00:01"
    ipv4,              // "ipv4": "10.0.0.1"
    boolean,           // "bool"
    time,              // "time": unix seconds, 0 = never
};
const char* column_type_name(ColumnType type);
std::optional<ColumnType> column_type_from_name(std::string_view name);

struct Column {
    std::string name;
    ColumnType type;
};

struct Table {
    std::string name;    // what was asked for: "hash", "status", "counters", ...
    std::string source;  // who answers: "scheduler", "server", ...
    uint64_t version = 0;  // the producer's version of the data (e.g. the bucket-table version)
    nlohmann::json meta = nlohmann::json::object();  // flat key -> value facts about the whole table
    std::vector<Column> columns;
    std::vector<std::vector<nlohmann::json>> rows;

    nlohmann::json to_json() const;
    // Checks format, format_version and shape, then validate().
    static std::optional<Table> from_json(const nlohmann::json& doc, std::string* err);
    // Every row has one cell per column and every cell is null or of its column's type.
    bool validate(std::string* err) const;
};

// The serialized dlba-reply documents a daemon sends for anything that is not a table.
std::string reply_ok(std::string_view message);
std::string reply_error(std::string_view message);

struct Reply {
    bool ok = false;
    std::string text;  // the message when ok, the error otherwise
};
std::optional<Reply> reply_from_json(const nlohmann::json& doc, std::string* err);

// Operator view, like `ipvsadm -L -n`: a title line, meta as "key: value" lines, a blank line, then a header
// and the rows in aligned columns (numbers right-aligned, everything else left-aligned, null as "-").
// Timestamps ("time" columns, and meta facts that are unix times: "time", "last_sweep", "last_ok", "*_unix")
// show as ages ("3 s ago"; meta adds the UTC time); the JSON keeps the epoch seconds. `now_unix` is the clock they
// are measured against (the current time when not given).
std::string render_text(const Table& table);
std::string render_text(const Table& table, uint64_t now_unix);

// "-" for 0 (never), else "3 s ago", "2 min 5 s ago", "4 h 10 min ago", "3 d 2 h ago"; a time ahead of now (another
// clock) "in 3 s".
std::string format_age(uint64_t then_unix, uint64_t now_unix);
// Whether a meta fact named `key` holds a unix time.
bool is_time_key(std::string_view key);

}  // namespace dlba::io
