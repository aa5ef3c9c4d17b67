#include "auth/keys.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "hex.hpp"

namespace dlba::auth {

std::optional<PeerKey> parse_key(std::string_view text, std::string* why) {
    if (text.size() != kKeyHexDigits) {
        *why = "a peer key is " + std::to_string(kKeyHexDigits) + " hex digits (32 bytes), this one has " +
               std::to_string(text.size()) + " characters";
        return std::nullopt;
    }
    PeerKey k;
    for (size_t i = 0; i < kKeyBytes; ++i) {
        const int hi = hex_digit_value(text[2 * i]);
        const int lo = hex_digit_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "a peer key holds only hex digits (0-9, a-f); character " + std::to_string(2 * i + (hi < 0 ? 1 : 2)) +
                   " is not one";
            return std::nullopt;
        }
        k.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (std::all_of(k.bytes.begin(), k.bytes.end(), [&](uint8_t b) { return b == k.bytes[0]; })) {
        *why = "a peer key must be random (generate one with `dlbactl keygen`), not one repeated byte";
        return std::nullopt;
    }
    return k;
}

std::string format_key(const PeerKey& k) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(kKeyHexDigits);
    for (uint8_t b : k.bytes) {
        s += kDigits[b >> 4];
        s += kDigits[b & 15];
    }
    return s;
}

std::optional<PeerKey> generate_key() {
    PeerKey k;
    if (RAND_bytes(k.bytes.data(), static_cast<int>(k.bytes.size())) != 1) return std::nullopt;
    return k;
}

bool KeyRing::holds(const PeerKey& k) const { return std::find(keys_.begin(), keys_.end(), k) != keys_.end(); }

bool KeyRing::shares_key_with(const KeyRing& other) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const PeerKey& k) { return other.holds(k); });
}

}  // namespace dlba::auth

namespace dlba::auth {

KeyRing insecure_ring() {
    PeerKey k;
    const char tag[] = "dlba insecure mode: no peer keys";  // 32 bytes, public by design
    static_assert(sizeof tag - 1 == kKeyBytes);
    for (size_t i = 0; i < kKeyBytes; ++i) k.bytes[i] = static_cast<uint8_t>(tag[i]);
    return KeyRing({k});
}

}  // namespace dlba::auth
