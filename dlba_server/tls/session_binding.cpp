#include "tls/session_binding.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

namespace dlba::server {

namespace {

constexpr std::string_view kLabel = "dlba tls_session binding v1";

EVP_MAC* hmac_algorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // shared by threads; contexts are not
    return mac;
}

struct MacCtxFree {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// HMAC-SHA256 over two pieces; false when OpenSSL fails.
bool hmac(const uint8_t* key, size_t key_len, std::span<const uint8_t> a, std::span<const uint8_t> b,
          std::array<uint8_t, 32>* out) {
    EVP_MAC* mac = hmac_algorithm();
    if (!mac) return false;
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) return false;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    size_t len = 0;
    return EVP_MAC_init(ctx.get(), key, key_len, params) == 1 && EVP_MAC_update(ctx.get(), a.data(), a.size()) == 1 &&
           EVP_MAC_update(ctx.get(), b.data(), b.size()) == 1 &&
           EVP_MAC_final(ctx.get(), out->data(), &len, out->size()) == 1 && len == out->size();
}

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

std::vector<BindingKey> derive_binding_keys(std::span<const TicketKey> ticket_keys) {
    std::vector<BindingKey> out;
    for (const TicketKey& t : ticket_keys) {
        // The ticket key's secret halves are the HMAC key; the label keeps this use apart from the ticket's own MAC.
        std::array<uint8_t, 64> secret{};
        std::memcpy(secret.data(), t.hmac.data(), 32);
        std::memcpy(secret.data() + 32, t.aes.data(), 32);
        BindingKey k;
        k.name = t.name;
        const bool ok = hmac(secret.data(), secret.size(), bytes(kLabel), {}, &k.mac);
        OPENSSL_cleanse(secret.data(), secret.size());
        if (!ok) return {};
        out.push_back(k);
    }
    return out;
}

BindingKey random_binding_key() {
    BindingKey k;
    if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
        RAND_bytes(k.mac.data(), static_cast<int>(k.mac.size())) != 1) {
        k = {};  // all zero: still a key, and no worse than none (tickets hold on this process only)
    }
    return k;
}

size_t seal_binding(const BindingKey& key, std::string_view backend_key, std::span<uint8_t, kSealedMax> out) {
    if (backend_key.empty() || backend_key.size() > kMaxBoundKey) return 0;
    size_t n = 0;
    out[n++] = kBindingVersion;
    std::memcpy(out.data() + n, key.name.data(), key.name.size());
    n += key.name.size();
    out[n++] = static_cast<uint8_t>(backend_key.size());
    std::memcpy(out.data() + n, backend_key.data(), backend_key.size());
    n += backend_key.size();
    std::array<uint8_t, 32> tag{};
    if (!hmac(key.mac.data(), key.mac.size(), {out.data(), n}, {}, &tag)) return 0;
    std::memcpy(out.data() + n, tag.data(), kBindingTagBytes);
    return n + kBindingTagBytes;
}

Unsealed unseal_binding(std::span<const BindingKey> keys, std::span<const uint8_t> sealed) {
    Unsealed r;
    constexpr size_t kHead = 1 + kBindingNameBytes + 1;
    if (sealed.size() < kHead + 1 + kBindingTagBytes || sealed.size() > kSealedMax) return r;
    if (sealed[0] != kBindingVersion) return r;
    const size_t len = sealed[kHead - 1];
    if (len == 0 || len > kMaxBoundKey || sealed.size() != kHead + len + kBindingTagBytes) return r;
    const BindingKey* key = nullptr;
    for (size_t i = 0; i < keys.size() && !key; ++i) {
        if (std::memcmp(keys[i].name.data(), sealed.data() + 1, kBindingNameBytes) == 0) {
            key = &keys[i];
            r.key_index = i;
        }
    }
    if (!key) {
        r.status = UnsealStatus::unknown_key;
        return r;
    }
    std::array<uint8_t, 32> tag{};
    const size_t body = kHead + len;
    if (!hmac(key->mac.data(), key->mac.size(), sealed.first(body), {}, &tag) ||
        CRYPTO_memcmp(tag.data(), sealed.data() + body, kBindingTagBytes) != 0) {
        r.status = UnsealStatus::bad_tag;
        return r;
    }
    r.status = UnsealStatus::ok;
    r.backend_key = {reinterpret_cast<const char*>(sealed.data() + kHead), len};
    return r;
}

}  // namespace dlba::server
