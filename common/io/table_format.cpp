#include "io/table_format.hpp"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

#include "net_types.hpp"

namespace dlba::io {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<ColumnType, const char*>, 8> kTypeNames{{
    {ColumnType::integer, "int"},
    {ColumnType::unsigned_integer, "uint"},
    {ColumnType::floating, "float"},
    {ColumnType::string, "string"},
    {ColumnType::mac, "mac"},
    {ColumnType::ipv4, "ipv4"},
    {ColumnType::boolean, "bool"},
    {ColumnType::time, "time"},
}};

bool fail(std::string* err, std::string message) {
    if (err) *err = std::move(message);
    return false;
}

// A JSON integer that fits the column: nlohmann keeps C++ ints signed but parses non-negative text as unsigned,
// so both spellings of the same value must be accepted.
bool is_int64(const json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max());
    return v.is_number_integer();
}
bool is_uint64(const json& v) {
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

bool cell_matches(ColumnType type, const json& v) {
    if (v.is_null()) return true;
    switch (type) {
    case ColumnType::integer: return is_int64(v);
    case ColumnType::unsigned_integer: return is_uint64(v);
    case ColumnType::floating: return v.is_number();
    case ColumnType::string: return v.is_string();
    case ColumnType::mac: return v.is_string() && MacAddr::parse(v.get_ref<const std::string&>()).has_value();
    case ColumnType::ipv4: return v.is_string() && parse_ipv4(v.get_ref<const std::string&>()).has_value();
    case ColumnType::boolean: return v.is_boolean();
    case ColumnType::time: return is_uint64(v);
    }
    return false;
}

std::string reply(bool ok, std::string_view text) {
    json doc = {{"format", "dlba-reply"}, {"format_version", kFormatVersion}, {"ok", ok}};
    doc[ok ? "message" : "error"] = text;
    // Replace, not throw, on invalid UTF-8: error texts may quote whatever bytes a client sent.
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool check_header(const json& doc, std::string_view format, std::string* err) {
    if (!doc.is_object()) return fail(err, "not a JSON object");
    auto f = doc.find("format");
    if (f == doc.end() || !f->is_string()) return fail(err, "missing \"format\"");
    if (*f != format) return fail(err, "format is \"" + f->get<std::string>() + "\", expected \"" +
                                           std::string(format) + "\"");
    auto v = doc.find("format_version");
    if (v == doc.end() || !v->is_number_integer()) return fail(err, "missing \"format_version\"");
    if (*v != kFormatVersion)
        return fail(err, "unsupported format_version " + v->dump() + " (this build understands " +
                             std::to_string(kFormatVersion) + ")");
    return true;
}

// A string member, required.
bool get_string(const json& doc, const char* key, std::string* out, std::string* err) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) return fail(err, std::string("missing string \"") + key + "\"");
    *out = it->get<std::string>();
    return true;
}

// ---- text rendering ------------------------------------------------------------------------------------------

bool right_aligned(ColumnType type) {
    return type == ColumnType::integer || type == ColumnType::unsigned_integer || type == ColumnType::floating;
}

// Control characters would break the line layout; the JSON view shows the exact bytes.
std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

std::string format_float(double d) {
    // Three decimals are plenty for rates and milliseconds; trailing zeros only add noise.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", d);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

std::string format_time(uint64_t t) {
    if (t == 0) return "-";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (!gmtime_r(&tt, &tm)) return std::to_string(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string cell_text(ColumnType type, const json& v, uint64_t now) {
    if (v.is_null()) return "-";
    switch (type) {
    case ColumnType::integer:
    case ColumnType::unsigned_integer: return v.dump();
    case ColumnType::floating: return format_float(v.get<double>());
    case ColumnType::string:
    case ColumnType::mac:
    case ColumnType::ipv4: return printable(v.get_ref<const std::string&>());
    case ColumnType::boolean: return v.get<bool>() ? "yes" : "no";
    case ColumnType::time: return format_age(v.get<uint64_t>(), now);
    }
    return v.dump();
}

std::string meta_text(const std::string& key, const json& v, uint64_t now) {
    if (is_time_key(key) && is_uint64(v)) {
        const uint64_t t = v.get<uint64_t>();
        return t ? format_age(t, now) + " (" + format_time(t) + ")" : "-";
    }
    if (v.is_string()) return printable(v.get_ref<const std::string&>());
    if (v.is_number_float()) return format_float(v.get<double>());
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char* column_type_name(ColumnType type) {
    for (const auto& [t, name] : kTypeNames)
        if (t == type) return name;
    return "?";
}

std::optional<ColumnType> column_type_from_name(std::string_view name) {
    for (const auto& [t, n] : kTypeNames)
        if (name == n) return t;
    return std::nullopt;
}

json Table::to_json() const {
    json cols = json::array();
    for (const auto& c : columns) cols.push_back({{"name", c.name}, {"type", column_type_name(c.type)}});
    json rows_json = json::array();
    for (const auto& row : rows) rows_json.push_back(row);
    return {{"format", "dlba-table"}, {"format_version", kFormatVersion}, {"table", name}, {"source", source},
            {"version", version}, {"meta", meta}, {"columns", std::move(cols)}, {"rows", std::move(rows_json)}};
}

std::optional<Table> Table::from_json(const json& doc, std::string* err) {
    std::string e;
    auto bad = [&](std::string message) -> std::optional<Table> {
        fail(err, std::move(message));
        return std::nullopt;
    };
    if (!check_header(doc, "dlba-table", &e)) return bad(e);
    Table t;
    if (!get_string(doc, "table", &t.name, &e) || !get_string(doc, "source", &t.source, &e)) return bad(e);
    auto v = doc.find("version");
    if (v == doc.end() || !is_uint64(*v)) return bad("missing unsigned \"version\"");
    t.version = v->get<uint64_t>();
    if (auto m = doc.find("meta"); m != doc.end()) {
        if (!m->is_object()) return bad("\"meta\" is not an object");
        t.meta = *m;
    }

    auto cols = doc.find("columns");
    if (cols == doc.end() || !cols->is_array()) return bad("missing array \"columns\"");
    for (size_t i = 0; i < cols->size(); ++i) {
        const json& c = (*cols)[i];
        const std::string where = "columns[" + std::to_string(i) + "]";
        Column col;
        std::string type_name;
        if (!c.is_object()) return bad(where + " is not an object");
        if (!get_string(c, "name", &col.name, &e) || !get_string(c, "type", &type_name, &e))
            return bad(where + ": " + e);
        auto type = column_type_from_name(type_name);
        if (!type) return bad(where + ": unknown type \"" + type_name + "\"");
        col.type = *type;
        t.columns.push_back(std::move(col));
    }

    auto rows = doc.find("rows");
    if (rows == doc.end() || !rows->is_array()) return bad("missing array \"rows\"");
    t.rows.reserve(rows->size());
    for (size_t r = 0; r < rows->size(); ++r) {
        const json& row = (*rows)[r];
        if (!row.is_array()) return bad("rows[" + std::to_string(r) + "] is not an array");
        t.rows.emplace_back(row.begin(), row.end());
    }
    if (!t.validate(&e)) return bad(e);
    return t;
}

bool Table::validate(std::string* err) const {
    if (name.empty()) return fail(err, "table name is empty");
    if (!meta.is_object()) return fail(err, "meta is not an object");
    for (size_t c = 0; c < columns.size(); ++c)
        if (columns[c].name.empty()) return fail(err, "columns[" + std::to_string(c) + "] has no name");
    for (size_t r = 0; r < rows.size(); ++r) {
        std::string where = "rows[" + std::to_string(r) + "]";
        if (rows[r].size() != columns.size())
            return fail(err, where + " has " + std::to_string(rows[r].size()) + " cells, expected " +
                                 std::to_string(columns.size()));
        for (size_t c = 0; c < columns.size(); ++c)
            if (!cell_matches(columns[c].type, rows[r][c]))
                return fail(err, where + "[" + std::to_string(c) + "]: column \"" + columns[c].name + "\" is " +
                                     column_type_name(columns[c].type) + ", got " +
                                     rows[r][c].dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return true;
}

std::string reply_ok(std::string_view message) { return reply(true, message); }
std::string reply_error(std::string_view message) { return reply(false, message); }

std::optional<Reply> reply_from_json(const json& doc, std::string* err) {
    if (!check_header(doc, "dlba-reply", err)) return std::nullopt;
    auto ok = doc.find("ok");
    if (ok == doc.end() || !ok->is_boolean()) {
        fail(err, "missing boolean \"ok\"");
        return std::nullopt;
    }
    Reply r;
    r.ok = ok->get<bool>();
    const char* key = r.ok ? "message" : "error";
    if (!get_string(doc, key, &r.text, err)) return std::nullopt;
    return r;
}

std::string format_age(uint64_t then, uint64_t now) {
    if (then == 0) return "-";
    const bool ahead = then > now;
    const uint64_t d = ahead ? then - now : now - then;
    std::string text;
    if (d < 60) {
        text = std::to_string(d) + " s";
    } else if (d < 3600) {
        text = std::to_string(d / 60) + " min " + std::to_string(d % 60) + " s";
    } else if (d < 86400) {
        text = std::to_string(d / 3600) + " h " + std::to_string(d % 3600 / 60) + " min";
    } else {
        text = std::to_string(d / 86400) + " d " + std::to_string(d % 86400 / 3600) + " h";
    }
    return ahead ? "in " + text : text + " ago";
}

bool is_time_key(std::string_view key) {
    return key == "time" || key == "last_sweep" || key == "last_ok" || key == "last_answer" ||
           (key.size() > 5 && key.substr(key.size() - 5) == "_unix");
}

std::string render_text(const Table& table) { return render_text(table, static_cast<uint64_t>(std::time(nullptr))); }

std::string render_text(const Table& table, uint64_t now) {
    std::string out = table.name + " (" + table.source + ", version " + std::to_string(table.version) + ")\n";
    if (table.meta.is_object())
        for (const auto& [key, value] : table.meta.items())
            out += printable(key) + ": " + meta_text(key, value, now) + "\n";
    out += "\n";

    // Cells of a malformed row render as "?" rather than throwing: the renderer is for eyes, not for checking.
    const size_t ncols = table.columns.size();
    std::vector<std::vector<std::string>> cells;
    cells.reserve(table.rows.size() + 1);
    std::vector<std::string> header;
    for (const auto& c : table.columns) header.push_back(printable(c.name));
    cells.push_back(std::move(header));
    for (const auto& row : table.rows) {
        std::vector<std::string> line;
        for (size_t c = 0; c < ncols; ++c) {
            const ColumnType type = table.columns[c].type;
            line.push_back(c < row.size() && cell_matches(type, row[c]) ? cell_text(type, row[c], now) : "?");
        }
        cells.push_back(std::move(line));
    }

    std::vector<size_t> width(ncols, 0);
    for (const auto& line : cells)
        for (size_t c = 0; c < ncols; ++c) width[c] = std::max(width[c], line[c].size());

    for (const auto& line : cells) {
        std::string text;
        for (size_t c = 0; c < ncols; ++c) {
            if (c > 0) text += "  ";
            const size_t pad = width[c] - line[c].size();
            if (right_aligned(table.columns[c].type)) text.append(pad, ' ');
            text += line[c];
            if (!right_aligned(table.columns[c].type)) text.append(pad, ' ');
        }
        // Padding after the last column is invisible and only trips up diff and grep.
        text.erase(text.find_last_not_of(' ') + 1);
        out += text + "\n";
    }
    return out;
}

}  // namespace dlba::io
