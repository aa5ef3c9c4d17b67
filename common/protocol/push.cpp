#include "protocol/push.hpp"

#include <optional>

namespace dlba::proto::push {

namespace {

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

// The text after "WORD " when `line` starts with the word, else nullopt.
std::optional<std::string_view> after(std::string_view line, std::string_view word) {
    if (line.substr(0, word.size()) != word) return std::nullopt;
    line.remove_prefix(word.size());
    if (!line.empty() && line.front() != ' ') return std::nullopt;
    if (!line.empty()) line.remove_prefix(1);
    return line;
}

}  // namespace

std::string ok(std::string_view message) { return reply_line(kOk, message); }
std::string error(std::string_view message) { return reply_line(kError, message); }

io::Reply read_reply(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (const auto text = after(line, kOk)) return {true, std::string(*text)};
    if (const auto text = after(line, kError)) return {false, std::string(*text)};
    return {false, std::string(line)};
}

}  // namespace dlba::proto::push
