// Peer keys: the array's shared secrets for authenticating peer messages (failover.peer_keys). A key is 32 random
// bytes written as 64 hexadecimal digits. A KeyRing holds the configured keys in order: the first signs, every one
// verifies, so a key is rotated without downtime (add the new key second, push; move it first, push; drop the old).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlba::auth {

constexpr size_t kKeyBytes = 32;
constexpr size_t kKeyHexDigits = 2 * kKeyBytes;

struct PeerKey {
    std::array<uint8_t, kKeyBytes> bytes{};
    bool operator==(const PeerKey&) const = default;
};

// Exactly 64 hex digits (either case); nullopt with the reason in *why for anything else.
std::optional<PeerKey> parse_key(std::string_view text, std::string* why);
std::string format_key(const PeerKey& k);  // 64 lowercase hex digits
// A fresh key from OpenSSL's CSPRNG (RAND_bytes); nullopt when it cannot be seeded.
std::optional<PeerKey> generate_key();

// The keys, in configuration order; empty means "no keys" (only allowed with failover.insecure).
class KeyRing {
public:
    KeyRing() = default;
    explicit KeyRing(std::vector<PeerKey> keys) : keys_(std::move(keys)) {}

    bool empty() const { return keys_.empty(); }
    const PeerKey& signing() const { return keys_.front(); }  // requires !empty()
    const std::vector<PeerKey>& all() const { return keys_; }
    // True when at least one key is in both rings (a node holding `other` still verifies what we sign with it).
    bool shares_key_with(const KeyRing& other) const;
    bool holds(const PeerKey& k) const;
    bool operator==(const KeyRing&) const = default;

private:
    std::vector<PeerKey> keys_;
};

}  // namespace dlba::auth

namespace dlba::auth {

// The ring of an array run with failover.insecure = true and no keys: one well-known key, so the messages keep
// their envelope, sender and replay window but prove nothing (any host can sign them).
KeyRing insecure_ring();

}  // namespace dlba::auth
