// `dlbactl config push`: a two-phase change of the configuration file on every node, over TCP to each node
// daemon's failover.config_port. One request per connection, one reply line:
//
//   PREPARE <id> <length>\n<length bytes>   validate the file here (and against what this node's daemons can
//                                          reload), write it beside the running one as a staged copy
//   COMMIT <id>\n                          atomically replace the running file with the staged copy, reload
//   ABORT <id>\n                           drop the staged copy
//   reply: OK <message>\n | ERR <message>\n
//
// dlbactl prepares every node first; only if all say OK does it commit everywhere, otherwise it aborts the
// prepared ones and shows the reasons: a bad file changes nothing anywhere.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace dlba::push {

constexpr size_t kMaxConfigBytes = 4 << 20;

// Names one version of a file: 16 hex digits of FNV-1a 64 over its bytes.
inline std::string config_id(std::string_view bytes) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

}  // namespace dlba::push
