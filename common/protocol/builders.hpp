// Typed builders, one per verb: the only way code makes a request. Send format(builder(...)) (or format_line for the
// TCP ports); the verb table (verbs.cpp) says how each is spelt on the wire.
//
//   format(proto::node_admin(2, NodeAdmin::draining))   "node 2 drain"
//   format(proto::role_active(500))                      "role active lease 500"
//   format(proto::show(proto::hash_page(65536)))         "SHOW hash all 65536"
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "protocol/request.hpp"

namespace dlba::proto {

// Tables.
inline Request status() { return {.verb = Verb::status}; }
inline Request hash() { return {.verb = Verb::hash}; }
inline Request hash_all() { return {.verb = Verb::hash_all}; }
inline Request hash_page(uint32_t from_bucket) { return {.verb = Verb::hash_page, .from_bucket = from_bucket}; }
inline Request counters() { return {.verb = Verb::counters}; }
inline Request table_sync() { return {.verb = Verb::sync}; }  // "sync" (::sync is taken)
inline Request backends() { return {.verb = Verb::backends}; }
inline Request failover() { return {.verb = Verb::failover}; }
inline Request sweep() { return {.verb = Verb::sweep}; }
inline Request summary() { return {.verb = Verb::summary}; }

// The operator's admin state.
inline Request node_admin(uint16_t node, NodeAdmin admin) {
    return {.verb = Verb::node_admin, .node = node, .admin = admin};
}
inline Request node_weight(uint16_t node, uint32_t weight) {
    return {.verb = Verb::node_weight, .node = node, .weight = weight};
}
inline Request backend_admin(std::string key, BackendAction action) {
    return {.verb = Verb::backend_admin, .key = std::move(key), .action = action};
}
inline Request backend_in_service(std::string key) { return {.verb = Verb::backend_in_service, .key = std::move(key)}; }
inline Request backend_out_of_service(std::string key, BackendMode mode) {
    return {.verb = Verb::backend_out_of_service, .key = std::move(key), .mode = mode};
}
// The request that sets `mode`, in its seed-002 spelling.
inline Request backend_mode(std::string key, BackendMode mode) {
    return mode == BackendMode::in_service ? backend_in_service(std::move(key))
                                           : backend_out_of_service(std::move(key), mode);
}
inline Request backend_weight(std::string key, uint32_t weight) {
    return {.verb = Verb::backend_weight, .weight = weight, .key = std::move(key)};
}

// Between the daemons.
inline Request role(bool active) { return {.verb = Verb::role, .active = active}; }
inline Request role_standby() { return role(false); }
// dlbad's role: active while it renews the lease (lease_ms > 0).
inline Request role_active(uint32_t lease_ms) { return {.verb = Verb::role_active_lease, .lease_ms = lease_ms}; }
inline Request renew() { return {.verb = Verb::renew}; }
inline Request node_load(uint16_t node, std::optional<uint32_t> load_pct, bool steered) {
    return {.verb = Verb::node_load, .node = node, .load_pct = load_pct, .steered = steered};
}
inline Request node_failed(uint16_t node, bool failed) {
    return {.verb = Verb::node_failed, .node = node, .failed = failed};
}
inline Request node_stats(uint16_t node, const NodeFigures& figures) {
    return {.verb = Verb::node_stats, .node = node, .figures = figures};
}
inline Request sync_from(uint16_t node) { return {.verb = Verb::sync_from, .node = node}; }
inline Request sync_stop() { return {.verb = Verb::sync_stop}; }
inline Request sweep_done(uint64_t unix_time) { return {.verb = Verb::sweep_done, .unix_time = unix_time}; }
inline Request reload() { return {.verb = Verb::reload}; }
inline Request check_reload(std::string path) { return {.verb = Verb::check_reload, .path = std::move(path)}; }
inline Request pull(uint64_t fingerprint, uint64_t from_version) {
    return {.verb = Verb::pull, .fingerprint = fingerprint, .version = from_version};
}

// The config port. A PREPARE line is followed by `length` bytes of the file.
inline Request push_prepare(std::string config_id, uint64_t length) {
    return {.verb = Verb::prepare, .config_id = std::move(config_id), .length = length};
}
inline Request push_commit(std::string config_id) { return {.verb = Verb::commit, .config_id = std::move(config_id)}; }
inline Request push_abort(std::string config_id) { return {.verb = Verb::abort, .config_id = std::move(config_id)}; }
// `table` must be read-only and `command` admin (access_of() says); the node's daemon refuses anything else.
inline Request show(Request table) {
    return {.verb = Verb::show, .inner = std::make_shared<const Request>(std::move(table))};
}
inline Request admin(Request command) {
    return {.verb = Verb::admin, .inner = std::make_shared<const Request>(std::move(command))};
}

}  // namespace dlba::proto
