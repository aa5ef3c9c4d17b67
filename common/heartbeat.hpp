// The node daemons' heartbeat: one UDP datagram per interval to every peer's eth0. Fixed 40-byte big-endian layout,
// refused whole if anything is off (a stray datagram must never cast a vote).
//
//   magic "DLBH" | format u16 = 1 | node u16 | term u64 | table_version u64 | config u64 | flags u8 | pad[7]
//   flags: bit 0 active, bit 1 data plane answers its own node, bit 2 just yielded to another active
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "election.hpp"

namespace dlba::hb {

constexpr size_t kSize = 40;

struct Message {
    Heartbeat beat;
    uint64_t table_version = 0;
    uint64_t config_id = 0;  // a hash of the configuration file: peers on different configs are reported
};

std::array<uint8_t, kSize> encode(const Message& m);
std::optional<Message> decode(const uint8_t* data, size_t len);

}  // namespace dlba::hb
