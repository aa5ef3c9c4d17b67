// A worker's back-end connections. The idle lists (IdleConnections) are pure bookkeeping and tested with
// connection objects that have no socket: reuse order, pool depth, idle timeouts, generation changes. The pool
// around them is tested once with real sockets on the loopback interface (no root, no network): a connection is
// opened, pooled, handed out again, and closed.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../server_fixture.hpp"
#include "net/backend_pool.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

// a (pool of 2, 100 ms) and b (pool of 1, 1 s).
const char* kBefore = R"(
backends = ( { key = "a"; address = "10.0.0.1"; }, { key = "b"; address = "10.0.0.2"; } );
services = ( { name = "web"; backends = ["a"]; pool = { idle_per_backend = 2; idle_timeout_ms = 100; }; },
             { name = "img"; backends = ["b"]; pool = { idle_per_backend = 1; idle_timeout_ms = 1000; }; } );
server = { listeners = ( { port = 80; service = "web"; }, { port = 81; service = "img"; } ); };
)";

// b removed, c added in front, a continues (now at index 1) with a pool of 1.
const char* kAfter = R"(
backends = ( { key = "c"; address = "10.0.0.3"; }, { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "web"; backends = ["a"]; pool = { idle_per_backend = 1; }; },
             { name = "img"; backends = ["c"]; pool = { idle_per_backend = 4; }; } );
server = { listeners = ( { port = 80; service = "web"; }, { port = 81; service = "img"; } ); };
)";

// Connection objects without sockets, filed under back end `backend` of generation `generation`.
struct Conns {
    Conns(size_t n, size_t backend, uint64_t generation) : items(n) {
        for (BackendConn& c : items) {
            c.backend = backend;
            c.generation = generation;
        }
    }
    BackendConn* operator[](size_t i) { return &items[i]; }
    std::vector<BackendConn> items;
};

// What the idle lists let go of, in order.
struct Closed {
    void operator()(BackendConn* c) { conns.push_back(c); }
    std::vector<BackendConn*> conns;
};

// Idle lists filed under generation 1 (kBefore).
struct FiledUnderFirst {
    FiledUnderFirst() { idle.refile(g1, closed); }
    const Generation g1{test::load_sections(kBefore), 1, 1, 1, 0, nullptr};
    IdleConnections idle;
    Closed closed;
};

}  // namespace

TEST_CASE_METHOD(FiledUnderFirst, "the most recently released idle connection is handed out first, up to the pool depth", "[pool]") {
    Conns a(3, 0, 1);
    CHECK(idle.put(a[0], 10));
    CHECK(idle.put(a[1], 20));
    CHECK_FALSE(idle.put(a[2], 30));  // a keeps 2: the caller closes the third
    CHECK(idle.count(0) == 2);
    CHECK(a[1]->idle_since_ms == 20);
    CHECK(idle.take(g1, 1) == nullptr);  // nothing idle for b
    CHECK(idle.take(g1, 0) == a[1]);
    CHECK(idle.take(g1, 0) == a[0]);
    CHECK(idle.take(g1, 0) == nullptr);
    CHECK(closed.conns.empty());
}

TEST_CASE_METHOD(FiledUnderFirst, "a TLS connection is handed out only for the server name its handshake sent",
                 "[pool][tls]") {
    Conns a(3, 0, 1);
    a[0]->sni = "one.example";
    a[1]->sni = "two.example";
    CHECK(idle.put(a[0], 10));
    CHECK(idle.put(a[1], 20));
    CHECK(idle.take(g1, 0, "three.example") == nullptr);
    CHECK(idle.take(g1, 0) == nullptr);  // a connection without SNI wanted: none of these
    CHECK(idle.take(g1, 0, "one.example") == a[0]);
    CHECK(idle.count(0) == 1);
    CHECK(idle.take(g1, 0, "two.example") == a[1]);
    CHECK(idle.count(0) == 0);
}

TEST_CASE_METHOD(FiledUnderFirst, "drop_if closes the idle connections it selects and keeps the rest", "[pool][tls]") {
    Conns a(2, 0, 1);
    a[1]->sni = "tls";
    CHECK(idle.put(a[0], 10));
    CHECK(idle.put(a[1], 20));
    idle.drop_if([](const BackendConn* c) { return !c->sni.empty(); }, closed);
    CHECK(closed.conns == std::vector<BackendConn*>{a[1]});
    CHECK(idle.count(0) == 1);
    CHECK(idle.take(g1, 0) == a[0]);
}

TEST_CASE_METHOD(FiledUnderFirst, "connections of another generation are neither pooled nor handed out", "[pool]") {
    const Generation g2(test::load_sections(kAfter), 1, 1, 2, 0, &g1);
    idle.refile(g2, closed);
    Conns old(1, 1, 1);  // opened for a request still on generation 1
    CHECK_FALSE(idle.put(old[0], 0));  // its back-end index means nothing in generation 2's lists
    Conns a(1, 1, 2);
    CHECK(idle.put(a[0], 0));
    CHECK(idle.take(g1, 1) == nullptr);  // a request on generation 1 connects afresh
    CHECK(idle.take(g2, 1) == a[0]);
}

TEST_CASE_METHOD(FiledUnderFirst, "idle connections past their back end's timeout are closed, oldest first", "[pool]") {
    Conns a(2, 0, 1), b(1, 1, 1);
    idle.put(a[0], 0);
    idle.put(a[1], 50);
    idle.put(b[0], 0);
    idle.expire(100, closed);  // nothing idle for more than its timeout yet
    CHECK(closed.conns.empty());
    idle.expire(120, closed);  // a's timeout is 100 ms, b's 1 s
    CHECK(closed.conns == std::vector<BackendConn*>{a[0]});
    CHECK(idle.count(0) == 1);
    CHECK(idle.count(1) == 1);
    idle.expire(1001, closed);
    CHECK(closed.conns == std::vector<BackendConn*>{a[0], a[1], b[0]});
    CHECK(idle.count(0) == 0);
    CHECK(idle.count(1) == 0);
}

TEST_CASE_METHOD(FiledUnderFirst,
                 "at a new generation continuing back ends keep their idle connections, trimmed to the new depth",
                 "[pool]") {
    const Generation g2(test::load_sections(kAfter), 1, 1, 2, 0, &g1);
    REQUIRE(g2.backends[1] == g1.backends[0]);  // a continues, at index 1
    Conns a(2, 0, 1), b(1, 1, 1);
    idle.put(a[0], 10);  // the older one
    idle.put(a[1], 20);
    idle.put(b[0], 30);

    idle.refile(g2, closed);
    CHECK(idle.generation() == &g2);
    // b was removed: closed; a's pool is 1 now: its oldest connection goes.
    CHECK(closed.conns == std::vector<BackendConn*>{b[0], a[0]});
    CHECK(idle.count(0) == 0);  // c: new, nothing idle
    CHECK(idle.count(1) == 1);
    CHECK(a[1]->backend == 1);
    CHECK(a[1]->generation == 2);
    CHECK(a[1]->idle_since_ms == 20);  // still idle since its release
    CHECK(idle.take(g2, 1) == a[1]);
}

TEST_CASE_METHOD(FiledUnderFirst, "an idle connection that spoke or closed is taken off its list", "[pool]") {
    Conns a(2, 0, 1);
    idle.put(a[0], 0);
    idle.put(a[1], 0);
    idle.remove(a[1]);
    CHECK(idle.count(0) == 1);
    CHECK(idle.take(g1, 0) == a[0]);
}

namespace {

// A listening socket on 127.0.0.1 standing for a back end.
struct LoopbackBackend {
    LoopbackBackend() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(listen(fd, 8) == 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~LoopbackBackend() { close(fd); }
    int fd = -1;
    uint16_t port = 0;
};

std::string loopback_config(uint16_t port, unsigned depth) {
    return R"(
backends = ( { key = "a"; address = "127.0.0.1"; port = )" + std::to_string(port) + R"(; } );
services = ( { name = "web"; backends = ["a"]; pool = { idle_per_backend = )" + std::to_string(depth) + R"(; }; } );
server = { listeners = ( { port = 80; service = "web"; } ); };
)";
}

// A worker's pool with one back end, a LoopbackBackend, kept `depth` deep.
struct LoopbackPool {
    explicit LoopbackPool(unsigned depth) : g(test::load_sections(loopback_config(backend.port, depth)), 1, 1, 1, 0,
                                              nullptr) {
        REQUIRE(epoll);
        pool.adopt(g);
    }
    LoopbackBackend backend;
    const Generation g;
    const io::Fd epoll{epoll_create1(EPOLL_CLOEXEC)};
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file{std::tmpfile(), std::fclose};
    LimitedLog log{0, log_file.get()};
    BackendPool pool{epoll, log};
};

// Waits (at most 2 s) until `fd` has something to read or its peer's close.
bool wait_until_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 2000) == 1;
}

}  // namespace

TEST_CASE("a pooled connection is opened once, handed out again ready to write, and closed when not reusable",
          "[pool]") {
    LoopbackPool lp(1);
    const LoopbackBackend& backend = lp.backend;
    const Generation& g = lp.g;
    const io::Fd& epoll = lp.epoll;
    BackendPool& pool = lp.pool;

    BackendConn* c = pool.open(g, 0, nullptr, 0);
    REQUIRE(c != nullptr);
    CHECK(c->connecting);
    CHECK_FALSE(c->reused);
    CHECK(c->generation == 1);
    const int peer = accept4(backend.fd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(peer >= 0);
    epoll_event ev{};
    REQUIRE(epoll_wait(epoll.get(), &ev, 1, 2000) == 1);  // registered: the connect's completion is reported
    CHECK(ev.data.ptr == &c->handle);
    CHECK((ev.events & EPOLLOUT) != 0);

    pool.release(c, true, 5);
    CHECK(c->owner == nullptr);
    CHECK(pool.idle().count(0) == 1);
    BackendConn* again = pool.take_idle(g, 0, nullptr);
    REQUIRE(again == c);
    CHECK(again->reused);
    CHECK(again->writable);
    CHECK_FALSE(again->connecting);
    CHECK(pool.idle().count(0) == 0);
    CHECK(pool.take_idle(g, 0, nullptr) == nullptr);

    pool.release(again, false, 6);  // a response that leaves the connection unusable
    CHECK(again->dead);
    CHECK(pool.idle().count(0) == 0);
    char byte;
    CHECK(recv(peer, &byte, 1, 0) == 0);  // the back end sees the close

    pool.free_dead();  // the end of the event batch: the object is reused for the next connection
    BackendConn* next = pool.open(g, 0, nullptr, 7);
    CHECK(next == c);
    CHECK_FALSE(next->dead);
    const int peer2 = accept4(backend.fd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(peer2 >= 0);
    pool.stop_pooling();  // the worker is stopping: nothing is kept
    pool.release(next, true, 8);
    CHECK(next->dead);
    CHECK(recv(peer2, &byte, 1, 0) == 0);
    close(peer);
    close(peer2);
}

TEST_CASE("an idle connection with bytes or a close waiting in its socket is never handed out", "[pool]") {
    LoopbackPool lp(2);
    const LoopbackBackend& backend = lp.backend;
    const Generation& g = lp.g;
    BackendPool& pool = lp.pool;

    BackendConn* quiet = pool.open(g, 0, nullptr, 0);
    BackendConn* chatty = pool.open(g, 0, nullptr, 0);
    REQUIRE(quiet != nullptr);
    REQUIRE(chatty != nullptr);
    const int quiet_peer = accept4(backend.fd, nullptr, nullptr, SOCK_CLOEXEC);
    const int chatty_peer = accept4(backend.fd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(quiet_peer >= 0);
    REQUIRE(chatty_peer >= 0);
    for (int connected = 0; connected < 2;) {  // both connects complete
        epoll_event ev[2];
        const int n = epoll_wait(lp.epoll.get(), ev, 2, 2000);
        REQUIRE(n > 0);
        connected += n;
    }
    CHECK(unread(*quiet) == Unread::nothing);

    pool.release(quiet, true, 1);
    pool.release(chatty, true, 2);  // the most recently released: handed out first, if it can be
    // After its answer the back end sent more (say, a body on a HEAD answer) and the event is still on its way.
    REQUIRE(send(chatty_peer, "x", 1, 0) == 1);
    REQUIRE(wait_until_readable(chatty->fd.get()));
    CHECK(unread(*chatty) == Unread::bytes);
    CHECK(pool.take_idle(g, 0, nullptr) == quiet);
    CHECK(chatty->dead);
    char byte;
    CHECK(recv(chatty_peer, &byte, 1, 0) <= 0);  // closed (reset: it had unread bytes), not reused

    pool.release(quiet, true, 3);
    shutdown(quiet_peer, SHUT_WR);  // the back end closed it while idle
    REQUIRE(wait_until_readable(quiet->fd.get()));
    CHECK(unread(*quiet) == Unread::closed);
    CHECK(pool.take_idle(g, 0, nullptr) == nullptr);
    CHECK(quiet->dead);
    close(quiet_peer);
    close(chatty_peer);
}

namespace {

// kBefore with prewarm: a keeps 1 of its 2 past the 100 ms timeout.
const char* kPrewarm = R"(
backends = ( { key = "a"; address = "10.0.0.1"; }, { key = "b"; address = "10.0.0.2"; } );
services = ( { name = "web"; backends = ["a"]; down_interval_ms = 700;
               pool = { idle_per_backend = 2; idle_timeout_ms = 100; prewarm = 1; }; },
             { name = "img"; backends = ["b"]; pool = { idle_per_backend = 1; idle_timeout_ms = 1000; }; } );
server = { listeners = ( { port = 80; service = "web"; }, { port = 81; service = "img"; } ); };
)";

std::string prewarm_config(uint16_t port) {
    return R"(
backends = ( { key = "a"; address = "127.0.0.1"; port = )" + std::to_string(port) + R"(; } );
services = ( { name = "web"; backends = ["a"]; down_interval_ms = 1000;
               pool = { idle_per_backend = 3; prewarm = 2; }; } );
server = { listeners = ( { port = 80; service = "web"; } ); };
)";
}

// Hands the pool's events to it (as the worker does for connections without an owner) until `done` holds, at most 2 s.
template <class Done>
bool pump(const io::Fd& epoll, BackendPool& pool, int64_t now_ms, Done&& done) {
    for (int i = 0; i < 200 && !done(); ++i) {
        epoll_event ev[8];
        const int n = epoll_wait(epoll.get(), ev, 8, 10);
        for (int k = 0; k < n; ++k) {
            auto* c = static_cast<BackendConn*>(static_cast<EventHandle*>(ev[k].data.ptr)->owner);
            if (!c->dead && !c->owner) pool.idle_event(c, ev[k].events, now_ms);
        }
        pool.free_dead();
    }
    return done();
}

}  // namespace

TEST_CASE("a generation takes each back end's prewarm count and back-off from the services that use it", "[pool][prewarm]") {
    const Generation g{test::load_sections(kPrewarm), 1, 1, 1, 0, nullptr};
    CHECK(g.pool_prewarm == std::vector<uint32_t>{1, 0});
    CHECK(g.prewarm_backoff_ms[0] == 700);
}

TEST_CASE("idle connections past the timeout close only above the prewarm count, the most recent staying",
          "[pool][prewarm]") {
    const Generation g{test::load_sections(kPrewarm), 1, 1, 1, 0, nullptr};
    IdleConnections idle;
    Closed closed;
    idle.refile(g, closed);
    Conns a(2, 0, 1);
    idle.put(a[0], 0);
    idle.put(a[1], 50);
    idle.expire(10000, closed);
    CHECK(closed.conns == std::vector<BackendConn*>{a[0]});
    CHECK(idle.count(0) == 1);
    idle.expire(100000, closed);  // the prewarmed one below the count stays, however long
    CHECK(idle.count(0) == 1);
    CHECK(idle.take(g, 0) == a[1]);
}

TEST_CASE("prewarm opens connections ahead of demand, refills after a take, lets go of a disabled or dead back end",
          "[pool][prewarm]") {
    LoopbackBackend backend;
    const Generation g{test::load_sections(prewarm_config(backend.port)), 1, 1, 1, 0, nullptr};
    const io::Fd epoll{epoll_create1(EPOLL_CLOEXEC)};
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file{std::tmpfile(), std::fclose};
    LimitedLog log{0, log_file.get()};
    BackendPool pool{epoll, log, 0};
    BackendState& st = *g.backends[0];
    const Counter& gauge = st.counters(0).idle_pooled;

    pool.adopt(g);
    CHECK(pool.refill_due());
    pool.refill(0);
    CHECK(pool.warming() == 2);
    CHECK(pool.idle().count(0) == 0);  // not idle before they are ready
    REQUIRE(pump(epoll, pool, 1, [&] { return pool.warming() == 0; }));
    CHECK(pool.idle().count(0) == 2);
    CHECK(gauge.get() == 2);
    CHECK_FALSE(pool.refill_due());

    BackendConn* used = pool.take_idle(g, 0, nullptr);
    REQUIRE(used != nullptr);
    CHECK(gauge.get() == 1);
    CHECK(pool.refill_due());  // the worker refills after the batch, not while the request goes on
    pool.refill(2);
    CHECK(pool.warming() == 1);
    REQUIRE(pump(epoll, pool, 3, [&] { return pool.warming() == 0; }));
    CHECK(pool.idle().count(0) == 2);
    pool.release(used, true, 4);
    CHECK(pool.idle().count(0) == 3);
    pool.expire_idle(100000);  // above the prewarm count only
    CHECK(pool.idle().count(0) == 2);
    CHECK(gauge.get() == 2);

    st.set_admin(BackendAdmin::disabled);
    pool.maintain(100001);
    CHECK(pool.idle().count(0) == 0);
    CHECK(pool.warming() == 0);
    CHECK(gauge.get() == 0);
    st.set_admin(BackendAdmin::enabled);

    // The back end goes away: the prewarm connect fails, marks it down, and nothing is tried until its interval ends.
    close(backend.fd);
    backend.fd = -1;
    pool.maintain(100002);
    REQUIRE(pump(epoll, pool, 100003, [&] { return pool.warming() == 0; }));
    CHECK(st.down(100003));
    CHECK(st.counters(0).connect_failures.get() >= 1);
    CHECK(pool.idle().count(0) == 0);
    pool.maintain(100500);
    CHECK(pool.warming() == 0);  // still down: no connect storm
    const uint64_t failures = st.counters(0).connect_failures.get();
    pool.maintain(101100);  // its interval has passed: one probe, not two (refused at once, or still connecting)
    CHECK(pool.warming() + (st.counters(0).connect_failures.get() - failures) == 1);
    pool.stop_pooling();
    pool.free_dead();
}
