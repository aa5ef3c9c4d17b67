// `dlbactl config push`: a two-phase change of the configuration file on every node, over TCP to each node
// daemon's failover.config_port (Daemon::dlbad_config). One request per connection, one reply line:
//
//   PREPARE <id> <length>\n<length bytes>   validate the file here (and against what this node's daemons can
//                                          reload), write it beside the running one as a staged copy
//   COMMIT <id>\n                          atomically replace the running file with the staged copy, reload
//   ABORT <id>\n                           drop the staged copy
//   reply: OK <message>\n | ERR <message>\n      (protocol/reply.hpp: ok_line, error_line, read_reply_line)
//
//   SHOW <request>\n, ADMIN <request>\n     dlbactl --node / --all-nodes: a read-only or admin request passed to
//                                          this node's daemon; the reply is that daemon's answer and a newline
//
// The requests are verbs of the protocol table (proto::prepare, commit, abort, show, admin in builders.hpp; parse
// them with proto::parse(line, Daemon::dlbad_config)). dlbactl prepares every node first; only if all say OK does it
// commit everywhere, otherwise it aborts the prepared ones and shows the reasons: a bad file changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>


namespace dlba::proto::push {

inline constexpr size_t kMaxConfigBytes = 4 << 20;

// Names one version of a file: 16 hex digits of FNV-1a 64 over its bytes.
inline std::string config_id(std::string_view bytes) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(16, '0');
    for (size_t i = 16; i-- > 0; h >>= 4) id[i] = kHex[h & 0xf];
    return id;
}

}  // namespace dlba::proto::push
