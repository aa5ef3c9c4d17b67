// Small blocking-with-deadline socket helpers for the node daemon's control traffic (never the data path).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "io/fd.hpp"

namespace dlba::dlbad {

using SteadyClock = std::chrono::steady_clock;

uint64_t now_ms();    // monotonic milliseconds
uint64_t unix_now();  // wall-clock seconds, for operators

io::Fd udp_socket(uint32_t bind_ip, uint16_t port, std::string* err);
io::Fd tcp_listener(uint32_t bind_ip, uint16_t port, std::string* err);
// Connects, reads until the peer closes (at most max_bytes), all within timeout_ms. nullopt on any failure.
std::optional<std::string> tcp_fetch(uint32_t ip, uint16_t port, int timeout_ms, size_t max_bytes, std::string* err);
// Writes everything within timeout_ms (best effort), for answering a client.
bool write_all(int fd, const std::string& data, int timeout_ms);
// True when something accepts a TCP connection at ip:port within timeout_ms.
bool tcp_probe(uint32_t ip, uint16_t port, int timeout_ms);

}  // namespace dlba::dlbad
