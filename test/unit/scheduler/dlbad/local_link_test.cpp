// The link to the local scheduler and server against control sockets in a temporary directory: the exact request
// lines (the wire format the scheduler and server parse), how answers are read, and the log limit.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dlbad_fakes.hpp"
#include "local_link.hpp"
#include "io/table_format.hpp"
#include "io/unix_socket.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

namespace {

// A daemon on a control socket that records every request line and answers with `answer(line)`.
class FakeDaemon {
public:
    using Answer = std::function<std::string(std::string_view)>;
    FakeDaemon(const std::string& path, Answer answer) : server_(path), answer_(std::move(answer)) {
        std::string err;
        if (!server_.start(&err)) throw std::runtime_error(err);
        thread_ = std::thread([this] {
            while (!stop_) {
                server_.poll_once(20, [this](std::string_view line) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    lines_.emplace_back(line);
                    return answer_(line);
                });
            }
        });
    }
    ~FakeDaemon() {
        stop_ = true;
        thread_.join();
    }
    std::vector<std::string> lines() {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    io::ControlServer server_;
    Answer answer_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::string> lines_;
    std::thread thread_;
};

std::string ok_answer(std::string_view) { return io::reply_ok("done"); }

}  // namespace

TEST_CASE("local link: every typed request is the scheduler's command line", "[local-link]") {
    TempDir dir;
    FakeTime time;
    FakeDaemon scheduler(dir.file("scheduler.sock"), ok_answer);
    SocketLink link(1, dir.file("scheduler.sock"), "", time);
    CHECK(link.set_role_active(500).ok());
    CHECK(link.set_standby().ok());
    CHECK(link.renew().ok());
    CHECK(link.sync_from(std::nullopt).ok());
    CHECK(link.sync_from(3).ok());
    CHECK(link.node_failed(2, true).ok());
    CHECK(link.node_failed(2, false).ok());
    CHECK(link.node_stats(2, NodeFigures{10, 3, 12.5}).ok());
    CHECK(link.node_stats(2, std::nullopt).ok());
    CHECK(link.sweep_done(1700000000).ok());
    CHECK(link.check_reload("/etc/dlba/dlba.conf.staged").ok());
    CHECK(link.reload().ok());
    CHECK(link.pass_to_scheduler("hash all 2").ok());
    CHECK(scheduler.lines() == std::vector<std::string>{
                                   "role active lease 500", "role standby", "renew", "sync-from none", "sync-from 3",
                                   "node 2 fail", "node 2 live", "node 2 stats 10 3 12.500", "node 2 stats - - -",
                                   "sweep-done 1700000000", "check-reload /etc/dlba/dlba.conf.staged", "reload",
                                   "hash all 2"});
    CHECK_FALSE(link.has_server_socket());
}

TEST_CASE("local link: the server's requests go to the server's socket", "[local-link]") {
    TempDir dir;
    FakeTime time;
    FakeDaemon server(dir.file("server.sock"), ok_answer);
    SocketLink link(1, dir.file("scheduler.sock"), dir.file("server.sock"), time);
    CHECK(link.has_server_socket());
    CHECK(link.server_check_reload("/x.staged").ok());
    CHECK(link.server_reload().ok());
    CHECK(link.pass_to_server("backend a drain").ok());
    CHECK(server.lines() == std::vector<std::string>{"check-reload /x.staged", "reload", "backend a drain"});
}

TEST_CASE("local link: answers read as ok, refused with the daemon's reason, or unreadable", "[local-link]") {
    TempDir dir;
    FakeTime time;
    FakeDaemon scheduler(dir.file("s.sock"), [](std::string_view line) -> std::string {
        if (line == "renew") return io::reply_error("no lease");
        if (line == "reload") return "garbage";
        return io::reply_ok("fine");
    });
    SocketLink link(1, dir.file("s.sock"), "", time);
    const LinkReply refused = link.renew();
    CHECK(refused.result == LinkResult::refused);
    CHECK(refused.error == "no lease");
    CHECK(refused.answered());
    const LinkReply garbage = link.reload();
    CHECK(garbage.result == LinkResult::refused);
    CHECK(garbage.error == "unreadable answer");
    CHECK(garbage.answer == "garbage\n");  // as it came, newline included
    const LinkReply ok = link.set_standby();
    CHECK(ok.ok());
    CHECK(ok.answer == io::reply_ok("fine") + "\n");
}

TEST_CASE("local link: the scheduler's tables read as typed values", "[local-link]") {
    TempDir dir;
    FakeTime time;
    FakeDaemon scheduler(dir.file("s.sock"), [](std::string_view line) -> std::string {
        io::Table t;
        t.source = "scheduler";
        using io::ColumnType;
        if (line == "counters") {
            t.name = "counters";
            t.version = 42;
            t.meta = {{"role", "active"}};
            t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
            t.rows = {{"rx", 5}, {"polls", 1234}};
        } else {
            t.name = "status";
            t.columns = {{"node", ColumnType::unsigned_integer}, {"failed", ColumnType::boolean}};
            t.rows = {{1, false}, {2, true}};
        }
        return t.to_json().dump();
    });
    SocketLink link(1, dir.file("s.sock"), "", time);
    const CountersReading c = link.counters(500);
    REQUIRE(c.counters);
    CHECK(c.counters->active);
    CHECK(c.counters->table_version == 42);
    CHECK(c.counters->polls == std::optional<uint64_t>(1234));
    CHECK(link.status() == std::map<uint16_t, bool>{{1, false}, {2, true}});
}

TEST_CASE("local link: a scheduler that is not running", "[local-link]") {
    TempDir dir;
    FakeTime time;
    SocketLink link(1, dir.file("none.sock"), "", time);
    const LinkReply r = link.renew();
    CHECK(r.result == LinkResult::no_answer);
    CHECK_FALSE(r.error.empty());
    CHECK(link.status().empty());
    const CountersReading c = link.counters(200);
    CHECK_FALSE(c.counters);
    CHECK(c.nobody_listens);
}

TEST_CASE("repeat limit: the same failure once per period, with the count of the ones left out", "[local-link]") {
    RepeatLimit limit(10000);
    uint64_t suppressed = 99;
    CHECK(limit.report("renew: refused", 5000, &suppressed));
    CHECK(suppressed == 0);
    CHECK_FALSE(limit.report("renew: refused", 5050, &suppressed));
    CHECK_FALSE(limit.report("renew: refused", 14999, &suppressed));
    CHECK(limit.report("role: refused", 6000, &suppressed));  // another failure has its own period
    CHECK(limit.report("renew: refused", 15000, &suppressed));
    CHECK(suppressed == 2);
    CHECK_FALSE(limit.report("renew: refused", 15001, &suppressed));
}
