// Clocks for the node daemon; its sockets come from common/io/tcp.hpp.
#pragma once

#include <cstdint>

namespace dlba::dlbad {

uint64_t now_ms();    // monotonic milliseconds
uint64_t unix_now();  // wall-clock seconds, for operators

}  // namespace dlba::dlbad
