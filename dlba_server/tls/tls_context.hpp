// TLS termination settings shared by every worker of the process: one SSL_CTX built from the configuration.
//
// - TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305).
// - ALPN: http/1.1, or h2 then http/1.1 on a listener with http2 (offer_h2 per connection); a client offering only
//   other protocols gets no ALPN answer and speaks HTTP/1.1 or leaves.
// - Session resumption by tickets only, no server-side cache. The ticket keys come from the configuration, so every
//   node (and every process on a node) that loads the same file decrypts every other's tickets: a client resumes
//   wherever the scheduler sends it. The first key encrypts; any listed key decrypts, and a ticket decrypted with
//   an older key is renewed under the first. Without configured keys OpenSSL's own per-process keys are used.
// - TLS-session affinity (tls/session_binding.hpp): a connection whose session is bound to a back end gets that
//   binding sealed into the application data of every ticket it is sent; a resumed ticket gives it back. Appdata
//   that does not unseal (tampered, foreign, under a key no longer configured) means a full handshake, unbound.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/tls_section.hpp"
#include "tls/session_binding.hpp"

namespace dlba::server {

// TLS 1.2: forward secrecy and AEAD only. TLS 1.3 suites are all AEAD; OpenSSL's default list is kept. The same
// rule toward clients and toward back ends.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
struct SslSessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SslSessionPtr = std::unique_ptr<SSL_SESSION, SslSessionFree>;
struct CipherFree {
    void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};

class TlsContext {
public:
    // Loads the certificate chain and key. On failure returns nullptr and "file:line: reason" in *err, naming the
    // configuration line that set the unusable file.
    static std::unique_ptr<TlsContext> create(const TlsConfig& config, const std::string& config_file,
                                              std::string* err);
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // A server-side SSL for an accepted socket, in accept state (the handshake runs inside the first reads), over
    // the client socket BIO (socket_bio.hpp).
    SslPtr accept(int fd) const;

    SSL_CTX* get() const { return ctx_.get(); }
    size_t ticket_key_count() const { return keys_.size(); }

    // The connection's TLS-session binding, read and written by the ticket callbacks during its handshakes; `b`
    // must outlive the SSL (the session owns both). nullptr detaches.
    static void attach_binding(SSL* ssl, SessionBinding* b);
    // ALPN offers h2 before http/1.1 on this connection (its listener has http2); whether the client took h2.
    static void offer_h2(SSL* ssl, bool on);
    static bool negotiated_h2(SSL* ssl);
    static SessionBinding* binding_of(SSL* ssl);
    // Sends the connection a new ticket (TLS 1.3) when its binding changed since the last one: the ticket goes
    // out before the next bytes written. Nothing under TLS 1.2 (its only ticket is sent inside the handshake).
    static void refresh_ticket(SSL* ssl, SessionBinding& b);

private:
    TlsContext() = default;
    static int ticket_key_callback(SSL* ssl, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                                   EVP_MAC_CTX* mac, int encrypt);
    static int generate_ticket_callback(SSL* ssl, void* arg);
    static SSL_TICKET_RETURN decrypt_ticket_callback(SSL* ssl, SSL_SESSION* session, const unsigned char* key_name,
                                                     size_t key_name_len, SSL_TICKET_STATUS status, void* arg);

    SslCtxPtr ctx_;
    std::vector<TicketKey> keys_;
    std::vector<BindingKey> binding_keys_;  // one per ticket key (the first seals), or one random one without keys
    // Fetched once: passing EVP_aes_256_cbc() would make OpenSSL 3 look the implementation up on every ticket.
    std::unique_ptr<EVP_CIPHER, CipherFree> ticket_cipher_;
};

// The most recent OpenSSL error of this thread as text (and clears the queue), for logs.
std::string last_tls_error();

// Loads a certificate chain and its private key into `ctx` and checks that they match. "" when done, else what
// failed ("cannot use <role>certificate chain 'FILE'", ...; role "" or "client "); *on_key tells whether the key
// (not the chain) was at fault.
std::string use_key_pair(SSL_CTX* ctx, const std::string& chain, const std::string& key, std::string_view role,
                         bool* on_key);

}  // namespace dlba::server
