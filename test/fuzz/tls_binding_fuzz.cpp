// Fuzzes the unsealing of a TLS-session binding from session-ticket appdata (dlba_server/tls/session_binding.cpp):
// what a client's ticket carries once the ticket itself decrypted. Input: the appdata bytes. Keys: two ticket keys
// as after a rotation (the current one first). Invariants: only a well-formed, correctly tagged blob under one of
// the keys unseals; what unseals names a 1..64-byte key inside the input, and sealing that key again under the key
// that sealed it gives back the input byte for byte; any back-end key taken from the input seals and unseals to
// itself; nothing reads outside the input (ASan).
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "tls/session_binding.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

TicketKey ticket_key(uint8_t seed) {  // the same keys as make_tls_binding_corpus.py
    TicketKey k;
    for (size_t i = 0; i < k.name.size(); ++i) k.name[i] = static_cast<uint8_t>(seed + i);
    for (size_t i = 0; i < k.hmac.size(); ++i) k.hmac[i] = static_cast<uint8_t>(seed * 3 + i);
    for (size_t i = 0; i < k.aes.size(); ++i) k.aes[i] = static_cast<uint8_t>(seed * 7 + i);
    return k;
}

const std::vector<BindingKey>& keys() {
    static const std::vector<BindingKey> k = derive_binding_keys(std::vector<TicketKey>{ticket_key(2), ticket_key(1)});
    return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<BindingKey>& k = keys();
    FUZZ_CHECK(k.size() == 2);
    const std::span<const uint8_t> input(data, size);
    const Unsealed u = unseal_binding(k, input);
    if (u.status == UnsealStatus::ok) {
        FUZZ_CHECK(!u.backend_key.empty() && u.backend_key.size() <= kMaxBoundKey);
        FUZZ_CHECK(reinterpret_cast<const uint8_t*>(u.backend_key.data()) >= data &&
                   reinterpret_cast<const uint8_t*>(u.backend_key.data()) + u.backend_key.size() <= data + size);
        FUZZ_CHECK(u.key_index < k.size());
        std::array<uint8_t, kSealedMax> again{};
        const size_t n = seal_binding(k[u.key_index], u.backend_key, again);
        FUZZ_CHECK(n == size && std::memcmp(again.data(), data, size) == 0);
    } else {
        FUZZ_CHECK(u.backend_key.empty());
    }
    // The input as a back-end key: sealing is total on 1..64 bytes and round-trips under the current key.
    const std::string_view as_key(reinterpret_cast<const char*>(data), size < kMaxBoundKey ? size : kMaxBoundKey);
    std::array<uint8_t, kSealedMax> sealed{};
    const size_t n = seal_binding(k[0], as_key, sealed);
    FUZZ_CHECK((n == 0) == as_key.empty());
    if (n) {
        const Unsealed back = unseal_binding(k, std::span<const uint8_t>(sealed.data(), n));
        FUZZ_CHECK(back.status == UnsealStatus::ok && back.backend_key == as_key && back.key_index == 0);
    }
    return 0;
}
