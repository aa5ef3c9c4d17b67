// HMAC-SHA256 through OpenSSL 3's EVP_MAC, and the constant-time comparison of two tags (CRYPTO_memcmp).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "auth/keys.hpp"

namespace dlba::auth {

constexpr size_t kTagBytes = 32;
using Tag = std::array<uint8_t, kTagBytes>;

// The tag over the concatenation of `parts`. Returns false only when OpenSSL fails (no HMAC provider).
bool hmac_sha256(const PeerKey& key, std::initializer_list<std::string_view> parts, Tag* out);
// Same length assumed; the time taken does not depend on where they differ.
bool tags_equal(const uint8_t* a, const uint8_t* b);
// A key's public name for operators: 8 hex digits of HMAC-SHA256(key, "dlba key id"). It tells which keys a node
// holds (and which one signs) without revealing them.
std::string key_id(const PeerKey& key);

}  // namespace dlba::auth
