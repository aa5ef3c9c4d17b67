#include "tls/providers.hpp"

#include <openssl/err.h>
#include <openssl/provider.h>

#include <mutex>

#include "tls/tls_context.hpp"

namespace dlba::server {

namespace {

std::mutex providers_mutex;  // reloads (the control thread) and check-reload may both load

bool load_one(const char* name) {
    // A provider loaded once stays loaded (the handle is never unloaded: contexts fetched from it may be live).
    if (OSSL_PROVIDER_available(nullptr, name) == 1) return true;
    return OSSL_PROVIDER_load(nullptr, name) != nullptr;
}

}  // namespace

bool load_providers(const TlsConfig& tls, const std::string& config_file, bool apply, std::string* err) {
    std::lock_guard<std::mutex> lock(providers_mutex);
    if (!apply) {
        if (tls.provider.empty()) return true;
        OSSL_LIB_CTX* scratch = OSSL_LIB_CTX_new();
        bool ok = scratch != nullptr;
        if (ok && !tls.provider_path.empty()) ok = OSSL_PROVIDER_set_default_search_path(scratch, tls.provider_path.c_str()) == 1;
        OSSL_PROVIDER* p = ok ? OSSL_PROVIDER_load(scratch, tls.provider.c_str()) : nullptr;
        if (!p) {
            *err = config_file + ":" + std::to_string(tls.provider_line) + ": cannot load OpenSSL provider '" +
                   tls.provider + "'" + (tls.provider_path.empty() ? "" : " from " + tls.provider_path) + ": " +
                   last_tls_error();
        } else {
            OSSL_PROVIDER_unload(p);
        }
        OSSL_LIB_CTX_free(scratch);
        return p != nullptr;
    }
    // Loading any provider explicitly stops OpenSSL from loading the default one on demand: load it first.
    if (!load_one("default")) {
        *err = config_file + ": cannot load OpenSSL's default provider: " + last_tls_error();
        return false;
    }
    if (tls.provider.empty()) return true;
    if (OSSL_PROVIDER_available(nullptr, tls.provider.c_str()) == 1) return true;
    if (!tls.provider_path.empty() &&
        OSSL_PROVIDER_set_default_search_path(nullptr, tls.provider_path.c_str()) != 1) {
        *err = config_file + ":" + std::to_string(tls.provider_line) + ": cannot search '" + tls.provider_path +
               "' for providers: " + last_tls_error();
        return false;
    }
    OSSL_PROVIDER* p = OSSL_PROVIDER_try_load(nullptr, tls.provider.c_str(), 1);
    if (!p) {
        *err = config_file + ":" + std::to_string(tls.provider_line) + ": cannot load OpenSSL provider '" +
               tls.provider + "'" + (tls.provider_path.empty() ? "" : " from " + tls.provider_path) + ": " +
               last_tls_error();
        return false;
    }
    return true;
}

std::string active_providers() {
    std::string names;
    OSSL_PROVIDER_do_all(
        nullptr,
        [](OSSL_PROVIDER* p, void* out) {
            auto& s = *static_cast<std::string*>(out);
            if (!s.empty()) s += ',';
            s += OSSL_PROVIDER_get0_name(p);
            return 1;
        },
        &names);
    return names;
}

}  // namespace dlba::server
