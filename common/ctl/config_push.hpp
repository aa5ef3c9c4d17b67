// dlbactl config push FILE: validate here, prepare on every node, then commit everywhere or abort everywhere.
#pragma once

#include <ostream>
#include <string>

namespace dlba::ctl {

// Returns dlbactl's exit code: 0 committed on every node, 1 refused (nothing changed), 2 the file is invalid here,
// 3 a node could not be reached during prepare (nothing changed).
int push_config(const std::string& path, int timeout_ms, std::ostream& out, std::ostream& err);

}  // namespace dlba::ctl
