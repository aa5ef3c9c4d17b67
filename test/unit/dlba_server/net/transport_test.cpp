// The client connection's transport over a real socket pair: what Transport::drained says after a read, plain and
// TLS (the client socket BIO with read-ahead), because the session skips the next read on its word and a wrong
// "drained" would leave a request unread until the client sent more. Also the ends of a TLS stream through that BIO
// (close_notify, a bare TCP close) and that writes reach the peer.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "io/fd.hpp"
#include "net/transport.hpp"
#include "tls/tls_context.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

// A self-signed P-256 certificate and its key in a temporary directory.
struct CertFiles {
    CertFiles() {
        char tmpl[] = "/tmp/dlba-transport-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        REQUIRE(key);
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dlba.test"), -1,
                                   -1, 0);
        X509_set_issuer_name(cert, name);
        X509_set_pubkey(cert, key);
        X509_sign(cert, key, EVP_sha256());
        std::FILE* f = std::fopen(cert_path().c_str(), "w");
        REQUIRE(f);
        const int cert_ok = PEM_write_X509(f, cert);
        std::fclose(f);
        f = std::fopen(key_path().c_str(), "w");
        REQUIRE(f);
        const int key_ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        X509_free(cert);
        EVP_PKEY_free(key);
        REQUIRE(cert_ok == 1);
        REQUIRE(key_ok == 1);
    }
    ~CertFiles() {
        std::remove(cert_path().c_str());
        std::remove(key_path().c_str());
        rmdir(dir.c_str());
    }
    std::string cert_path() const { return dir + "/cert.pem"; }
    std::string key_path() const { return dir + "/key.pem"; }
    std::string dir;
};

void nonblocking(int fd) { REQUIRE(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0); }

// A connected pair of non-blocking stream sockets: [0] the server's (the Transport's), [1] the client's.
struct SocketPair {
    SocketPair() {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        server = io::Fd(fds[0]);
        client = io::Fd(fds[1]);
        nonblocking(fds[0]);
        nonblocking(fds[1]);
    }
    io::Fd server, client;
};

// A TLS client on the pair's client end (OpenSSL's own socket BIO) and the server's Transport, handshake done.
struct TlsPair {
    explicit TlsPair(int max_version = 0) {
        TlsConfig config;
        config.certificate = files.cert_path();
        config.key = files.key_path();
        std::string err;
        std::unique_ptr<TlsContext> made = TlsContext::create(config, "t.conf", &err);
        INFO(err);
        REQUIRE(made);
        context = std::move(made);
        client_ctx.reset(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);  // self-signed
        if (max_version) SSL_CTX_set_max_proto_version(client_ctx.get(), max_version);
        client.reset(SSL_new(client_ctx.get()));
        REQUIRE(SSL_set_fd(client.get(), sockets.client.get()) == 1);
        SSL_set_connect_state(client.get());
        const int server_fd = sockets.server.get();
        server = Transport(std::move(sockets.server), context->accept(server_fd), context);
        REQUIRE(server.tls());
        char buf[16];
        for (int i = 0; i < 20 && !(server.handshake_done() && SSL_is_init_finished(client.get())); ++i) {
            SSL_do_handshake(client.get());
            const IoResult r = server.read(buf, sizeof buf);  // the handshake runs inside the server's reads
            REQUIRE((r.status == IoStatus::want_read || r.status == IoStatus::want_write));
        }
        ERR_clear_error();
        REQUIRE(server.handshake_done());
        REQUIRE(SSL_is_init_finished(client.get()));
        // TLS 1.3: the server's ticket is on the wire; the client takes it while reading nothing else.
        SSL_read(client.get(), buf, sizeof buf);
        ERR_clear_error();
    }
    void send(const std::string& text) {
        size_t n = 0;
        REQUIRE(SSL_write_ex(client.get(), text.data(), text.size(), &n) == 1);
        REQUIRE(n == text.size());
    }
    CertFiles files;
    SocketPair sockets;
    std::shared_ptr<const TlsContext> context;
    SslCtxPtr client_ctx;
    SslPtr client;
    Transport server;
};

}  // namespace

TEST_CASE("a plain read is drained exactly when it was short", "[transport]") {
    SocketPair p;
    const int fd = p.server.get();
    Transport t(std::move(p.server), nullptr);
    REQUIRE(::send(p.client.get(), "0123456789", 10, 0) == 10);
    char buf[4];
    IoResult r = t.read(buf, sizeof buf);
    REQUIRE(r.status == IoStatus::ok);
    CHECK(r.n == 4);
    CHECK_FALSE(t.drained(r, sizeof buf));
    char big[64];
    r = t.read(big, sizeof big);
    REQUIRE(r.status == IoStatus::ok);
    CHECK(r.n == 6);
    CHECK(t.drained(r, sizeof big));
    CHECK(t.read(big, sizeof big).status == IoStatus::want_read);
    CHECK(t.fd() == fd);
}

TEST_CASE("a TLS read that took the socket's last bytes says drained; one that left bytes behind does not",
          "[transport][tls]") {
    for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
        INFO("max version " << version);
        TlsPair p(version);
        char buf[64];

        // One record, read whole: the recv inside was short and OpenSSL holds nothing.
        p.send("GET /one HTTP/1.1\r\n\r\n");
        IoResult r = p.server.read(buf, sizeof buf);
        REQUIRE(r.status == IoStatus::ok);
        CHECK(std::string(buf, r.n) == "GET /one HTTP/1.1\r\n\r\n");
        CHECK(p.server.drained(r, sizeof buf));
        CHECK(p.server.read(buf, sizeof buf).status == IoStatus::want_read);

        // Two records in the socket: read-ahead takes both in one recv, the first read returns one record and the
        // second is still in OpenSSL's buffer, so not drained; the next read returns it without touching the socket.
        p.send("first");
        p.send("second");
        r = p.server.read(buf, sizeof buf);
        REQUIRE(r.status == IoStatus::ok);
        CHECK(std::string(buf, r.n) == "first");
        CHECK_FALSE(p.server.drained(r, sizeof buf));
        r = p.server.read(buf, sizeof buf);
        REQUIRE(r.status == IoStatus::ok);
        CHECK(std::string(buf, r.n) == "second");
        CHECK(p.server.read(buf, sizeof buf).status == IoStatus::want_read);

        // A record larger than the reader's buffer: plaintext is left in OpenSSL, so not drained.
        p.send(std::string(40, 'x'));
        r = p.server.read(buf, 16);
        REQUIRE(r.status == IoStatus::ok);
        CHECK(r.n == 16);
        CHECK_FALSE(p.server.drained(r, 16));
        r = p.server.read(buf, sizeof buf);
        REQUIRE(r.status == IoStatus::ok);
        CHECK(r.n == 24);

        // More than one recv's worth: the first recv fills OpenSSL's record buffer, so it was not short.
        const std::string large(15000, 'y');
        for (int i = 0; i < 3; ++i) p.send(large);
        std::string got;
        bool saw_not_drained = false;
        while (got.size() < 3 * large.size()) {
            char chunk[16 * 1024];
            r = p.server.read(chunk, sizeof chunk);
            REQUIRE(r.status == IoStatus::ok);
            got.append(chunk, r.n);
            if (got.size() < 3 * large.size()) saw_not_drained |= !p.server.drained(r, sizeof chunk);
            if (got.size() < 3 * large.size()) CHECK_FALSE(p.server.drained(r, sizeof chunk));
        }
        CHECK(saw_not_drained);
        CHECK(got == large + large + large);
        CHECK(p.server.read(buf, sizeof buf).status == IoStatus::want_read);
    }
}

TEST_CASE("TLS writes through the client socket BIO reach the peer, and the stream's ends are told apart",
          "[transport][tls]") {
    {
        TlsPair p;
        const std::string answer = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        const IoResult w = p.server.write(answer.data(), answer.size());
        REQUIRE(w.status == IoStatus::ok);
        CHECK(w.n == answer.size());
        char buf[128];
        size_t n = 0;
        REQUIRE(SSL_read_ex(p.client.get(), buf, sizeof buf, &n) == 1);
        CHECK(std::string(buf, n) == answer);
        CHECK(SSL_get_fd(p.server.ssl()) == p.server.fd());

        SSL_shutdown(p.client.get());  // close_notify: the end of the stream
        CHECK(p.server.read(buf, sizeof buf).status == IoStatus::eof);
    }
    {
        TlsPair p;
        char buf[16];
        p.client.reset();
        p.sockets.client.reset();  // a TCP close without close_notify: not a clean end, never data
        const IoResult r = p.server.read(buf, sizeof buf);
        CHECK((r.status == IoStatus::eof || r.status == IoStatus::error));
        ERR_clear_error();
    }
}
