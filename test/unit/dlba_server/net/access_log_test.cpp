// The access log: the line of one request, and the per-worker writer that buffers lines and writes them in batches
// to the file of the generation in force.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "net/access_log.hpp"

using namespace dlba::server;

namespace {

AccessLogEntry entry() {
    AccessLogEntry e;
    e.unix_s = 1700000000;  // 2023-11-14T22:13:20Z
    e.client_ip = "192.0.2.7";
    e.client_port = 51234;
    e.method = "GET";
    e.target = "/index.html?q=1";
    e.status = 200;
    e.bytes = 5120;
    e.backend = "web1";
    e.duration_ms = 3;
    e.reason = ChoiceReason::least_conn;
    e.attempts = 1;
    return e;
}

std::string line_of(const AccessLogEntry& e) {
    std::string s;
    format_access_line(e, s);
    return s;
}

// A pipe to stand for the log file: what the writer wrote, read back without blocking.
struct Pipe {
    Pipe() {
        REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
    }
    ~Pipe() {
        close(fds[0]);
        close(fds[1]);
    }
    std::string drain() const {
        std::string out;
        char buf[65536];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
        return out;
    }
    int fds[2] = {-1, -1};
};

}  // namespace

TEST_CASE("an access-log line says when, who, what, the answer, where it went and why", "[access_log]") {
    CHECK(line_of(entry()) ==
          "2023-11-14T22:13:20Z 192.0.2.7:51234 h1 \"GET /index.html?q=1\" 200 5120 web1 3ms least_conn");

    AccessLogEntry retried = entry();
    retried.attempts = 3;
    retried.reason = ChoiceReason::cookie_rerouted;
    CHECK(line_of(retried) ==
          "2023-11-14T22:13:20Z 192.0.2.7:51234 h1 \"GET /index.html?q=1\" 200 5120 web1 3ms cookie_rerouted attempts=3");

    AccessLogEntry refused = entry();  // 503: no back end was chosen
    refused.backend = "-";
    refused.status = 503;
    refused.bytes = 0;
    refused.reason = ChoiceReason::none;
    refused.attempts = 0;
    CHECK(line_of(refused) == "2023-11-14T22:13:20Z 192.0.2.7:51234 h1 \"GET /index.html?q=1\" 503 0 - 3ms none");
    CHECK(AccessLogEntry{}.backend == "-");  // the default names no back end

    AccessLogEntry bad = entry();  // the back end's answer broke the framing rules: refused
    bad.status = 502;
    bad.bytes = 0;
    bad.bad_response = true;
    CHECK(line_of(bad) ==
          "2023-11-14T22:13:20Z 192.0.2.7:51234 h1 \"GET /index.html?q=1\" 502 0 web1 3ms least_conn bad_response");
}

TEST_CASE("an upgraded connection's line ends with the tunnel's bytes each way and why it ended", "[access_log]") {
    AccessLogEntry e = entry();
    e.status = 101;
    e.bytes = 10000217;
    e.duration_ms = 4015;
    e.tunnel = true;
    e.tunnel_up = 10000100;
    e.tunnel_down = 10000000;
    e.tunnel_end = "backend_close";
    CHECK(line_of(e) == "2023-11-14T22:13:20Z 192.0.2.7:51234 h1 \"GET /index.html?q=1\" 101 10000217 web1 4015ms "
                        "least_conn tunnel up=10000100 down=10000000 end=backend_close");
}

TEST_CASE("an access-log line carries at most 1024 bytes of the target", "[access_log]") {
    const std::string target = "/" + std::string(2000, 'a');
    AccessLogEntry e = entry();
    e.target = target;
    const std::string line = line_of(e);
    CHECK(line.find("\"GET /" + std::string(1023, 'a') + "\" 200 ") != std::string::npos);
    CHECK(line.find(std::string(1024, 'a')) == std::string::npos);
}

TEST_CASE("the access log buffers lines and writes them on flush, to the file in force", "[access_log]") {
    Pipe first, second;
    AccessLog log;
    CHECK_FALSE(log.enabled());
    log.write(entry());  // no file: dropped
    log.set_file(first.fds[1]);
    CHECK(log.enabled());
    log.flush();
    CHECK(first.drain().empty());  // the line written while disabled was not kept

    log.write(entry());
    log.write(entry());
    CHECK(first.drain().empty());  // buffered
    log.flush();
    const std::string line = line_of(entry()) + "\n";
    CHECK(first.drain() == line + line);

    log.write(entry());
    log.set_file(second.fds[1]);  // a reload opened a new file (rotation): buffered lines go there
    log.flush();
    CHECK(first.drain().empty());
    CHECK(second.drain() == line);
}

TEST_CASE("the access log writes by itself once more than 32 kB wait", "[access_log]") {
    Pipe file;
    AccessLog log;
    log.set_file(file.fds[1]);
    const size_t line = line_of(entry()).size() + 1;
    const size_t lines_to_flush = AccessLog::kFlushBytes / line + 1;
    for (size_t i = 0; i + 1 < lines_to_flush; ++i) log.write(entry());
    CHECK(file.drain().empty());
    log.write(entry());
    CHECK(file.drain().size() == lines_to_flush * line);
}
