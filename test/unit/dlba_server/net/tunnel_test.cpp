// The byte tunnel of an upgraded connection, over socket pairs: bytes both ways, the bound on what waits for the
// client, half-closes passed on in either order, a reset, and the idle deadline.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "config/server_section.hpp"
#include "net/backend_exchange.hpp"
#include "net/backend_pool.hpp"
#include "net/tunnel.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

// The proxy's end of a back-end connection (a BackendConn over one end of a socket pair) and the back end's end.
struct Link {
    BackendConn conn;
    int backend = -1;
    Link() {
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        conn.fd = io::Fd(sv[0]);
        backend = sv[1];
        conn.readable = conn.writable = true;
    }
    ~Link() { ::close(backend); }
    std::string backend_reads() {
        std::string out;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(backend, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
        return out;
    }
    bool backend_sees_eof() {
        char c;
        return ::read(backend, &c, 1) == 0;
    }
};

void put(InBuffer& in, BufferPool& pool, const std::string& s) {
    pool.attach(in);
    std::memcpy(in.space(), s.data(), s.size());
    in.commit(s.size());
}

}  // namespace

TEST_CASE("a tunnel moves bytes both ways and counts them", "[tunnel]") {
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 1000);
    InBuffer in;
    OutBuffer out;
    put(in, pool, "client says hi");
    REQUIRE(::write(l.backend, "back end says hello", 19) == 19);
    CHECK(t.step(in, out, false, pool, 1001));
    CHECK(in.empty());
    CHECK(l.backend_reads() == "client says hi");
    CHECK(std::string(out.pending_data(), out.pending()) == "back end says hello");
    CHECK(t.bytes_up() == 14);
    CHECK(t.bytes_down() == 19);
    CHECK_FALSE(t.ended());
    // Nothing more either way: no progress, and the socket's drained read waits for the next edge.
    CHECK_FALSE(t.step(in, out, false, pool, 1002));
}

TEST_CASE("the back end is not read while the client's output is full", "[tunnel]") {
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 0);
    InBuffer in;
    OutBuffer out;
    pool.attach(out);
    out.text().assign(kClientHighWater, 'x');  // the client has not taken these yet
    REQUIRE(::write(l.backend, "more", 4) == 4);
    CHECK_FALSE(t.step(in, out, false, pool, 1));
    CHECK(out.pending() == kClientHighWater);
    out.consume(out.pending());  // the client read it all
    CHECK(t.step(in, out, false, pool, 2));
    CHECK(std::string(out.pending_data(), out.pending()) == "more");
}

TEST_CASE("the client's FIN shuts the back end's write side; the back end may still answer, then it ends",
          "[tunnel]") {
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 0);
    InBuffer in;
    OutBuffer out;
    put(in, pool, "last");
    CHECK(t.step(in, out, true, pool, 1));  // the client's stream ended after "last"
    CHECK(l.backend_reads() == "last");
    CHECK(l.backend_sees_eof());
    CHECK_FALSE(t.ended());
    REQUIRE(::write(l.backend, "reply", 5) == 5);
    ::shutdown(l.backend, SHUT_WR);
    l.conn.readable = l.conn.peer_closed = true;  // the edge: data and EPOLLRDHUP
    CHECK(t.step(in, out, true, pool, 2));
    CHECK(std::string(out.pending_data(), out.pending()) == "reply");
    CHECK_FALSE(t.wants_client_shutdown(out));  // not before the client has everything
    out.consume(out.pending());
    CHECK(t.wants_client_shutdown(out));
    t.client_shut(3);
    REQUIRE(t.ended());
    CHECK(t.end_reason() == TunnelEnd::client_close);
    CHECK(std::string(tunnel_end_name(t.end_reason())) == "client_close");
}

TEST_CASE("the back end's FIN reaches the client first; the client may still send, then it ends", "[tunnel]") {
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 0);
    InBuffer in;
    OutBuffer out;
    ::shutdown(l.backend, SHUT_WR);
    CHECK(t.step(in, out, false, pool, 1));
    CHECK(t.wants_client_shutdown(out));
    t.client_shut(1);
    CHECK_FALSE(t.ended());
    put(in, pool, "after your FIN");
    CHECK(t.step(in, out, false, pool, 2));
    CHECK(l.backend_reads() == "after your FIN");
    CHECK_FALSE(t.ended());
    CHECK(t.step(in, out, true, pool, 3));
    REQUIRE(t.ended());
    CHECK(t.end_reason() == TunnelEnd::backend_close);
}

TEST_CASE("a back end that resets ends the tunnel at once", "[tunnel]") {
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 0);
    InBuffer in;
    OutBuffer out;
    ::close(l.backend);
    l.backend = -1;
    put(in, pool, "into the void");
    t.step(in, out, false, pool, 1);
    REQUIRE(t.ended());
    CHECK(t.end_reason() == TunnelEnd::backend_reset);
}

TEST_CASE("an idle tunnel ends after tunnel_ms, a half-closed one after idle_ms", "[tunnel]") {
    ServerTimeouts to;
    to.tunnel_ms = 5000;
    to.idle_ms = 1000;
    BufferPool pool;
    Link l;
    Tunnel t;
    t.start(&l.conn, 0);
    CHECK_FALSE(t.check_idle(5000, to));
    CHECK(t.check_idle(5001, to));
    CHECK(t.end_reason() == TunnelEnd::idle_timeout);

    Link l2;
    Tunnel half;
    half.start(&l2.conn, 0);
    InBuffer in;
    OutBuffer out;
    ::shutdown(l2.backend, SHUT_WR);
    half.step(in, out, false, pool, 100);
    half.client_shut(100);
    CHECK_FALSE(half.check_idle(1100, to));
    CHECK(half.check_idle(1101, to));
    // Ending from outside keeps the first reason.
    half.end(TunnelEnd::shutdown);
    CHECK(half.end_reason() == TunnelEnd::idle_timeout);
}
