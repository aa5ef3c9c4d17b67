// The config port (failover.config_port, TCP on eth0): `dlbactl config push` prepares and commits a new
// configuration file here (protocol/push.hpp), and `dlbactl --node N` / `--all-nodes` reads tables and passes
// admin commands through it. One request per connection:
//
//   PREPARE <id> <length>\n<bytes>  check the file (and that the local scheduler and server can take it), stage it
//   COMMIT <id>\n                   replace the running file with the staged one, reload, restart this daemon
//   ABORT <id>\n                    drop the staged file
//   SHOW <table>\n                  this daemon's, the local scheduler's or the local server's read-only tables
//   ADMIN <command>\n               the operator's admin commands, to the local scheduler or server
//
// Each request and its answer travel sealed (common/auth/envelope.hpp): dlbactl signs as the operator (sender 0)
// from a node's address, the answer is bound to the request's nonce; a replayed or forged request is closed
// unanswered and counted. A pushed file must keep a key the running nodes hold.
// It owns its thread and the prepared id. The scheduler and server are reached through the LocalLink, so the
// ordering rules are tested with a fake link and a temporary directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "protocol/request.hpp"
#include "admin_keeper.hpp"
#include "local_link.hpp"
#include "peer_auth.hpp"
#include "tcp_service.hpp"

namespace dlba::dlbad {

class ConfigPort {
public:
    using OwnTables = std::function<std::string(std::string_view table)>;  // this daemon's monitor tables
    using OnCommitted = std::function<void()>;                             // the daemon restarts on the new file
    using BodyReader = std::function<bool(char* out, size_t n)>;           // the bytes after the request line

    ConfigPort(const Config& running, uint16_t node, std::string config_path, LocalLink& link,
               OwnTables own_tables, OnCommitted on_committed);

    // The port's signer and guard (peer_auth.hpp); without them every request is closed unanswered.
    void authenticate_with(PeerAuth& auth) { auth_ = &auth; }
    // dlbad's keeper of the admin state (admin_keeper.hpp): ADMIN requests are kept there and passed on by it.
    // Without one they are passed straight to the daemon that applies them.
    void keep_admin_with(AdminKeeper& keeper) { keeper_ = &keeper; }
    bool open(std::string* err);  // listens on this node's eth0
    void start();
    void request_stop() { service_.request_stop(); }
    void join() { service_.join(); }

    // One request line (without '\n') and its answer line; public for the tests.
    std::string answer(const std::string& line, const BodyReader& read_body);

private:
    std::string serve(int fd);
    std::string prepare(const std::string& id, size_t length, const BodyReader& read_body);
    std::string commit(const std::string& id);
    std::string abort(const std::string& id);
    std::string show(const proto::Request& table);
    std::string admin(const proto::Request& command);

    const Config& running_;
    const uint16_t node_;
    const NodeConfig& self_;
    const std::string config_path_;
    const std::string staged_path_;
    LocalLink& link_;
    OwnTables own_tables_;
    OnCommitted on_committed_;
    PeerAuth* auth_ = nullptr;
    AdminKeeper* keeper_ = nullptr;
    std::string pending_id_;  // the staged file's id, "" when none (config thread only)
    TcpService service_;
};

}  // namespace dlba::dlbad
