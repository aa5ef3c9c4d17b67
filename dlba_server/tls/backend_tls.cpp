#include "tls/backend_tls.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net_types.hpp"

namespace dlba::server {

std::unique_ptr<BackendTlsContext> BackendTlsContext::create(const BackendTlsConfig& config, uint32_t backend_address,
                                                             const std::string& config_file, std::string* err) {
    std::unique_ptr<BackendTlsContext> self(new BackendTlsContext());
    self->config_ = config;
    self->address_text_ = format_ipv4(backend_address);
    const auto fail = [&](int line, const std::string& what) {
        *err = config_file + ":" + std::to_string(line) + ": " + what + ": " + last_tls_error();
        return nullptr;
    };
    self->ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* ctx = self->ctx_.get();
    if (!ctx) return fail(config.line, "cannot create a TLS client context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return fail(config.line, "cipher list");
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    // The worker keeps the sessions itself (per back end); OpenSSL's own client cache is not used.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (config.verify == BackendVerify::required) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!config.ca_file.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, config.ca_file.c_str(), nullptr) != 1) {
                return fail(config.ca_line, "cannot use CA file '" + config.ca_file + "'");
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return fail(config.line, "cannot load the system's CA store");
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!config.certificate.empty()) {
        bool on_key = false;
        if (const std::string what = use_key_pair(ctx, config.certificate, config.key, "client ", &on_key);
            !what.empty()) {
            return fail(on_key ? config.key_line : config.certificate_line, what);
        }
    }
    return self;
}

std::string_view BackendTlsContext::sni_for(std::string_view request_host) const {
    switch (config_.sni) {
        case BackendSni::name: return config_.sni_name;
        case BackendSni::host: return request_host;
        case BackendSni::none: break;
    }
    return {};
}

SslPtr BackendTlsContext::connect(int fd, std::string_view sni, SSL_SESSION* session) const {
    SslPtr ssl(SSL_new(ctx_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return nullptr;
    const std::string name(sni);
    if (!name.empty() && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1) return nullptr;
    if (config_.verify == BackendVerify::required) {
        if (!name.empty()) {
            if (SSL_set1_host(ssl.get(), name.c_str()) != 1) return nullptr;
        } else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), address_text_.c_str()) != 1) {
            return nullptr;
        }
    }
    if (session) SSL_set_session(ssl.get(), session);
    SSL_set_connect_state(ssl.get());
    return ssl;
}

std::string handshake_failure(SSL* ssl, bool* verify_failed) {
    const long v = SSL_get_verify_result(ssl);
    *verify_failed = v != X509_V_OK;
    if (*verify_failed) {
        ERR_clear_error();
        return std::string("certificate verification failed: ") + X509_verify_cert_error_string(v);
    }
    return last_tls_error();
}

}  // namespace dlba::server
