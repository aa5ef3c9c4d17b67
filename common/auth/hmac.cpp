#include "auth/hmac.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace dlba::auth {

namespace {

// Fetched once (thread-safe static initialisation); an EVP_MAC may be shared by threads, its contexts may not.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

struct CtxFree {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

}  // namespace

bool hmac_sha256(const PeerKey& key, std::initializer_list<std::string_view> parts, Tag* out) {
    EVP_MAC* mac = hmac_algorithm();
    if (!mac) return false;
    std::unique_ptr<EVP_MAC_CTX, CtxFree> ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) return false;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx.get(), key.bytes.data(), key.bytes.size(), params) != 1) return false;
    for (std::string_view p : parts) {
        if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(p.data()), p.size()) != 1) return false;
    }
    size_t len = 0;
    return EVP_MAC_final(ctx.get(), out->data(), &len, out->size()) == 1 && len == kTagBytes;
}

std::string key_id(const PeerKey& key) {
    Tag t{};
    if (!hmac_sha256(key, {"dlba key id"}, &t)) return "?";
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string id;
    for (size_t i = 0; i < 4; ++i) {
        id += kDigits[t[i] >> 4];
        id += kDigits[t[i] & 15];
    }
    return id;
}

bool tags_equal(const uint8_t* a, const uint8_t* b) { return CRYPTO_memcmp(a, b, kTagBytes) == 0; }

}  // namespace dlba::auth
