// How dlbactl presents a daemon's answer; kept apart from main() so every branch is testable without a socket.
#pragma once

#include <iosfwd>
#include <string_view>

namespace dlba::ctl {

// Checks that `answer` is a dlba-table or dlba-reply, prints it (text or indented JSON) and returns the exit code.
int print_answer(std::string_view answer, bool json, std::ostream& out, std::ostream& err);

}  // namespace dlba::ctl
