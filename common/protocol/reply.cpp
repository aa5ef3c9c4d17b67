#include "protocol/reply.hpp"

namespace dlba::proto {

namespace {

nlohmann::json parse_json(std::string_view answer) { return nlohmann::json::parse(answer, nullptr, false); }

bool is_table(const nlohmann::json& doc) {
    return doc.is_object() && doc.contains("format") && doc["format"] == "dlba-table";
}

constexpr std::string_view kOk = "OK";
constexpr std::string_view kError = "ERR";

std::string reply_line(std::string_view word, std::string_view message) {
    std::string line(word);
    if (!message.empty()) {
        line += ' ';
        line += message;
    }
    line += '\n';
    return line;
}

// The text after "WORD " when `line` is the word or starts with it and a space, else nullopt.
std::optional<std::string_view> after(std::string_view line, std::string_view word) {
    if (line.substr(0, word.size()) != word) return std::nullopt;
    line.remove_prefix(word.size());
    if (!line.empty() && line.front() != ' ') return std::nullopt;
    if (!line.empty()) line.remove_prefix(1);
    return line;
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

std::string ok_line(std::string_view message) { return reply_line(kOk, message); }
std::string error_line(std::string_view message) { return reply_line(kError, message); }

io::Reply read_reply_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (const auto text = after(line, kOk)) return {true, std::string(*text)};
    if (const auto text = after(line, kError)) return {false, std::string(*text)};
    return {false, std::string(line)};
}

}  // namespace dlba::proto
