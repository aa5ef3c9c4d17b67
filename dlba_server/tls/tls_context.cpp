#include "tls/tls_context.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "tls/socket_bio.hpp"

namespace dlba::server {

namespace {

constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
// A listener with http2: h2 first (the server's preference), then http/1.1.
constexpr unsigned char kAlpnH2[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionContext[] = "dlba-server";

int h2_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
    unsigned char* chosen = nullptr;
    const bool h2 = SSL_get_ex_data(ssl, h2_index()) != nullptr;
    if (SSL_select_next_proto(&chosen, outlen, h2 ? kAlpnH2 : kAlpn, h2 ? sizeof kAlpnH2 : sizeof kAlpn, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

bool set_mac_key(EVP_MAC_CTX* mac, const TicketKey& key) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        // The MAC only reads the key; OSSL_PARAM wants a non-const pointer.
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key.hmac.data()), key.hmac.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

std::string last_tls_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "no OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

std::string use_key_pair(SSL_CTX* ctx, const std::string& chain, const std::string& key, std::string_view role,
                         bool* on_key) {
    const std::string r(role);
    *on_key = false;
    if (SSL_CTX_use_certificate_chain_file(ctx, chain.c_str()) != 1) {
        return "cannot use " + r + "certificate chain '" + chain + "'";
    }
    *on_key = true;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        return "cannot use " + r + "private key '" + key + "'";
    }
    if (SSL_CTX_check_private_key(ctx) != 1) return "the " + r + "private key does not match its certificate";
    return "";
}

std::unique_ptr<TlsContext> TlsContext::create(const TlsConfig& config, const std::string& config_file,
                                               std::string* err) {
    std::unique_ptr<TlsContext> self(new TlsContext());
    self->ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = self->ctx_.get();
    const auto fail = [&](int line, const std::string& what) {
        *err = config_file + ":" + std::to_string(line) + ": " + what + ": " + last_tls_error();
        return nullptr;
    };
    if (!ctx) return fail(config.certificate_line, "cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return fail(config.certificate_line, "cipher list");
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    // Partial writes and a moving buffer: the connection's output buffer may grow (and move) between retries.
    // Released buffers: an idle keep-alive connection does not hold OpenSSL's 16 kB record buffers.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    // Read-ahead: a record's header and body (and whatever follows) in one recv, not a recv of 5 bytes and then one
    // of the rest; with the socket BIO's short-read note it is one recv per request (see socket_bio.hpp).
    SSL_CTX_set_read_ahead(ctx, 1);

    bool on_key = false;
    if (const std::string what = use_key_pair(ctx, config.certificate, config.key, "", &on_key); !what.empty()) {
        return fail(on_key ? config.key_line : config.certificate_line, what);
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);

    // Tickets only: no session cache, so nothing is shared between workers and nothing grows with clients.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    SSL_CTX_set_timeout(ctx, config.ticket_lifetime_s);
    SSL_CTX_set_num_tickets(ctx, 1);
    self->keys_ = config.ticket_keys;
    if (!self->keys_.empty()) {
        self->ticket_cipher_.reset(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
        if (!self->ticket_cipher_) return fail(config.certificate_line, "AES-256-CBC for session tickets");
        SSL_CTX_set_app_data(ctx, self.get());
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback);
        self->binding_keys_ = derive_binding_keys(self->keys_);
        if (self->binding_keys_.empty()) return fail(config.certificate_line, "HMAC-SHA256 for TLS-session bindings");
    } else {
        self->binding_keys_.push_back(random_binding_key());
    }
    SSL_CTX_set_session_ticket_cb(ctx, generate_ticket_callback, decrypt_ticket_callback, self.get());
    return self;
}

namespace {

int binding_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

}  // namespace

void TlsContext::offer_h2(SSL* ssl, bool on) {
    static char marker;
    SSL_set_ex_data(ssl, h2_index(), on ? &marker : nullptr);
}

bool TlsContext::negotiated_h2(SSL* ssl) {
    const unsigned char* p = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &p, &len);
    return len == 2 && p[0] == 'h' && p[1] == '2';
}

void TlsContext::attach_binding(SSL* ssl, SessionBinding* b) { SSL_set_ex_data(ssl, binding_index(), b); }

SessionBinding* TlsContext::binding_of(SSL* ssl) {
    return static_cast<SessionBinding*>(SSL_get_ex_data(ssl, binding_index()));
}

void TlsContext::refresh_ticket(SSL* ssl, SessionBinding& b) {
    if (!b.ticket_stale || b.ticket_requested || SSL_version(ssl) != TLS1_3_VERSION) return;
    if (!SSL_is_init_finished(ssl)) return;  // the handshake's own ticket comes after it and carries the binding
    if (SSL_new_session_ticket(ssl) == 1) b.ticket_requested = true;
}

// A ticket is about to be made (TLS 1.2: inside the handshake; TLS 1.3: after it, and after SSL_new_session_ticket):
// the connection's binding goes into it, sealed under the first key. A TLS 1.2 connection of a binding service that
// has none yet chooses now: its only ticket leaves before the first request is read.
int TlsContext::generate_ticket_callback(SSL* ssl, void* arg) {
    const auto* self = static_cast<const TlsContext*>(arg);
    SSL_SESSION* session = SSL_get0_session(ssl);
    SessionBinding* b = binding_of(ssl);
    if (!session || !b) return 1;
    if (SSL_version(ssl) != TLS1_3_VERSION && b->chooser && b->chooser->binds_sessions() && !b->bound()) {
        b->chooser->choose(*b, false);
    }
    b->ticket_stale = b->ticket_requested = false;
    std::array<uint8_t, kSealedMax> sealed{};
    const size_t n = b->bound() ? seal_binding(self->binding_keys_.front(), b->backend_key(), sealed) : 0;
    // 1 either way: a ticket without a binding is still a ticket (the next secure request binds again).
    SSL_SESSION_set1_ticket_appdata(session, n ? sealed.data() : nullptr, n);
    return 1;
}

// A ticket decrypted (or not): the binding it carries becomes the connection's. One that does not unseal is never
// used: the client gets a full handshake and a fresh, unbound session.
SSL_TICKET_RETURN TlsContext::decrypt_ticket_callback(SSL* ssl, SSL_SESSION* session, const unsigned char*, size_t,
                                                      SSL_TICKET_STATUS status, void* arg) {
    const auto* self = static_cast<const TlsContext*>(arg);
    switch (status) {
        case SSL_TICKET_SUCCESS:
        case SSL_TICKET_SUCCESS_RENEW: break;
        case SSL_TICKET_EMPTY:
        case SSL_TICKET_NO_DECRYPT: return SSL_TICKET_RETURN_IGNORE_RENEW;
        default: return SSL_TICKET_RETURN_IGNORE_RENEW;  // a fatal status: OpenSSL fails the handshake itself
    }
    bool renew = status == SSL_TICKET_SUCCESS_RENEW;
    void* data = nullptr;
    size_t len = 0;
    if (SSL_SESSION_get0_ticket_appdata(session, &data, &len) != 1 || !data || len == 0) {
        return renew ? SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;  // no binding in it
    }
    const Unsealed u = unseal_binding(self->binding_keys_, {static_cast<const uint8_t*>(data), len});
    if (u.status != UnsealStatus::ok) return SSL_TICKET_RETURN_IGNORE_RENEW;
    renew = renew || u.key_index != 0;
    if (SessionBinding* b = binding_of(ssl)) {
        b->bind(u.backend_key);
        b->from_ticket = true;
        b->ticket_stale = false;
        // TLS 1.2 gets no ticket after the handshake: a binding to a back end that can no longer take the session
        // is replaced now, and the renewed ticket of this handshake carries the new one.
        if (SSL_version(ssl) != TLS1_3_VERSION && b->chooser && b->chooser->binds_sessions() &&
            !b->chooser->usable(b->backend_key()) && b->chooser->choose(*b, true)) {
            renew = true;
        }
    }
    return renew ? SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;
}

int TlsContext::ticket_key_callback(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                                    EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
    const auto* self = static_cast<const TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (!self || self->keys_.empty()) return -1;
    if (encrypt) {
        const TicketKey& key = self->keys_.front();
        std::memcpy(key_name, key.name.data(), key.name.size());
        if (RAND_bytes(iv, 16) != 1) return -1;  // AES-256-CBC: a 16-byte IV
        if (EVP_EncryptInit_ex(cipher, self->ticket_cipher_.get(), nullptr, key.aes.data(), iv) != 1) return -1;
        return set_mac_key(mac, key) ? 1 : -1;
    }
    for (size_t i = 0; i < self->keys_.size(); ++i) {
        const TicketKey& key = self->keys_[i];
        if (std::memcmp(key_name, key.name.data(), key.name.size()) != 0) continue;
        if (EVP_DecryptInit_ex(cipher, self->ticket_cipher_.get(), nullptr, key.aes.data(), iv) != 1) return -1;
        if (!set_mac_key(mac, key)) return -1;
        return i == 0 ? 1 : 2;  // 2: valid, but issue a new ticket under the current key
    }
    return 0;  // unknown key (rotated out, or another array): a full handshake
}

SslPtr TlsContext::accept(int fd) const {
    SslPtr ssl(SSL_new(ctx_.get()));
    if (!ssl) return ssl;
    BIO* bio = new_socket_bio(fd);
    if (!bio) return nullptr;
    SSL_set_bio(ssl.get(), bio, bio);  // the SSL owns the BIO from here
    SSL_set_accept_state(ssl.get());
    return ssl;
}

}  // namespace dlba::server
