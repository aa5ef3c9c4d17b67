// A worker's error log: at most one line per second per kind, with the count of the lines held back. Errors caused
// by traffic (a refused handshake, a back end down, descriptors exhausted) can come thousands a second; one line a
// second says as much.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dlba::server {

enum class LogKind : uint8_t {
    descriptors,   // out of file descriptors (accept, socket)
    tls,           // handshake failures, connections TLS could not be set up for
    backend_down,  // a back end refused or did not answer a connect and was marked down
    listener,      // a listener of a new generation has no socket for this worker
    bad_response,  // a back end's answer broke the framing rules
    per_ip,        // a client address reached limits.max_connections_per_ip
    h2,            // an HTTP/2 connection closed for a flood or a protocol error
};
inline constexpr size_t kLogKinds = 7;

class LimitedLog {
public:
    // Lines go to `out` as "dlba-server[w<worker>]: <message>".
    explicit LimitedLog(unsigned worker, std::FILE* out = stderr) : worker_(worker), out_(out) {}

    void write(LogKind kind, int64_t now_ms, const std::string& message);

private:
    unsigned worker_;
    std::FILE* out_;
    int64_t last_ms_[kLogKinds] = {};
    uint64_t held_back_[kLogKinds] = {};
};

}  // namespace dlba::server
