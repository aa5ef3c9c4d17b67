// Blocking-with-deadline TCP and UDP helpers for control traffic between nodes (table sync, status sweep,
// configuration push): every call returns by its deadline. Never used on a data path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/fd.hpp"

namespace dlba::io {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

inline Deadline deadline_in(int ms) { return SteadyClock::now() + std::chrono::milliseconds(ms); }
int millis_left(Deadline deadline);  // 0 once past

// IPv4 addresses in host byte order. The sockets are non-blocking and close-on-exec.
Fd udp_socket(uint32_t bind_ip, uint16_t port, std::string* err);
Fd tcp_listener(uint32_t bind_ip, uint16_t port, std::string* err);
Fd tcp_connect(uint32_t ip, uint16_t port, Deadline deadline, std::string* err);

bool read_exact(int fd, char* out, size_t n, Deadline deadline);
// Up to '\n' (not included); false on EOF, timeout or more than `max` bytes.
bool read_line(int fd, std::string& line, size_t max, Deadline deadline);
// Until the peer closes; nullopt (reason in *err) on timeout or more than `max` bytes.
std::optional<std::string> read_to_eof(int fd, size_t max, Deadline deadline, std::string* err);
bool write_all(int fd, std::string_view data, Deadline deadline);

// Connect, read until the peer closes, within timeout_ms.
std::optional<std::string> tcp_fetch(uint32_t ip, uint16_t port, int timeout_ms, size_t max_bytes, std::string* err);
// True when something accepts a connection at ip:port within timeout_ms.
bool tcp_probe(uint32_t ip, uint16_t port, int timeout_ms);

}  // namespace dlba::io
