// The worker's error log: one line per second per kind at most, the lines held back counted in the next one.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <utility>

#include "net/limited_log.hpp"

using namespace dlba::server;

namespace {

struct Capture {
    Capture() : file(std::tmpfile()) { REQUIRE(file); }
    ~Capture() { std::fclose(file); }
    std::string text() const {
        std::fflush(file);
        std::rewind(file);
        std::string s;
        char buf[512];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) s.append(buf, n);
        return s;
    }
    std::FILE* file;
};

}  // namespace

TEST_CASE("a second line of the same kind within a second is held back and counted in the next", "[log]") {
    Capture out;
    LimitedLog log(3, out.file);
    const std::pair<int64_t, const char*> failures[] = {{10000, "a"}, {10500, "b"}, {10999, "c"}, {11000, "d"},
                                                        {12500, "e"}};
    for (const auto& [ms, key] : failures) {
        log.write(LogKind::backend_down, ms, std::string("back end ") + key + " refused the connection");
    }
    CHECK(out.text() ==
          "dlba-server[w3]: back end a refused the connection\n"
          "dlba-server[w3]: back end d refused the connection (and 2 more like it)\n"
          "dlba-server[w3]: back end e refused the connection\n");
}

TEST_CASE("each kind of error has its own limit", "[log]") {
    Capture out;
    LimitedLog log(0, out.file);
    log.write(LogKind::tls, 5000, "TLS handshake failed");
    log.write(LogKind::descriptors, 5001, "accept: out of file descriptors");
    log.write(LogKind::listener, 5002, "no socket for listener");
    log.write(LogKind::tls, 5003, "TLS handshake failed again");
    CHECK(out.text() ==
          "dlba-server[w0]: TLS handshake failed\n"
          "dlba-server[w0]: accept: out of file descriptors\n"
          "dlba-server[w0]: no socket for listener\n");
}
