// The operator's admin state as dlbad keeps it (failover.admin_state_file): what was set by dlbactl on this node
// for each back end (in-service / out-of-service REASON, weight) and each node (enable/disable/drain, weight). Only
// what the operator set is held; the rest stays as the configuration says.
//
// The file is the control protocol's own request lines, one per setting, between a header and a count:
//
//   dlba-admin-state 1
//   backend web1 out-of-service maintenance
//   backend web2 weight 3
//   node 2 drain
//   end 3
//
// so replaying it is sending its lines. The reader is strict: every line canonical (what format_admin_state
// writes), no setting twice, the count right, nothing after it. A file that breaks any rule is refused whole
// (nothing of it applies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bucket_table.hpp"
#include "protocol/request.hpp"

namespace dlba::proto {

struct BackendAdminState {
    std::optional<BackendMode> mode;
    std::optional<uint32_t> weight;
    bool operator==(const BackendAdminState&) const = default;
};

struct NodeAdminState {
    std::optional<NodeAdmin> admin;
    std::optional<uint32_t> weight;
    bool operator==(const NodeAdminState&) const = default;
};

struct AdminState {
    std::map<std::string, BackendAdminState> backends;  // by back-end key
    std::map<uint16_t, NodeAdminState> nodes;           // by node number

    // Records an admin-state request (is_admin_state(verb)); false for any other request.
    bool record(const Request& r);
    // The requests that set it all, back ends first, each in its seed-002 spelling.
    std::vector<Request> requests() const;
    size_t size() const;
    bool operator==(const AdminState&) const = default;
};

inline constexpr std::string_view kAdminStateHeader = "dlba-admin-state 1";
inline constexpr size_t kMaxAdminStateBytes = 4u << 20;

struct AdminStateError {
    size_t line = 0;  // 1-based; 0: the file as a whole
    std::string message;
    std::string str() const { return line ? "line " + std::to_string(line) + ": " + message : message; }
};

using AdminStateParsed = std::variant<AdminState, AdminStateError>;

std::string format_admin_state(const AdminState& state);
AdminStateParsed parse_admin_state(std::string_view text);

}  // namespace dlba::proto
