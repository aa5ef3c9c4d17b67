// The addresses the frame tests use: the test topology's (scripts/topo), so a failing case reads like the array.
#pragma once

#include <cstdint>

#include "net_types.hpp"

namespace dlba::testing {

inline const MacAddr kPortMac{{0x02, 0x77, 0, 0, 2, 1}};    // node 1's scheduler port
inline const MacAddr kRouterMac{{0x02, 0x77, 0, 0, 0, 1}};  // the router's LAN port
inline const MacAddr kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr uint32_t kVip = 0x0a4d0064;      // 10.77.0.100
inline constexpr uint32_t kSchedIp = 0x0a4d0015;  // 10.77.0.21, node 1's scheduler-port IP
inline constexpr uint32_t kClient = 0x0a4d0102;   // 10.77.1.2, behind the router
inline constexpr uint32_t kRouter = 0x0a4d0001;   // 10.77.0.1

inline MacAddr node_mac(uint16_t n) { return MacAddr{{0x02, 0x77, 0, 0, 1, static_cast<uint8_t>(n)}}; }

}  // namespace dlba::testing
