#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/fd.hpp"
#include "io/table_format.hpp"
#include "io/unix_socket.hpp"

using dlba::io::ControlServer;
using dlba::io::ControlServerLimits;
using dlba::io::Fd;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// A private directory for one test's sockets, removed even when the test fails.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "dlba-io-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Runs poll_once in a thread until stopped, and at most for a few seconds whatever happens.
struct ServerThread {
    ControlServer& server;
    std::atomic<bool> stop{false};
    std::atomic<int> handled{0};
    std::thread thread;

    explicit ServerThread(ControlServer& s) : server(s) {
        thread = std::thread([this] {
            for (int i = 0; i < 400 && !stop; ++i)
                server.poll_once(20, [this](std::string_view line) {
                    ++handled;
                    if (line == "throw") throw std::runtime_error("boom");
                    if (line.size() > 100) return dlba::io::reply_ok("long " + std::to_string(line.size()));
                    return dlba::io::reply_ok("got " + std::string(line));
                });
        });
    }
    ~ServerThread() {
        stop = true;
        thread.join();
    }
};

Fd connect_raw(const std::string& path) {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

void send_all(const Fd& fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;  // the server may hang up first; what it said is checked by the caller
        sent += size_t(n);
    }
}

// Everything until the server closes (tolerating the reset Linux reports when our own bytes were left unread).
std::string read_all(const Fd& fd) {
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0) out.append(buf, size_t(n));
    return out;
}

json ask(const std::string& path, const std::string& line, int timeout_ms = 3000) {
    std::string err;
    auto answer = dlba::io::request(path, line, timeout_ms, &err);
    INFO(err);
    REQUIRE(answer);
    CHECK(answer->back() == '\n');
    return json::parse(*answer);
}

// A socket file with nobody behind it, as a crashed daemon leaves it.
void make_stale_socket(const std::string& path) {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

std::chrono::milliseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

}  // namespace

TEST_CASE("Fd closes once and moves ownership", "[io]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[1]);
    {
        Fd a(fds[0]);
        Fd b(std::move(a));
        CHECK_FALSE(a.valid());
        CHECK(b.get() == fds[0]);
    }
    CHECK(::fcntl(fds[0], F_GETFD) == -1);  // closed by b
}

TEST_CASE("a request gets the handler's answer back", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "run/dlba/ctl.sock").string();  // parents do not exist yet
    ControlServer server(path);
    std::string err;
    REQUIRE(server.start(&err));

    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0660);
    REQUIRE(::stat((dir.path / "run/dlba").c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));

    ServerThread thread(server);
    for (const char* line : {"status", "node 2 weight 3", "hash all"}) {
        auto r = dlba::io::reply_from_json(ask(path, line), &err);
        REQUIRE(r);
        CHECK(r->ok);
        CHECK(r->text == std::string("got ") + line);
    }
}

TEST_CASE("CRLF and an end of stream without newline both end a request", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServer server(path);
    REQUIRE(server.start(nullptr));
    ServerThread thread(server);

    Fd crlf = connect_raw(path);
    send_all(crlf, "status\r\n");
    CHECK(json::parse(read_all(crlf))["message"] == "got status");

    Fd eof = connect_raw(path);
    send_all(eof, "counters");
    ::shutdown(eof.get(), SHUT_WR);
    CHECK(json::parse(read_all(eof))["message"] == "got counters");
}

TEST_CASE("a client that never finishes its line is cut at the deadline and others are still served",
          "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServerLimits limits;
    limits.read_deadline = std::chrono::milliseconds(300);
    ControlServer server(path, limits);
    REQUIRE(server.start(nullptr));
    ServerThread thread(server);

    const auto t0 = Clock::now();
    Fd slow = connect_raw(path);
    send_all(slow, "sta");  // and nothing more

    // Served while the slow client is pending or right after its cut, never stuck behind it.
    CHECK(ask(path, "status")["message"] == "got status");
    CHECK(since(t0) < std::chrono::milliseconds(1500));

    const json cut = json::parse(read_all(slow));
    const auto waited = since(t0);
    CHECK(cut["ok"] == false);
    CHECK_THAT(cut["error"].get<std::string>(), Catch::Matchers::Contains("no complete request line within 300 ms"));
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(waited < std::chrono::milliseconds(2000));

    CHECK(ask(path, "counters")["message"] == "got counters");
    CHECK(thread.handled == 2);
}

TEST_CASE("poll_once returns by the read deadline when a client stalls", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServerLimits limits;
    limits.read_deadline = std::chrono::milliseconds(300);
    ControlServer server(path, limits);
    REQUIRE(server.start(nullptr));

    Fd slow = connect_raw(path);
    send_all(slow, "status");  // no newline, and the connection stays open
    int calls = 0;
    const auto t0 = Clock::now();
    server.poll_once(5000, [&](std::string_view) {
        ++calls;
        return std::string();
    });
    CHECK(since(t0) >= std::chrono::milliseconds(250));
    CHECK(since(t0) < std::chrono::milliseconds(1000));
    CHECK(calls == 0);
    CHECK(json::parse(read_all(slow))["ok"] == false);

    // And with nobody there it waits no longer than asked.
    const auto t1 = Clock::now();
    server.poll_once(50, [](std::string_view) { return std::string(); });
    CHECK(since(t1) < std::chrono::milliseconds(500));
}

TEST_CASE("a request longer than 64 KiB is refused without reaching the handler", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServer server(path);
    REQUIRE(server.start(nullptr));
    ServerThread thread(server);

    SECTION("sent raw, without a newline") {
        Fd fd = connect_raw(path);
        send_all(fd, std::string(64 * 1024 + 10, 'a'));
        const json r = json::parse(read_all(fd));
        CHECK(r["ok"] == false);
        CHECK(r["error"] == "request longer than 65536 bytes");
    }
    SECTION("sent with request()") {
        const json r = ask(path, std::string(200 * 1024, 'a'));
        CHECK(r["error"] == "request longer than 65536 bytes");
    }
    SECTION("exactly 64 KiB is still accepted") {
        CHECK(ask(path, std::string(64 * 1024, 'a'))["message"] == "long 65536");
        CHECK(thread.handled == 1);
    }
    CHECK(ask(path, "status")["message"] == "got status");
    CHECK(thread.handled <= 2);
}

TEST_CASE("a handler that throws answers an error and the server goes on", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServer server(path);
    REQUIRE(server.start(nullptr));
    ServerThread thread(server);

    const json r = ask(path, "throw");
    CHECK(r["ok"] == false);
    CHECK(r["error"] == "internal error: boom");
    CHECK(ask(path, "status")["message"] == "got status");
}

TEST_CASE("a second server refuses a path where a live server listens", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    ControlServer first(path);
    REQUIRE(first.start(nullptr));

    std::string err;
    {
        ControlServer second(path);
        CHECK_FALSE(second.start(&err));
        CHECK(err == "another process is listening on " + path);
    }  // destroying the refused server must not remove the first one's socket

    ServerThread thread(first);
    CHECK(ask(path, "status")["message"] == "got status");
}

TEST_CASE("a stale socket file is replaced", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    make_stale_socket(path);
    REQUIRE(fs::exists(path));

    ControlServer server(path);
    std::string err;
    REQUIRE(server.start(&err));
    ServerThread thread(server);
    CHECK(ask(path, "status")["message"] == "got status");
}

TEST_CASE("a path that is not a socket is left alone", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    std::ofstream(path) << "precious";

    ControlServer server(path);
    std::string err;
    CHECK_FALSE(server.start(&err));
    CHECK_THAT(err, Catch::Matchers::Contains("is not a socket"));
    std::ifstream in(path);
    std::string content;
    in >> content;
    CHECK(content == "precious");
}

TEST_CASE("the server removes its socket file when it goes, but not a successor's", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    {
        ControlServer server(path);
        REQUIRE(server.start(nullptr));
        CHECK(fs::exists(path));
    }
    CHECK_FALSE(fs::exists(path));

    auto old_server = std::make_unique<ControlServer>(path);
    REQUIRE(old_server->start(nullptr));
    fs::remove(path);  // an operator cleaned up, and a new daemon took the path
    ControlServer successor(path);
    REQUIRE(successor.start(nullptr));
    old_server.reset();
    CHECK(fs::exists(path));
}

TEST_CASE("request() explains why it cannot reach a daemon", "[io][control_socket]") {
    TempDir dir;
    const std::string path = (dir.path / "ctl.sock").string();
    std::string err;

    CHECK_FALSE(dlba::io::request(path, "status", 500, &err));
    CHECK(err == "no such socket: " + path + " (is the daemon running?)");

    make_stale_socket(path);
    CHECK_FALSE(dlba::io::request(path, "status", 500, &err));
    CHECK_THAT(err, Catch::Matchers::StartsWith("connection refused: " + path));
    fs::remove(path);

    // Listening but never answering: the kernel completes the connection, nobody reads it.
    ControlServer mute(path);
    REQUIRE(mute.start(nullptr));
    const auto t0 = Clock::now();
    CHECK_FALSE(dlba::io::request(path, "status", 200, &err));
    CHECK(err == "timed out after 200 ms talking to " + path);
    CHECK(since(t0) < std::chrono::milliseconds(1000));

    CHECK_FALSE(dlba::io::request(path, "two\nlines", 200, &err));
    CHECK(err == "a request is a single line");
    CHECK_FALSE(dlba::io::request(std::string(200, 'x'), "status", 200, &err));
    CHECK_THAT(err, Catch::Matchers::StartsWith("socket path too long"));
}
