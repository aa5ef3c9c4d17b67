// The node daemons' heartbeat: one UDP datagram per interval to every peer's eth0. Fixed 40-byte big-endian layout,
// refused whole if anything is off (a stray datagram must never cast a vote).
//
//   magic "DLBH" | format u16 = 2 | node u16 | term u64 | table_version u64 | config u64 | flags u8 | load u8 | pad[6]
//   flags: bit 0 active, bit 1 data plane answers its own node, bit 2 just yielded to another active
//   load: the node's load in percent 0..100 (failover.load), 255 when not known
// Format 1 (no load byte) and format 2 are refused by each other: a datagram of another format is never read as ours.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "election.hpp"

namespace dlba::hb {

constexpr size_t kSize = 40;
constexpr uint16_t kFormat = 2;
constexpr uint8_t kLoadUnknown = 255;

// Why a datagram was refused.
enum class Refusal : uint8_t {
    none,
    size,       // not 40 bytes
    magic,      // not a heartbeat
    format,     // another format version (an older or newer daemon): never misparsed
    malformed,  // node number, flags, load or padding out of range
};
const char* refusal_name(Refusal r);

struct Message {
    Heartbeat beat;
    uint64_t table_version = 0;
    uint64_t config_id = 0;  // a hash of the configuration file: peers on different configs are reported
    uint8_t load_pct = kLoadUnknown;  // 0..100, kLoadUnknown
};

std::array<uint8_t, kSize> encode(const Message& m);
// `why` (optional) receives the reason of a refusal, Refusal::none on success.
std::optional<Message> decode(const uint8_t* data, size_t len, Refusal* why = nullptr);

}  // namespace dlba::hb
