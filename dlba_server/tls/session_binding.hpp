// TLS-session affinity (policy "tls_session"): the back end a TLS session is bound to, sealed into the session
// ticket's application data, so that whichever node of the array the client resumes on, and after a restart, the
// binding comes back with the ticket and no table is shared between nodes.
//
// Sealed binding (at most kSealedMax bytes), inside the ticket (which is itself encrypted and MACed under the
// shared tls.ticket_keys):
//
//   version (1) = 1 | sealing key name (16) | key length L (1) | back-end key (L, 1..64) | tag (16)
//   tag = HMAC-SHA256(binding key, everything before it), first 16 bytes
//
// Each binding key is derived from one ticket key (HMAC-SHA256(its HMAC and AES keys, a fixed label)): a node with
// the same ticket keys unseals what any other sealed; appdata sealed under a ticket key that is no longer configured,
// made by another array, or changed by a single bit is refused. It seals the back end's *key* (the SpServer value),
// never an index, so a reordered or resized back-end list still finds the same back end.
//
// Pure but for OpenSSL's HMAC: unit-tested and fuzzed (test/fuzz/tls_binding_fuzz.cpp) without a handshake.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "config/tls_section.hpp"

namespace dlba::server {

inline constexpr uint8_t kBindingVersion = 1;
inline constexpr size_t kBindingNameBytes = 16;
inline constexpr size_t kBindingTagBytes = 16;
inline constexpr size_t kMaxBoundKey = 64;  // a back-end key is 1..64 characters (config/backends_section.cpp)
inline constexpr size_t kSealedMax = 1 + kBindingNameBytes + 1 + kMaxBoundKey + kBindingTagBytes;

struct BindingKey {
    std::array<uint8_t, kBindingNameBytes> name{};  // the ticket key's name
    std::array<uint8_t, 32> mac{};
};

// One binding key per ticket key, in the same order (the first seals). Empty when OpenSSL's HMAC is missing.
std::vector<BindingKey> derive_binding_keys(std::span<const TicketKey> ticket_keys);
// Without configured ticket keys OpenSSL's per-process ticket keys are used: a random binding key to match (tickets
// and bindings then hold on this process only).
BindingKey random_binding_key();

// Writes the sealed binding of `backend_key` under `key` into `out`; returns its length, 0 when the key is empty or
// longer than kMaxBoundKey (or OpenSSL fails).
size_t seal_binding(const BindingKey& key, std::string_view backend_key, std::span<uint8_t, kSealedMax> out);

enum class UnsealStatus : uint8_t {
    ok,
    malformed,    // wrong length, version or key length
    unknown_key,  // sealed under a key that is not (or no longer) configured
    bad_tag,      // tampered with, or forged
};
struct Unsealed {
    UnsealStatus status = UnsealStatus::malformed;
    std::string_view backend_key;  // into the input, when ok
    size_t key_index = 0;          // which of `keys` sealed it (0: the current one; more: renew under the first)
};
Unsealed unseal_binding(std::span<const BindingKey> keys, std::span<const uint8_t> sealed);

// The binding of one client connection, attached to its SSL (ex data) by the session that owns both.
class BindingChooser;
struct SessionBinding {
    std::array<char, kMaxBoundKey> key{};
    uint8_t key_len = 0;  // 0: not bound
    bool from_ticket = false;     // came back with a resumed session's ticket
    bool ticket_stale = false;    // TLS 1.3: the binding changed since the last ticket went out
    bool ticket_requested = false;  // ... and SSL_new_session_ticket was called for it
    BindingChooser* chooser = nullptr;  // the service's policy, for the handshake-time choices of TLS 1.2

    bool bound() const { return key_len != 0; }
    std::string_view backend_key() const { return {key.data(), key_len}; }
    void bind(std::string_view k) {
        key_len = static_cast<uint8_t>(k.size() < kMaxBoundKey ? k.size() : kMaxBoundKey);
        for (size_t i = 0; i < key_len; ++i) key[i] = k[i];
        ticket_stale = true;
        ticket_requested = false;
    }
};

// What the TLS callbacks ask of the session's policy while a handshake runs (TLS 1.2 sends its one ticket inside
// the handshake, before any request: the back end is chosen then, by the fallback's rule, and carried in it).
class BindingChooser {
public:
    virtual ~BindingChooser() = default;
    // Whether this connection's service binds TLS sessions at all.
    virtual bool binds_sessions() const = 0;
    // Whether the back end `key` may still take the session's requests (enabled or draining, not down).
    virtual bool usable(std::string_view key) const = 0;
    // Binds `b` to a back end chosen by the fallback (counted as bound, or rebound when `rebind`); false if none.
    virtual bool choose(SessionBinding& b, bool rebind) = 0;
};

}  // namespace dlba::server
