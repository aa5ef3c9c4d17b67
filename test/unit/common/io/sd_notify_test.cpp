#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "io/fd.hpp"
#include "io/sd_notify.hpp"

using namespace dlba::io;

TEST_CASE("NOTIFY_SOCKET: a path keeps its NUL, an abstract '@' name becomes a leading NUL and no more") {
    const auto path = parse_notify_socket("/run/systemd/notify");
    REQUIRE(path);
    CHECK(path->addr.sun_family == AF_UNIX);
    CHECK(std::string(path->addr.sun_path) == "/run/systemd/notify");
    CHECK(path->len == offsetof(sockaddr_un, sun_path) + 20);

    const auto abstract = parse_notify_socket("@dlba/notify");
    REQUIRE(abstract);
    CHECK(abstract->addr.sun_path[0] == '\0');
    CHECK(std::string(abstract->addr.sun_path + 1, 11) == "dlba/notify");
    CHECK(abstract->len == offsetof(sockaddr_un, sun_path) + 12);
}

TEST_CASE("NOTIFY_SOCKET values that cannot be used are refused") {
    CHECK_FALSE(parse_notify_socket(""));
    CHECK_FALSE(parse_notify_socket("/"));
    CHECK_FALSE(parse_notify_socket("@"));
    CHECK_FALSE(parse_notify_socket("relative/path"));
    CHECK_FALSE(parse_notify_socket("vsock:2:1234"));
    CHECK_FALSE(parse_notify_socket("/" + std::string(107, 'x')));  // 108 bytes and the NUL do not fit
    CHECK(parse_notify_socket("/" + std::string(106, 'x')));
    CHECK(parse_notify_socket("@" + std::string(107, 'x')));  // an abstract name needs no NUL
    CHECK_FALSE(parse_notify_socket("@" + std::string(108, 'x')));
}

TEST_CASE("the watchdog is pinged at half of WATCHDOG_USEC, for this process only") {
    CHECK(watchdog_ping_period_us("2000000", nullptr, 42) == 1000000);
    CHECK(watchdog_ping_period_us("300000", "42", 42) == 150000);
    CHECK(watchdog_ping_period_us("300000", "43", 42) == 0);  // meant for another process
    CHECK(watchdog_ping_period_us(nullptr, nullptr, 42) == 0);
    CHECK(watchdog_ping_period_us("", nullptr, 42) == 0);
    CHECK(watchdog_ping_period_us("0", nullptr, 42) == 0);
    CHECK(watchdog_ping_period_us("-5", nullptr, 42) == 0);
    CHECK(watchdog_ping_period_us("12abc", nullptr, 42) == 0);
    CHECK(watchdog_ping_period_us("300000", "x", 42) == 0);
}

TEST_CASE("watchdog pings are due once per period") {
    CHECK_FALSE(watchdog_due(0, 0, 1000000));  // off
    CHECK_FALSE(watchdog_due(500, 1000, 1499));
    CHECK(watchdog_due(500, 1000, 1500));
    CHECK(watchdog_due(500, 1000, 9000));
}

TEST_CASE("a notification is its assignments, then STATUS= on one line") {
    CHECK(notify_message("READY=1", "node 1: standby") == "READY=1\nSTATUS=node 1: standby");
    CHECK(notify_message("STOPPING=1", "") == "STOPPING=1");
    CHECK(notify_message("", "active") == "STATUS=active");
    CHECK(notify_message("READY=1", "two\nlines\r") == "READY=1\nSTATUS=two lines ");
}

namespace {

// A datagram socket standing in for the service manager; `name` starts with '@' for an abstract one.
Fd manager_socket(const std::string& name) {
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    const auto a = parse_notify_socket(name);
    REQUIRE(a);
    if (name[0] == '/') ::unlink(name.c_str());
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a->addr), a->len) == 0);
    timeval tv{2, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

std::string receive(const Fd& fd) {
    char buf[4096];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    return n < 0 ? std::string("(nothing)") : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("the notifier sends each message as one datagram to NOTIFY_SOCKET, abstract or path") {
    const std::string pid = std::to_string(getpid());
    for (const std::string name : {"@dlba-unit-notify-" + pid, "/tmp/dlba-unit-notify-" + pid}) {
        Fd manager = manager_socket(name);
        setenv("NOTIFY_SOCKET", name.c_str(), 1);
        setenv("WATCHDOG_USEC", "20000", 1);
        setenv("WATCHDOG_PID", pid.c_str(), 1);
        ServiceNotifier n;
        REQUIRE(n.enabled());
        CHECK(n.watchdog_period_us() == 10000);
        n.ready("node 1: standby");
        CHECK(receive(manager) == "READY=1\nSTATUS=node 1: standby");
        n.status("node 1: standby");  // unchanged: not sent
        n.status("node 1: active");
        CHECK(receive(manager) == "STATUS=node 1: active");
        n.reloading("reloading");
        const std::string reloading = receive(manager);
        CHECK(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
        CHECK(reloading.find("\nSTATUS=reloading") != std::string::npos);
        CHECK(n.watchdog_wait_ms(1000) <= 10);
        CHECK(n.watchdog_wait_ms(3) <= 3);
        usleep(11000);
        CHECK(n.watchdog_wait_ms(1000) == 0);
        n.watchdog_tick();
        CHECK(receive(manager) == "WATCHDOG=1");
        n.watchdog_tick();  // not due again yet
        n.stopping("stopping");
        CHECK(receive(manager) == "STOPPING=1\nSTATUS=stopping");
        if (name[0] == '/') ::unlink(name.c_str());
    }
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

TEST_CASE("without NOTIFY_SOCKET the notifier does nothing") {
    unsetenv("NOTIFY_SOCKET");
    ServiceNotifier n;
    CHECK_FALSE(n.enabled());
    CHECK(n.watchdog_period_us() == 0);
    CHECK(n.watchdog_wait_ms(200) == 200);
    n.ready("x");  // no socket: must not fail
    n.watchdog_tick();
}
