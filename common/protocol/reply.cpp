#include "protocol/reply.hpp"

namespace dlba::proto {

namespace {

nlohmann::json parse_json(std::string_view answer) { return nlohmann::json::parse(answer, nullptr, false); }

bool is_table(const nlohmann::json& doc) {
    return doc.is_object() && doc.contains("format") && doc["format"] == "dlba-table";
}

}  // namespace

std::optional<io::Reply> parse_reply(std::string_view answer) {
    const nlohmann::json doc = parse_json(answer);
    if (doc.is_discarded()) return std::nullopt;
    std::string err;
    return io::reply_from_json(doc, &err);
}

io::Reply read_reply(const std::optional<std::string>& answer) {
    if (!answer) return {false, "no answer"};
    const nlohmann::json doc = parse_json(*answer);
    if (doc.is_discarded()) return {false, "unreadable answer"};
    if (is_table(doc)) return {true, ""};
    std::string err;
    if (auto r = io::reply_from_json(doc, &err)) return *r;
    return {false, "unreadable answer: " + err};
}

}  // namespace dlba::proto
