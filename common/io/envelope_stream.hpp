// Envelopes (common/auth/envelope.hpp) over TCP: the peer ports read one signed request per connection and
// clients one signed answer. Reads the fixed header, then exactly the length it announces (bounded by max).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "auth/envelope.hpp"
#include "auth/peer_guard.hpp"
#include "io/tcp.hpp"

namespace dlba::io {

enum class EnvelopeRead { ok, not_envelope, too_large, short_read };

// The whole envelope (header, payload, tag) into *out. not_envelope: the first bytes are no envelope header (an
// unsigned request, say); short_read: the peer closed or the deadline passed first.
EnvelopeRead read_envelope(int fd, size_t max_payload, Deadline deadline, std::string* out);
// The peer's IPv4 address (host order) of a connected socket; 0 when it has none.
uint32_t peer_ipv4(int fd);

// What a peer port does with an accepted connection before it answers: the sender's address must be the array's,
// the bytes an envelope (counted as unsigned otherwise, `what` naming it in the log) that `guard` takes as a
// request of `kind`. The checked request, whose views point into *sealed; nullopt: close without an answer.
std::optional<auth::Opened> read_sealed_request(int fd, auth::PeerGuard& guard, auth::Kind kind, size_t max_payload,
                                                Deadline deadline, bool operator_ok, const char* what,
                                                std::string* sealed);

}  // namespace dlba::io
