// The TLS context built from the configuration: what it accepts (TLS 1.2 and 1.3, ECDHE with AEAD ciphers, ALPN
// http/1.1), that session tickets issued by one process resume on another that loads the same ticket keys (the
// array's nodes), and the refusal of unusable certificate or key files, naming the configuration line. The
// certificate and key are made here with OpenSSL; handshakes run over memory BIOs, without sockets.
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tls/tls_context.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr make_key() { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free); }

CertPtr self_signed(EVP_PKEY* key) {
    CertPtr cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dlba.test"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key);
    X509_sign(cert.get(), key, EVP_sha256());
    return cert;
}

// A temporary directory with cert.pem, key.pem (its key) and other-key.pem (a key of another pair).
struct Files {
    Files() {
        char tmpl[] = "/tmp/dlba-tls-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        KeyPtr key = make_key(), other = make_key();
        REQUIRE(key);
        REQUIRE(other);
        CertPtr cert = self_signed(key.get());
        const auto pem_key = [](EVP_PKEY* k) {
            return [k](std::FILE* f) { return PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr); };
        };
        write(cert_path(), [&](std::FILE* f) { return PEM_write_X509(f, cert.get()); });
        write(key_path(), pem_key(key.get()));
        write(other_key_path(), pem_key(other.get()));
    }
    ~Files() {
        std::remove(cert_path().c_str());
        std::remove(key_path().c_str());
        std::remove(other_key_path().c_str());
        rmdir(dir.c_str());
    }
    template <class Write>
    void write(const std::string& path, Write w) {
        std::FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        const int ok = w(f);
        std::fclose(f);
        REQUIRE(ok == 1);
    }
    std::string cert_path() const { return dir + "/cert.pem"; }
    std::string key_path() const { return dir + "/key.pem"; }
    std::string other_key_path() const { return dir + "/other-key.pem"; }
    std::string dir;
};

TicketKey ticket_key(uint8_t seed) {
    TicketKey k;
    for (size_t i = 0; i < k.name.size(); ++i) k.name[i] = static_cast<uint8_t>(seed + i);
    for (size_t i = 0; i < k.hmac.size(); ++i) k.hmac[i] = static_cast<uint8_t>(seed * 3 + i);
    for (size_t i = 0; i < k.aes.size(); ++i) k.aes[i] = static_cast<uint8_t>(seed * 7 + i);
    return k;
}

TlsConfig config(const Files& f) {
    TlsConfig c;
    c.certificate = f.cert_path();
    c.key = f.key_path();
    c.certificate_line = 7;
    c.key_line = 8;
    return c;
}

std::unique_ptr<TlsContext> context(const TlsConfig& c) {
    std::string err;
    std::unique_ptr<TlsContext> ctx = TlsContext::create(c, "t.conf", &err);
    INFO(err);
    REQUIRE(ctx);
    return ctx;
}

SslCtxPtr client_context(int max_version = 0, const char* ciphers = nullptr,
                         const std::string& alpn = std::string("\x02h2\x08http/1.1", 12)) {
    SslCtxPtr c(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(c.get(), SSL_VERIFY_NONE, nullptr);  // the test certificate is self-signed
    if (max_version) SSL_CTX_set_max_proto_version(c.get(), max_version);
    if (ciphers) SSL_CTX_set_cipher_list(c.get(), ciphers);
    SSL_CTX_set_alpn_protos(c.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
    return c;
}

// A client and a server SSL joined by a memory BIO pair.
struct Handshake {
    Handshake(const TlsContext& server_ctx, SSL_CTX* client_ctx, SSL_SESSION* resume = nullptr)
        : client(SSL_new(client_ctx)), server(SSL_new(server_ctx.get())) {
        BIO *client_bio = nullptr, *server_bio = nullptr;
        BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
        SSL_set_bio(client.get(), client_bio, client_bio);
        SSL_set_bio(server.get(), server_bio, server_bio);
        SSL_set_connect_state(client.get());
        SSL_set_accept_state(server.get());
        if (resume) SSL_set_session(client.get(), resume);
    }
    // Both sides step until both are done or one fails.
    bool run() {
        for (int i = 0; i < 20; ++i) {
            const int c = SSL_do_handshake(client.get());
            const int s = SSL_do_handshake(server.get());
            if (c == 1 && s == 1) return true;
            const int ce = c == 1 ? SSL_ERROR_NONE : SSL_get_error(client.get(), c);
            const int se = s == 1 ? SSL_ERROR_NONE : SSL_get_error(server.get(), s);
            const auto waiting = [](int e) {
                return e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
            };
            if (!waiting(ce) || !waiting(se)) break;
        }
        ERR_clear_error();
        return false;
    }
    std::string alpn() const {
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(client.get(), &p, &len);
        return std::string(reinterpret_cast<const char*>(p), len);
    }
    SslPtr client, server;
};

}  // namespace

TEST_CASE("the context speaks TLS 1.3 and 1.2 and answers ALPN with http/1.1", "[tls]") {
    Files files;
    const std::unique_ptr<TlsContext> ctx = context(config(files));

    SslCtxPtr modern = client_context();
    Handshake h13(*ctx, modern.get());
    REQUIRE(h13.run());
    CHECK(SSL_version(h13.client.get()) == TLS1_3_VERSION);
    CHECK(h13.alpn() == "http/1.1");  // h2 offered first, http/1.1 chosen

    SslCtxPtr tls12 = client_context(TLS1_2_VERSION);
    Handshake h12(*ctx, tls12.get());
    REQUIRE(h12.run());
    CHECK(SSL_version(h12.client.get()) == TLS1_2_VERSION);
    const SSL_CIPHER* cipher = SSL_get_current_cipher(h12.client.get());
    REQUIRE(cipher != nullptr);
    CHECK(SSL_CIPHER_is_aead(cipher) == 1);
    CHECK(SSL_CIPHER_get_kx_nid(cipher) == NID_kx_ecdhe);

    SslCtxPtr h2_only = client_context(0, nullptr, std::string("\x02h2", 3));
    Handshake no_alpn(*ctx, h2_only.get());
    REQUIRE(no_alpn.run());  // no common protocol: no ALPN answer, the handshake goes on
    CHECK(no_alpn.alpn().empty());
}

TEST_CASE("the context refuses TLS 1.2 ciphers without forward secrecy or AEAD", "[tls]") {
    Files files;
    const std::unique_ptr<TlsContext> ctx = context(config(files));
    SslCtxPtr weak = client_context(TLS1_2_VERSION, "AES128-SHA:AES256-SHA256");
    Handshake h(*ctx, weak.get());
    CHECK_FALSE(h.run());
}

TEST_CASE("a ticket from one process resumes on another with the same ticket keys, not with other keys", "[tls]") {
    Files files;
    TlsConfig shared = config(files);
    shared.ticket_keys = {ticket_key(1)};
    TlsConfig other = config(files);
    other.ticket_keys = {ticket_key(2)};
    const std::unique_ptr<TlsContext> node1 = context(shared), node2 = context(shared), elsewhere = context(other);
    CHECK(node1->ticket_key_count() == 1);

    SslCtxPtr client = client_context(TLS1_2_VERSION);  // TLS 1.2: the ticket comes within the handshake
    Handshake first(*node1, client.get());
    REQUIRE(first.run());
    CHECK_FALSE(SSL_session_reused(first.client.get()));
    SSL_SESSION* session = SSL_get1_session(first.client.get());
    REQUIRE(session != nullptr);
    CHECK(SSL_SESSION_has_ticket(session) == 1);

    Handshake resumed(*node2, client.get(), session);
    REQUIRE(resumed.run());
    CHECK(SSL_session_reused(resumed.client.get()) == 1);

    Handshake full(*elsewhere, client.get(), session);
    REQUIRE(full.run());  // an unknown ticket key: a full handshake, not a failure
    CHECK_FALSE(SSL_session_reused(full.client.get()));
    SSL_SESSION_free(session);
}

TEST_CASE("an unusable certificate or key is refused with the configuration line that named it", "[tls]") {
    Files files;
    std::string err;

    TlsConfig missing_cert = config(files);
    missing_cert.certificate = files.dir + "/nowhere.pem";
    CHECK(TlsContext::create(missing_cert, "t.conf", &err) == nullptr);
    CHECK(err.rfind("t.conf:7: cannot use certificate chain '" + missing_cert.certificate + "': ", 0) == 0);

    TlsConfig missing_key = config(files);
    missing_key.key = files.dir + "/nokey.pem";
    CHECK(TlsContext::create(missing_key, "t.conf", &err) == nullptr);
    CHECK(err.rfind("t.conf:8: cannot use private key '" + missing_key.key + "': ", 0) == 0);

    TlsConfig not_a_key = config(files);
    not_a_key.key = files.cert_path();  // a certificate where the key should be
    CHECK(TlsContext::create(not_a_key, "t.conf", &err) == nullptr);
    CHECK(err.rfind("t.conf:8: cannot use private key", 0) == 0);

    TlsConfig mismatched = config(files);
    mismatched.key = files.other_key_path();
    CHECK(TlsContext::create(mismatched, "t.conf", &err) == nullptr);
    CHECK(err.rfind("t.conf:8: ", 0) == 0);
    CHECK(err.find("private key") != std::string::npos);
}

TEST_CASE("a client's TLS 1.2 renegotiation is refused: the server never renegotiates", "[tls]") {
    Files files;
    const std::unique_ptr<TlsContext> ctx = context(config(files));
    CHECK((SSL_CTX_get_options(ctx->get()) & SSL_OP_NO_RENEGOTIATION) != 0);
    SslCtxPtr tls12 = client_context(TLS1_2_VERSION);
    Handshake h(*ctx, tls12.get());
    REQUIRE(h.run());
    REQUIRE(SSL_renegotiate(h.client.get()) == 1);
    // The client's new ClientHello reaches the server through its reads; the server answers no_renegotiation and
    // the client's renegotiating handshake never completes.
    bool client_done = false;
    char buf[64];
    for (int i = 0; i < 10 && !client_done; ++i) {
        client_done = SSL_do_handshake(h.client.get()) == 1 && SSL_renegotiate_pending(h.client.get()) == 0;
        size_t n = 0;
        SSL_read_ex(h.server.get(), buf, sizeof buf, &n);
    }
    ERR_clear_error();
    CHECK_FALSE(client_done);
    CHECK(SSL_total_renegotiations(h.server.get()) == 0);
}

namespace {

// The policy side the TLS 1.2 callbacks ask: binds every session to `next`, and calls `down` unusable.
struct FakeChooser : BindingChooser {
    std::string next = "web2";
    std::string down;
    int chosen = 0, rebound = 0;
    bool binds_sessions() const override { return true; }
    bool usable(std::string_view key) const override { return key != down; }
    bool choose(SessionBinding& b, bool rebind) override {
        b.bind(next);
        ++chosen;
        rebound += rebind ? 1 : 0;
        return true;
    }
};

// A handshake whose server side carries a binding slot (as the session attaches one).
struct BoundHandshake : Handshake {
    BoundHandshake(const TlsContext& server_ctx, SSL_CTX* client_ctx, SSL_SESSION* resume, FakeChooser* chooser)
        : Handshake(server_ctx, client_ctx, resume) {
        binding.chooser = chooser;
        TlsContext::attach_binding(server.get(), &binding);
    }
    // Server writes a byte, client reads it: a TLS 1.3 client takes the tickets sent after the handshake.
    void exchange_byte() {
        char c = 'x';
        REQUIRE(SSL_write(server.get(), &c, 1) == 1);
        REQUIRE(SSL_read(client.get(), &c, 1) == 1);
    }
    SessionBinding binding;
};

struct SessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionHold = std::unique_ptr<SSL_SESSION, SessionFree>;

}  // namespace

TEST_CASE("TLS 1.3: a binding made after the handshake reaches the client in a new ticket and comes back on "
          "another node, across a rotation, and not under a key no longer configured",
          "[tls][binding]") {
    Files files;
    TlsConfig shared = config(files);
    shared.ticket_keys = {ticket_key(1)};
    TlsConfig rotated = config(files);
    rotated.ticket_keys = {ticket_key(2), ticket_key(1)};
    TlsConfig removed = config(files);
    removed.ticket_keys = {ticket_key(2)};
    const std::unique_ptr<TlsContext> node1 = context(shared), node2 = context(shared), node3 = context(rotated),
                                      node4 = context(removed);
    SslCtxPtr client = client_context();

    BoundHandshake first(*node1, client.get(), nullptr, nullptr);
    REQUIRE(first.run());
    REQUIRE(SSL_version(first.client.get()) == TLS1_3_VERSION);
    first.exchange_byte();  // the handshake's ticket: no binding yet
    SessionHold unbound(SSL_get1_session(first.client.get()));
    first.binding.bind("web2");  // the first secure request chose web2
    TlsContext::refresh_ticket(first.server.get(), first.binding);
    CHECK(first.binding.ticket_requested);
    first.exchange_byte();  // the new ticket goes ahead of the answer
    CHECK_FALSE(first.binding.ticket_stale);
    SessionHold bound(SSL_get1_session(first.client.get()));
    REQUIRE(bound);
    CHECK(bound.get() != unbound.get());

    BoundHandshake before(*node2, client.get(), unbound.get(), nullptr);
    REQUIRE(before.run());
    CHECK(SSL_session_reused(before.client.get()) == 1);
    CHECK_FALSE(before.binding.bound());  // the ticket from before the binding carries none

    BoundHandshake resumed(*node2, client.get(), bound.get(), nullptr);
    REQUIRE(resumed.run());
    CHECK(SSL_session_reused(resumed.client.get()) == 1);
    CHECK(resumed.binding.backend_key() == "web2");
    CHECK(resumed.binding.from_ticket);

    BoundHandshake after_rotation(*node3, client.get(), bound.get(), nullptr);
    REQUIRE(after_rotation.run());
    CHECK(SSL_session_reused(after_rotation.client.get()) == 1);
    CHECK(after_rotation.binding.backend_key() == "web2");
    after_rotation.exchange_byte();  // its new ticket is under key 2, the binding with it
    SessionHold renewed(SSL_get1_session(after_rotation.client.get()));

    BoundHandshake gone(*node4, client.get(), bound.get(), nullptr);
    REQUIRE(gone.run());  // key 1 no longer configured: a full handshake, not a failure
    CHECK_FALSE(SSL_session_reused(gone.client.get()));
    CHECK_FALSE(gone.binding.bound());

    BoundHandshake renewed_on_4(*node4, client.get(), renewed.get(), nullptr);
    REQUIRE(renewed_on_4.run());
    CHECK(SSL_session_reused(renewed_on_4.client.get()) == 1);
    CHECK(renewed_on_4.binding.backend_key() == "web2");
}

TEST_CASE("TLS 1.2: the binding is chosen in the handshake, carried in its ticket, and rebound in the resuming "
          "handshake when its back end is down",
          "[tls][binding]") {
    Files files;
    TlsConfig shared = config(files);
    shared.ticket_keys = {ticket_key(1)};
    const std::unique_ptr<TlsContext> node1 = context(shared), node2 = context(shared);
    SslCtxPtr client = client_context(TLS1_2_VERSION);

    FakeChooser chooser;
    BoundHandshake first(*node1, client.get(), nullptr, &chooser);
    REQUIRE(first.run());
    CHECK(chooser.chosen == 1);
    CHECK(first.binding.backend_key() == "web2");
    SessionHold s(SSL_get1_session(first.client.get()));

    FakeChooser on_node2;
    on_node2.next = "web9";  // would choose another back end: the ticket's binding wins
    BoundHandshake resumed(*node2, client.get(), s.get(), &on_node2);
    REQUIRE(resumed.run());
    CHECK(SSL_session_reused(resumed.client.get()) == 1);
    CHECK(resumed.binding.backend_key() == "web2");
    CHECK(on_node2.chosen == 0);

    FakeChooser web2_down;
    web2_down.down = "web2";
    web2_down.next = "web3";
    BoundHandshake rerouted(*node2, client.get(), s.get(), &web2_down);
    REQUIRE(rerouted.run());
    CHECK(SSL_session_reused(rerouted.client.get()) == 1);
    CHECK(rerouted.binding.backend_key() == "web3");
    CHECK(web2_down.rebound == 1);
    SessionHold renewed(SSL_get1_session(rerouted.client.get()));  // renewed in that handshake, with web3

    FakeChooser later;
    later.next = "web1";
    BoundHandshake again(*node1, client.get(), renewed.get(), &later);
    REQUIRE(again.run());
    CHECK(again.binding.backend_key() == "web3");
}

TEST_CASE("a tampered ticket is a full handshake without a binding", "[tls][binding]") {
    Files files;
    TlsConfig shared = config(files);
    shared.ticket_keys = {ticket_key(1)};
    const std::unique_ptr<TlsContext> node = context(shared);
    SslCtxPtr client = client_context(TLS1_2_VERSION);
    FakeChooser chooser;
    BoundHandshake first(*node, client.get(), nullptr, &chooser);
    REQUIRE(first.run());
    SessionHold s(SSL_get1_session(first.client.get()));
    const unsigned char* tick = nullptr;
    size_t len = 0;
    SSL_SESSION_get0_ticket(s.get(), &tick, &len);
    REQUIRE(len > 40);
    std::vector<unsigned char> bad(tick, tick + len);
    bad[len / 2] ^= 0x40;  // inside the encrypted state: the ticket's MAC fails
    // Re-encode the session with the tampered ticket through its DER form.
    int der_len = i2d_SSL_SESSION(s.get(), nullptr);
    std::vector<unsigned char> der(static_cast<size_t>(der_len));
    unsigned char* p = der.data();
    i2d_SSL_SESSION(s.get(), &p);
    auto at = std::search(der.begin(), der.end(), tick, tick + len);
    REQUIRE(at != der.end());
    std::copy(bad.begin(), bad.end(), at);
    const unsigned char* q = der.data();
    SessionHold tampered(d2i_SSL_SESSION(nullptr, &q, der_len));
    REQUIRE(tampered);

    FakeChooser fresh;
    fresh.next = "web7";
    BoundHandshake h(*node, client.get(), tampered.get(), &fresh);
    REQUIRE(h.run());
    CHECK_FALSE(SSL_session_reused(h.client.get()));
    CHECK(h.binding.backend_key() == "web7");  // a fresh session, bound afresh by its own handshake
}
