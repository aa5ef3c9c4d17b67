// A daemon's answer to one control request, read once, and the TCP ports' reply lines, written and read once: every
// caller that decides on an answer (did the scheduler take the role? did the server refuse the file?) asks these,
// never searches the text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "io/table_format.hpp"

namespace dlba::proto {

// A dlba-reply document as io::Reply; nullopt when `answer` is not one (a table, or not JSON at all).
std::optional<io::Reply> parse_reply(std::string_view answer);

// The outcome of a request: a dlba-reply's own ok/error; a table is an ok answer (the read was served); no answer
// or an unreadable one is an error that says so ("no answer", "unreadable answer").
io::Reply read_reply(const std::optional<std::string>& answer);

// The reply lines of the TCP ports (config port, sync port), with their newline: "OK message" / "ERR message".
std::string ok_line(std::string_view message);
std::string error_line(std::string_view message);
// A reply line (with or without its newline): "OK ..." is ok, anything else an error whose text is the line's.
io::Reply read_reply_line(std::string_view line);

}  // namespace dlba::proto
