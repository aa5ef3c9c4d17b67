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

inline Request make(Verb verb) {
    Request r;
    r.verb = verb;
    return r;
}

// Tables.
inline Request status() { return make(Verb::status); }
inline Request hash() { return make(Verb::hash); }
inline Request hash_all() { return make(Verb::hash_all); }
inline Request hash_page(uint32_t from_bucket) {
    Request r = make(Verb::hash_page);
    r.from_bucket = from_bucket;
    return r;
}
inline Request counters() { return make(Verb::counters); }
inline Request table_sync() { return make(Verb::sync); }  // "sync" (::sync is taken)
inline Request backends() { return make(Verb::backends); }
inline Request failover() { return make(Verb::failover); }
inline Request sweep() { return make(Verb::sweep); }
inline Request summary() { return make(Verb::summary); }

// The operator's admin state.
inline Request node_admin(uint16_t node, NodeAdmin admin) {
    Request r = make(Verb::node_admin);
    r.node = node;
    r.admin = admin;
    return r;
}
inline Request node_weight(uint16_t node, uint32_t weight) {
    Request r = make(Verb::node_weight);
    r.node = node;
    r.weight = weight;
    return r;
}
inline Request backend_admin(std::string key, BackendAction action) {
    Request r = make(Verb::backend_admin);
    r.key = std::move(key);
    r.action = action;
    return r;
}

// Between the daemons.
inline Request role(bool active) {
    Request r = make(Verb::role);
    r.active = active;
    return r;
}
inline Request role_standby() { return role(false); }
// dlbad's role: active while it renews the lease (lease_ms > 0).
inline Request role_active(uint32_t lease_ms) {
    Request r = make(Verb::role_active_lease);
    r.lease_ms = lease_ms;
    return r;
}
inline Request renew() { return make(Verb::renew); }
inline Request node_failed(uint16_t node, bool failed) {
    Request r = make(Verb::node_failed);
    r.node = node;
    r.failed = failed;
    return r;
}
inline Request node_stats(uint16_t node, const NodeFigures& figures) {
    Request r = make(Verb::node_stats);
    r.node = node;
    r.figures = figures;
    return r;
}
inline Request sync_from(uint16_t node) {
    Request r = make(Verb::sync_from);
    r.node = node;
    return r;
}
inline Request sync_stop() { return make(Verb::sync_stop); }
inline Request sweep_done(uint64_t unix_time) {
    Request r = make(Verb::sweep_done);
    r.unix_time = unix_time;
    return r;
}
inline Request reload() { return make(Verb::reload); }
inline Request check_reload(std::string path) {
    Request r = make(Verb::check_reload);
    r.path = std::move(path);
    return r;
}
inline Request pull(uint64_t fingerprint, uint64_t from_version) {
    Request r = make(Verb::pull);
    r.fingerprint = fingerprint;
    r.version = from_version;
    return r;
}

// The config port. A PREPARE line is followed by `length` bytes of the file.
inline Request push_prepare(std::string config_id, uint64_t length) {
    Request r = make(Verb::prepare);
    r.config_id = std::move(config_id);
    r.length = length;
    return r;
}
inline Request push_commit(std::string config_id) {
    Request r = make(Verb::commit);
    r.config_id = std::move(config_id);
    return r;
}
inline Request push_abort(std::string config_id) {
    Request r = make(Verb::abort);
    r.config_id = std::move(config_id);
    return r;
}
// `table` must be read-only and `command` admin (access_of() says); the node's daemon refuses anything else.
inline Request show(Request table) {
    Request r = make(Verb::show);
    r.inner = std::make_shared<const Request>(std::move(table));
    return r;
}
inline Request admin(Request command) {
    Request r = make(Verb::admin);
    r.inner = std::make_shared<const Request>(std::move(command));
    return r;
}

}  // namespace dlba::proto
