// The client side of TLS to one back end: an SSL_CTX built from the back end's `tls` group (TLS 1.2+ AEAD, the CA
// it verifies against, its client certificate) and the SSL of each new connection (SNI, the name or address the
// certificate must carry, and the session to resume).
//
// Session resumption is the caller's: each worker keeps the last resumable session per back end (and SNI name)
// and hands it to connect(); nothing here is shared between workers. The context is built per configuration
// generation, so a reload that changes the CA or the client certificate takes effect for new connections, and the
// worker drops its saved sessions then (a session resumed from an older context would skip the new verification).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/backend_tls_section.hpp"
#include "tls/tls_context.hpp"

namespace dlba::server {

class BackendTlsContext {
public:
    // Loads the CA file and the client certificate. On failure nullptr and "file:line: reason" in *err.
    static std::unique_ptr<BackendTlsContext> create(const BackendTlsConfig& config, uint32_t backend_address,
                                                     const std::string& config_file, std::string* err);
    BackendTlsContext(const BackendTlsContext&) = delete;
    BackendTlsContext& operator=(const BackendTlsContext&) = delete;

    // The server name a connection for a request to `request_host` sends ("" for none).
    std::string_view sni_for(std::string_view request_host) const;
    // A client SSL on the connecting socket `fd`, in connect state, sending `sni` and verifying that the certificate
    // names it (or, without SNI, the back end's address); resuming `session` when given. nullptr on failure.
    SslPtr connect(int fd, std::string_view sni, SSL_SESSION* session) const;

    // The server name is the request's Host: a connection cannot be made for it ahead of the request.
    bool sni_from_request() const { return config_.sni == BackendSni::host; }
    bool verifies() const { return config_.verify == BackendVerify::required; }

private:
    BackendTlsContext() = default;

    BackendTlsConfig config_;
    std::string address_text_;  // the back end's IPv4 address, checked against the certificate without SNI
    SslCtxPtr ctx_;
};

// Why a client handshake failed, for the log: the certificate verification result when that is what failed,
// else OpenSSL's error (clears this thread's error queue).
std::string handshake_failure(SSL* ssl, bool* verify_failed);

}  // namespace dlba::server
