// dlbactl config push FILE: validate here, prepare on every node, then commit everywhere or abort everywhere.
#pragma once

#include <ostream>
#include <optional>
#include <string>

#include "protocol/request.hpp"

namespace dlba::ctl {

// Returns dlbactl's exit code: 0 committed on every node, 1 refused (nothing changed), 2 the file is invalid here,
// 3 a node could not be reached during prepare (nothing changed).
int push_config(const std::string& path, int timeout_ms, std::ostream& out, std::ostream& err);

// dlbactl --node N: one read-only request (SHOW) to node N's daemon over TCP; the answer as the daemon gave it,
// or nullopt with the reason in *err. *exit_code says which failure it was.
std::optional<std::string> remote_show(const std::string& config_path, int node, const proto::Request& table,
                                       int timeout_ms, std::string* err, int* exit_code);

// dlbactl --all-nodes: one admin request to every node's daemon, which passes it to its scheduler (node ...) or its
// DLBA server (backend ...). Prints each node's answer; 0 when every node applied it.
int admin_all_nodes(const std::string& config_path, const proto::Request& command, int timeout_ms, std::ostream& out,
                    std::ostream& err);

}  // namespace dlba::ctl
