#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "ctl/ctl_args.hpp"

using namespace dlba::ctl;

namespace {

ParseResult parse(std::initializer_list<const char*> args, const char* env_socket = nullptr) {
    std::vector<const char*> argv{"dlbactl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_args(static_cast<int>(argv.size()), argv.data(), env_socket);
}

Invocation ok(std::initializer_list<const char*> args, const char* env_socket = nullptr) {
    auto r = parse(args, env_socket);
    if (auto* e = std::get_if<UsageError>(&r)) FAIL("usage error: " << e->message);
    REQUIRE(std::holds_alternative<Invocation>(r));
    return std::get<Invocation>(r);
}

std::string usage_error(std::initializer_list<const char*> args) {
    auto r = parse(args);
    REQUIRE(std::holds_alternative<UsageError>(r));
    return std::get<UsageError>(r).message;
}

}  // namespace

TEST_CASE("each command becomes the request line the daemon expects", "[dlbactl]") {
    struct Case {
        std::initializer_list<const char*> args;
        const char* request;
    };
    const Case cases[] = {
        {{"hash"}, "hash"},
        {{"hash", "--all"}, "hash all"},
        {{"hash", "all"}, "hash all"},
        {{"status"}, "status"},
        {{"counters"}, "counters"},
        {{"backends"}, "backends"},
        {{"backends", "--json"}, "backends"},
        {{"role", "active"}, "role active"},
        {{"role", "standby"}, "role standby"},
        {{"node", "2", "fail"}, "node 2 fail"},
        {{"node", "2", "live"}, "node 2 live"},
        {{"node", "1", "enable"}, "node 1 enable"},
        {{"node", "255", "disable"}, "node 255 disable"},
        {{"node", "7", "drain"}, "node 7 drain"},
        {{"node", "2", "weight", "3"}, "node 2 weight 3"},
        {{"node", "002", "weight", "0"}, "node 2 weight 0"},
        {{"node", "3", "weight", "4294967295"}, "node 3 weight 4294967295"},
        {{"raw", "anything", "--json", "goes"}, "anything --json goes"},
    };
    for (const auto& c : cases) {
        INFO(c.request);
        CHECK(ok(c.args).request == c.request);
    }
}

TEST_CASE("bad arguments are refused before anything is sent", "[dlbactl]") {
    struct Case {
        std::initializer_list<const char*> args;
        const char* error;  // a substring
    };
    const Case cases[] = {
        {{}, "no command given"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
        {{"hash", "some"}, "usage: hash [--all]"},
        {{"status", "now"}, "status takes no arguments"},
        {{"backends", "all"}, "backends takes no arguments"},
        {{"role"}, "usage: role active|standby"},
        {{"role", "primary"}, "usage: role active|standby"},
        {{"node", "2"}, "usage: node N"},
        {{"node", "0", "fail"}, "node number must be 1..255, got '0'"},
        {{"node", "256", "fail"}, "node number must be 1..255, got '256'"},
        {{"node", "-1", "fail"}, "node number must be 1..255, got '-1'"},
        {{"node", "two", "fail"}, "node number must be 1..255"},
        {{"node", "2x", "fail"}, "node number must be 1..255"},
        {{"node", "2", "explode"}, "unknown node action 'explode'"},
        {{"node", "2", "fail", "now"}, "takes no further arguments"},
        {{"node", "2", "weight"}, "usage: node N weight W"},
        {{"node", "2", "weight", "-1"}, "weight must be an integer 0..4294967295, got '-1'"},
        {{"node", "2", "weight", "1.5"}, "weight must be an integer"},
        {{"node", "2", "weight", "4294967296"}, "weight must be an integer"},
        {{"node", "2", "weight", "+3"}, "weight must be an integer"},
        {{"node", "2", "weight", "3", "4"}, "usage: node N weight W"},
        {{"raw"}, "usage: raw LINE"},
        {{"raw", "a\nb"}, "single line"},
        {{"--verbose", "status"}, "unknown option '--verbose'"},
        {{"--socket"}, "--socket needs a path"},
        {{"--socket=", "status"}, "--socket needs a path"},
        {{"--timeout", "0", "status"}, "--timeout must be 1..600000 ms, got '0'"},
        {{"--timeout", "abc", "status"}, "--timeout must be"},
        {{"--timeout", "600001", "status"}, "--timeout must be"},
        {{"status", "--timeout"}, "--timeout needs a value"},
    };
    for (const auto& c : cases) {
        INFO(c.error);
        CHECK_THAT(usage_error(c.args), Catch::Matchers::Contains(c.error));
    }
}

TEST_CASE("options work before and after the command", "[dlbactl]") {
    Invocation inv = ok({"--json", "--socket", "/tmp/a.sock", "--timeout", "250", "status"});
    CHECK(inv.json);
    CHECK(inv.socket_path == "/tmp/a.sock");
    CHECK(inv.timeout_ms == 250);
    CHECK(inv.request == "status");

    inv = ok({"hash", "--all", "-j", "-s", "/tmp/b.sock", "-t", "10"});
    CHECK(inv.json);
    CHECK(inv.socket_path == "/tmp/b.sock");
    CHECK(inv.timeout_ms == 10);
    CHECK(inv.request == "hash all");

    inv = ok({"--socket=/tmp/c.sock", "--timeout=99", "counters"});
    CHECK(inv.socket_path == "/tmp/c.sock");
    CHECK(inv.timeout_ms == 99);

    inv = ok({"--", "status"});
    CHECK(inv.request == "status");
}

TEST_CASE("--all-nodes takes only the operator's admin commands", "[dlbactl]") {
    Invocation inv = ok({"--all-nodes", "--config", "/etc/x.conf", "node", "3", "drain"});
    CHECK(inv.all_nodes);
    CHECK(inv.config_path == "/etc/x.conf");
    CHECK(inv.request == "node 3 drain");
    CHECK(ok({"-a", "node", "2", "weight", "5"}).request == "node 2 weight 5");
    CHECK(ok({"backend", "web1", "disable", "--all-nodes"}).request == "backend web1 disable");
    for (auto args : {std::initializer_list<const char*>{"--all-nodes", "status"},
                      std::initializer_list<const char*>{"--all-nodes", "node", "3", "fail"},
                      std::initializer_list<const char*>{"--all-nodes", "node", "3", "live"},
                      std::initializer_list<const char*>{"--all-nodes", "role", "active"}}) {
        CHECK_THAT(usage_error(args), Catch::Matchers::Contains("--all-nodes takes"));
    }
    CHECK_THAT(usage_error({"--all-nodes", "--node", "2", "node", "3", "drain"}),
               Catch::Matchers::Contains("exclude each other"));
}

TEST_CASE("the socket comes from --socket, else DLBA_SOCKET, else the scheduler's default", "[dlbactl]") {
    CHECK(ok({"status"}).socket_path == "/run/dlba/scheduler.sock");
    CHECK(ok({"status"}, "").socket_path == "/run/dlba/scheduler.sock");
    CHECK(ok({"status"}, "/run/dlba/server.sock").socket_path == "/run/dlba/server.sock");
    CHECK(ok({"--socket", "/x.sock", "status"}, "/run/dlba/server.sock").socket_path == "/x.sock");
    CHECK(ok({"status"}).timeout_ms == kDefaultTimeoutMs);
    CHECK_FALSE(ok({"status"}).json);
}

TEST_CASE("backends asks the DLBA server's monitor socket unless a socket is given", "[dlbactl]") {
    CHECK(ok({"backends"}).socket_path == "/run/dlba/server.sock");
    CHECK(ok({"backends", "--json"}).json);
    CHECK(ok({"backends"}, "/tmp/env.sock").socket_path == "/tmp/env.sock");
    CHECK(ok({"--socket", "/tmp/x.sock", "backends"}).socket_path == "/tmp/x.sock");
    CHECK(ok({"status"}).socket_path == "/run/dlba/scheduler.sock");
    CHECK(usage_text().find("backends") != std::string::npos);
}

TEST_CASE("--help wins over everything else and documents every command", "[dlbactl]") {
    CHECK(std::holds_alternative<ShowHelp>(parse({"--help"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"node", "999", "-h"})));
    const std::string help = usage_text();
    for (const char* word : {"--socket", "--json", "--timeout", "DLBA_SOCKET", "hash [--all]", "status", "counters",
                             "role active|standby", "node N fail|live", "enable|disable|drain", "node N weight W",
                             "raw LINE", "Exit status"})
        CHECK_THAT(help, Catch::Matchers::Contains(word));
}

TEST_CASE("each command goes to the socket of the daemon the protocol table names", "[dlbactl]") {
    CHECK(ok({"failover"}).socket_path == "/run/dlba/dlbad.sock");
    CHECK(ok({"sweep"}).socket_path == "/run/dlba/dlbad.sock");
    CHECK(ok({"summary"}).socket_path == "/run/dlba/dlbad.sock");
    // The admin state goes to dlbad, which keeps it and passes it on (README: Lasting admin state).
    CHECK(ok({"backend", "web1", "drain"}).socket_path == "/run/dlba/dlbad.sock");
    CHECK(ok({"backend", "web1", "out-of-service", "maintenance"}).socket_path == "/run/dlba/dlbad.sock");
    CHECK(ok({"backend", "web1", "weight", "4"}).request == "backend web1 weight 4");
    CHECK(ok({"node", "2", "drain"}).socket_path == "/run/dlba/dlbad.sock");
    CHECK(ok({"backend", "web1", "in-service", "--all-nodes"}).all_nodes);
    CHECK(ok({"sync"}).socket_path == "/run/dlba/scheduler.sock");
    CHECK(ok({"raw", "renew"}).socket_path == "/run/dlba/scheduler.sock");
    CHECK(ok({"hash", "--all"}).command->verb == dlba::proto::Verb::hash_all);
    CHECK_FALSE(ok({"raw", "renew"}).command);
}

TEST_CASE("--node takes only the read-only tables; config push goes to every node itself", "[dlbactl]") {
    for (auto args : {std::initializer_list<const char*>{"--node", "2", "status"},
                      std::initializer_list<const char*>{"--node", "2", "hash", "--all"},
                      std::initializer_list<const char*>{"--node", "2", "failover"},
                      std::initializer_list<const char*>{"--node", "2", "backends"}}) {
        CHECK(ok(args).node == 2);
    }
    for (auto args : {std::initializer_list<const char*>{"--node", "2", "role", "active"},
                      std::initializer_list<const char*>{"--node", "2", "node", "3", "drain"},
                      std::initializer_list<const char*>{"--node", "2", "raw", "status"}}) {
        CHECK_THAT(usage_error(args), Catch::Matchers::Contains("--node reads tables only"));
    }
    const Invocation push = ok({"config", "push", "/tmp/new.conf"});
    CHECK(push.push_file == "/tmp/new.conf");
    CHECK_FALSE(push.command);
    CHECK_THAT(usage_error({"config", "pull", "x"}), Catch::Matchers::Contains("usage: config push FILE"));
}

TEST_CASE("top: --interval and --count bounded, sockets defaulted, top's options refused elsewhere", "[dlbactl]") {
    const Invocation d = ok({"top"});
    CHECK(d.top);
    CHECK(d.top_interval_ms == 1000);
    CHECK(d.top_count == 1);
    CHECK(d.socket_path == "/run/dlba/scheduler.sock");
    CHECK(d.server_socket == "/run/dlba/server.sock");
    const Invocation t = ok({"top", "--interval", "0.25", "-k", "3", "--server-socket=/tmp/s.sock", "-s", "/tmp/x"});
    CHECK(t.top_interval_ms == 250);
    CHECK(t.top_count == 3);
    CHECK(t.server_socket == "/tmp/s.sock");
    CHECK(t.socket_path == "/tmp/x");
    CHECK(ok({"top", "-i", "2"}).top_interval_ms == 2000);
    CHECK(ok({"top", "-i", ".5"}).top_interval_ms == 500);
    for (const char* bad : {"0", "0.05", "61", "1.2345", "x", "-1", "1."}) {
        INFO(bad);
        CHECK(usage_error({"top", "--interval", bad}).find("--interval must be") != std::string::npos);
    }
    CHECK(usage_error({"top", "--count", "0"}).find("--count must be") != std::string::npos);
    CHECK(usage_error({"top", "--count", "10001"}).find("--count must be") != std::string::npos);
    CHECK(usage_error({"status", "--count", "2"}).find("for `top` only") != std::string::npos);
    CHECK(usage_error({"top", "extra"}).find("usage: top") != std::string::npos);
    CHECK(usage_error({"top", "--node", "2"}).find("no --node") != std::string::npos);
}

TEST_CASE("latency goes to the server's socket", "[dlbactl]") {
    const Invocation l = ok({"latency"});
    CHECK(l.request == "latency");
    CHECK(l.socket_path == "/run/dlba/server.sock");
}
