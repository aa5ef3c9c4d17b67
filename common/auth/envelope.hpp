// The envelope every peer message travels in: who sent it, a counter for the replay window, a nonce that binds an
// answer to its request, and an HMAC-SHA256 over all of it. The message inside is the protocol's own bytes
// (heartbeat, PULL line, DLBS table, sweep answer, config-port request), unchanged: signing happens where bytes
// are sent and received.
//
//   header (32 bytes, big-endian): magic "DLBA" | format u8 = 1 | kind u8 | sender u16 | counter u64 |
//                                  nonce u64 | length u32 | reserved u32 = 0
//   payload (length bytes)
//   tag (32 bytes): HMAC-SHA256(key, header | payload)
//
// kind names the message's place in the protocol (a heartbeat cannot be passed off as a sync answer); sender is
// a node number (0: the operator's dlbactl); counter is the sender's clock in microseconds since the Unix epoch,
// strictly increasing per sender process; nonce is random in a request and copied from the request into its
// answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/hmac.hpp"
#include "auth/keys.hpp"

namespace dlba::auth {

constexpr uint32_t kMagic = 0x444c4241;  // "DLBA"
constexpr uint8_t kFormat = 1;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kOverheadBytes = kHeaderBytes + kTagBytes;
constexpr uint16_t kOperator = 0;  // sender id of dlbactl

enum class Kind : uint8_t {
    heartbeat = 1,
    sync_request = 2,
    sync_answer = 3,
    sweep_request = 4,
    sweep_answer = 5,
    config_request = 6,
    config_answer = 7,
};
const char* kind_name(Kind k);

struct Header {
    Kind kind = Kind::heartbeat;
    uint16_t sender = 0;
    uint64_t counter = 0;
    uint64_t nonce = 0;
};

// An envelope whose structure is sound; its tag is not checked yet (verify()).
struct Opened {
    Header header;
    std::string_view payload;
    std::string_view signed_bytes;  // header and payload: what the tag covers
    std::string_view tag;
};

std::string seal(const Header& h, std::string_view payload, const PeerKey& key);
// The payload length a 32-byte header announces (streams read the rest after it); nullopt when it is not a header.
std::optional<uint32_t> payload_length(std::string_view header);
// Structure only: magic, format, known kind, reserved zero, exact length. Never reads past `bytes`.
std::optional<Opened> open(std::string_view bytes);
// True when some key of the ring produced the tag. Every key is tried (no early exit, constant-time compare).
bool verify(const Opened& e, const KeyRing& ring);

}  // namespace dlba::auth
