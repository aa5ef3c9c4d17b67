// Parsing and formatting requests through the table: builders give the lines the daemons have always exchanged,
// wrong arity or types are refused with the usage or the bad word, SHOW and ADMIN carry a request of their class,
// and dlbactl's scope (what it offers, its spellings) is the table's.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "io/words.hpp"
#include "protocol/builders.hpp"
#include "protocol/verbs.hpp"

using namespace dlba;
using namespace dlba::proto;

namespace {

Request ok(const std::string& line, Daemon daemon) {
    const Parsed p = parse(line, daemon);
    if (const auto* e = std::get_if<ParseError>(&p)) FAIL("'" << line << "' refused: " << e->message);
    return std::get<Request>(p);
}

ParseError refused(const std::string& line, Daemon daemon) {
    const Parsed p = parse(line, daemon);
    if (std::holds_alternative<Request>(p)) {
        FAIL("'" << line << "' accepted as '" << format(std::get<Request>(p)) << "'");
    }
    return std::get<ParseError>(p);
}

ParseError command_refused(const std::string& line, std::optional<Access> access = std::nullopt) {
    const std::vector<std::string_view> words = io::split_words(line);
    const Parsed p = parse_command(words, access);
    if (std::holds_alternative<Request>(p)) FAIL("'" << line << "' accepted");
    return std::get<ParseError>(p);
}

}  // namespace

TEST_CASE("the builders spell the lines the daemons exchange", "[protocol]") {
    struct Case {
        Request request;
        const char* line;
    };
    const Case cases[] = {
        {status(), "status"},
        {hash(), "hash"},
        {hash_all(), "hash all"},
        {hash_page(131072), "hash all 131072"},
        {counters(), "counters"},
        {table_sync(), "sync"},
        {backends(), "backends"},
        {failover(), "failover"},
        {sweep(), "sweep"},
        {summary(), "summary"},
        {node_admin(2, NodeAdmin::draining), "node 2 drain"},
        {node_admin(7, NodeAdmin::enabled), "node 7 enable"},
        {node_admin(255, NodeAdmin::disabled), "node 255 disable"},
        {node_weight(3, 4294967295u), "node 3 weight 4294967295"},
        {backend_admin("web1", BackendAction::drain), "backend web1 drain"},
        {backend_in_service("web1"), "backend web1 in-service"},
        {backend_out_of_service("web1", BackendMode::oos), "backend web1 out-of-service oos"},
        {backend_out_of_service("web1", BackendMode::maintenance), "backend web1 out-of-service maintenance"},
        {backend_out_of_service("web1", BackendMode::sticky), "backend web1 out-of-service sticky"},
        {backend_out_of_service("web1", BackendMode::failed), "backend web1 out-of-service failed"},
        {backend_weight("web1", 7), "backend web1 weight 7"},
        {role(true), "role active"},
        {role_standby(), "role standby"},
        {role_active(500), "role active lease 500"},
        {renew(), "renew"},
        {node_failed(2, true), "node 2 fail"},
        {node_failed(2, false), "node 2 live"},
        {node_stats(3, {120, 4, 2.5}), "node 3 stats 120 4 2.500"},
        {node_stats(3, {120, 4, 1.0 / 3}), "node 3 stats 120 4 0.333"},
        {node_stats(1, {}), "node 1 stats - - -"},
        {node_stats(1, {1, 2, 1e300}), "node 1 stats 1 2 1000000000.000"},  // held to what a reader takes
        {sync_from(3), "sync-from 3"},
        {sync_stop(), "sync-from none"},
        {sweep_done(1700000000), "sweep-done 1700000000"},
        {reload(), "reload"},
        {check_reload("/etc/dlba/dlba.conf.staged"), "check-reload /etc/dlba/dlba.conf.staged"},
        {pull(0x9e3779b97f4a7c15ULL, 42), "PULL 9e3779b97f4a7c15 42"},
        {pull(0xabc, 0), "PULL abc 0"},
        {push_prepare("00000000000000ff", 1234), "PREPARE 00000000000000ff 1234"},
        {push_commit("00000000000000ff"), "COMMIT 00000000000000ff"},
        {push_abort("00000000000000ff"), "ABORT 00000000000000ff"},
        {show(status()), "SHOW status"},
        {show(hash_page(65536)), "SHOW hash all 65536"},
        {admin(node_weight(2, 0)), "ADMIN node 2 weight 0"},
        {admin(backend_admin("b", BackendAction::enable)), "ADMIN backend b enable"},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        CHECK(format(c.request) == c.line);
    }
    CHECK(format_line(renew()) == "renew\n");
}

TEST_CASE("parsing fills the typed fields", "[protocol]") {
    Request r = ok("node 2 drain", Daemon::scheduler);
    CHECK(r.verb == Verb::node_admin);
    CHECK(r.node == 2);
    CHECK(r.admin == NodeAdmin::draining);
    r = ok("node 3 stats 120 4 2.500", Daemon::scheduler);
    CHECK(r.figures.hits == 120u);
    CHECK(r.figures.open_conns == 4u);
    CHECK(r.figures.avg_resp_ms == Approx(2.5));
    r = ok("node 3 stats - - -", Daemon::scheduler);
    CHECK_FALSE(r.figures.hits);
    CHECK_FALSE(r.figures.open_conns);
    CHECK_FALSE(r.figures.avg_resp_ms);
    r = ok("role active lease 500", Daemon::scheduler);
    CHECK(r.verb == Verb::role_active_lease);
    CHECK(r.lease_ms == 500);
    CHECK(ok("role active", Daemon::scheduler).active);
    CHECK_FALSE(ok("role standby", Daemon::scheduler).active);
    CHECK(ok("sync-from none", Daemon::scheduler).verb == Verb::sync_stop);
    CHECK(ok("sync-from 2", Daemon::scheduler).node == 2);
    CHECK(ok("PULL 9e3779b97f4a7c15 42", Daemon::sync_port).fingerprint == 0x9e3779b97f4a7c15ULL);
    CHECK(ok("backend web1 disable", Daemon::server).action == BackendAction::disable);
    // The older spellings mean seed 002's states.
    CHECK(backend_mode_of(ok("backend web1 disable", Daemon::server)) == BackendMode::oos);
    CHECK(backend_mode_of(ok("backend web1 drain", Daemon::dlbad_monitor)) == BackendMode::sticky);
    CHECK(backend_mode_of(ok("backend web1 enable", Daemon::server)) == BackendMode::in_service);
    CHECK(backend_mode_of(ok("backend web1 out-of-service failed", Daemon::server)) == BackendMode::failed);
    CHECK(backend_mode_of(ok("backend web1 in-service", Daemon::server)) == BackendMode::in_service);
    CHECK(ok("backend web1 weight 0", Daemon::dlbad_monitor).weight == 0);
    CHECK(std::string(backend_mode_name(BackendMode::maintenance)) == "maintenance");
    CHECK(backend_mode_named("sticky") == BackendMode::sticky);
    CHECK_FALSE(backend_mode_named("drain"));
    // Spaces, tabs and a carriage return between words are one separator, as io::split_words has them.
    CHECK(format(ok("  node\t2  weight 3\r", Daemon::scheduler)) == "node 2 weight 3");
    CHECK(format(ok("node 002 weight 0", Daemon::scheduler)) == "node 2 weight 0");
}

TEST_CASE("wrong arity or types are refused with the usage or the word that does not fit", "[protocol]") {
    struct Case {
        const char* line;
        const char* message;  // a substring
    };
    const Case cases[] = {
        {"status now", "status takes no arguments"},
        {"node 2", "usage: node N enable|disable|drain | node N weight W | node N fail|live | node N stats"},
        {"node 0 fail", "node number must be 1..255, got '0'"},
        {"node 256 fail", "node number must be 1..255, got '256'"},
        {"node -1 fail", "node number must be 1..255, got '-1'"},
        {"node 2 explode", "unknown node action 'explode' (usage: node N enable|disable|drain"},
        {"node 2 fail now", "node N fail takes no further arguments"},
        {"node 2 weight", "usage: node N weight W"},
        {"node 2 weight 3 4", "usage: node N weight W"},
        {"node 2 weight 1.5", "weight must be an integer 0..4294967295, got '1.5'"},
        {"node 2 weight +3", "weight must be an integer"},
        {"node 2 stats 1 2", "usage: node N stats HITS OPEN AVG_MS"},
        {"node 2 stats 1 2 -3", "figures must be counts and milliseconds or '-', got '-3'"},
        {"node 2 stats 1.5 2 3", "figures must be"},
        {"node 2 stats 1 2 inf", "figures must be"},
        // Found by the fuzzer: a finite average too long for its fixed-point spelling formatted to nothing.
        {"node 2 stats 1 2 888888888888888888888888888888888888888888888888888888888888888888888888888888.5",
         "figures must be"},
        {"node 2 stats 1 2 1000000000.001", "figures must be"},
        {"role", "usage: role active|standby | role active lease MS"},
        {"role primary", "unknown role action 'primary'"},
        {"role active lease", "usage: role active lease MS"},
        {"role active lease 0", "lease must be 1..4294967295 ms, got '0'"},
        {"hash some", "unknown hash action 'some' (usage: hash [all [FROM_BUCKET]])"},
        {"hash all x", "bucket must be an integer 0..4294967295, got 'x'"},
        {"hash all 1 2", "usage: hash all FROM_BUCKET"},
        {"sweep-done", "usage: sweep-done UNIX_TIME"},
        {"sweep-done soon", "time must be unix seconds, got 'soon'"},
        {"check-reload", "usage: check-reload PATH"},
        {"check-reload a b", "usage: check-reload PATH"},
        {"sync-from 300", "node number must be 1..255, got '300'"},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        const ParseError e = refused(c.line, Daemon::scheduler);
        CHECK(e.kind == ParseError::Kind::bad_arguments);
        CHECK_THAT(e.message, Catch::Matchers::Contains(c.message));
    }
    CHECK_THAT(refused("backend a explode", Daemon::server).message,
               Catch::Matchers::Contains("unknown backend action 'explode' (usage: backend KEY enable|disable|drain | "
                                         "backend KEY in-service | backend KEY out-of-service "
                                         "oos|maintenance|sticky|failed | backend KEY weight W)"));
    CHECK_THAT(refused("backend a", Daemon::server).message,
               Catch::Matchers::Contains("usage: backend KEY enable|disable|drain"));
    CHECK_THAT(refused("backend a out-of-service later", Daemon::dlbad_monitor).message,
               Catch::Matchers::Contains("unknown backend action 'later'"));
    CHECK(refused("backend a weight", Daemon::server).message == "usage: backend KEY weight W");
    CHECK_THAT(refused("backend a weight -2", Daemon::server).message,
               Catch::Matchers::Contains("weight must be an integer"));
    CHECK(refused("backend a in-service now", Daemon::server).message ==
          "backend KEY in-service takes no further arguments");
    CHECK_THAT(refused("PULL xyz 1", Daemon::sync_port).message, Catch::Matchers::Contains("fingerprint must be"));
    CHECK_THAT(refused("PREPARE 1234 10", Daemon::dlbad_config).message,
               Catch::Matchers::Contains("a configuration id is 16 hex digits, got '1234'"));
}

TEST_CASE("unknown and empty requests say what the daemon takes", "[protocol]") {
    ParseError e = refused("frobnicate 3", Daemon::scheduler);
    CHECK(e.kind == ParseError::Kind::unknown_verb);
    CHECK(e.message == "unknown request 'frobnicate 3' (" + usage(Daemon::scheduler) + ")");
    e = refused("", Daemon::scheduler);
    CHECK(e.kind == ParseError::Kind::empty);
    CHECK(e.message == "empty request");
    CHECK(refused("   ", Daemon::server).kind == ParseError::Kind::empty);
    // Each daemon takes only its own verbs.
    CHECK(refused("hash", Daemon::server).kind == ParseError::Kind::unknown_verb);
    CHECK(refused("backends", Daemon::scheduler).kind == ParseError::Kind::unknown_verb);
    CHECK(refused("failover", Daemon::scheduler).kind == ParseError::Kind::unknown_verb);
    CHECK(refused("PULL 1 2", Daemon::scheduler).kind == ParseError::Kind::unknown_verb);
    CHECK(refused("status", Daemon::dlbad_config).kind == ParseError::Kind::unknown_verb);
}

TEST_CASE("SHOW carries a read-only request and ADMIN an admin one, each with its home daemon", "[protocol]") {
    Request r = ok("SHOW hash all 65536", Daemon::dlbad_config);
    REQUIRE(r.inner);
    CHECK(r.inner->verb == Verb::hash_page);
    CHECK(r.inner->from_bucket == 65536);
    CHECK(home_of(*r.inner) == Daemon::scheduler);
    CHECK(home_of(*ok("SHOW failover", Daemon::dlbad_config).inner) == Daemon::dlbad_monitor);
    CHECK(home_of(*ok("SHOW backends", Daemon::dlbad_config).inner) == Daemon::server);
    r = ok("ADMIN backend web1 drain", Daemon::dlbad_config);
    REQUIRE(r.inner);
    CHECK(r.inner->key == "web1");
    // The admin state's home is dlbad (it keeps it), which passes it on to the daemon that applies it.
    CHECK(home_of(*r.inner) == Daemon::dlbad_monitor);
    CHECK(applied_by(r.inner->verb) == Daemon::server);
    CHECK(applied_by(ok("ADMIN node 3 weight 2", Daemon::dlbad_config).inner->verb) == Daemon::scheduler);

    CHECK(refused("SHOW role active", Daemon::dlbad_config).message == "not a read-only table: role active");
    CHECK(refused("SHOW role active", Daemon::dlbad_config).verb == Verb::show);
    CHECK(refused("ADMIN role active", Daemon::dlbad_config).verb == Verb::admin);
    CHECK(refused("COMMIT xyz", Daemon::dlbad_config).verb == Verb::commit);
    CHECK_FALSE(refused("HELLO", Daemon::dlbad_config).verb);
    CHECK(refused("SHOW node 2 drain", Daemon::dlbad_config).message == "not a read-only table: node 2 drain");
    CHECK(refused("SHOW frobnicate", Daemon::dlbad_config).message == "not a read-only table: frobnicate");
    CHECK(refused("ADMIN node 2 fail", Daemon::dlbad_config).message == "not an admin command: node 2 fail");
    CHECK(refused("ADMIN role active", Daemon::dlbad_config).message == "not an admin command: role active");
    CHECK(refused("ADMIN status", Daemon::dlbad_config).message == "not an admin command: status");
    CHECK_THAT(refused("SHOW", Daemon::dlbad_config).message, Catch::Matchers::Contains("usage: SHOW REQUEST"));
}

TEST_CASE("dlbactl's commands: what it offers, in its spelling, by access class", "[protocol][dlbactl]") {
    const auto command = [](const std::string& line, std::optional<Access> access = std::nullopt) {
        const std::vector<std::string_view> words = io::split_words(line);
        const Parsed p = parse_command(words, access);
        if (const auto* e = std::get_if<ParseError>(&p)) FAIL("'" << line << "' refused: " << e->message);
        return format(std::get<Request>(p));
    };
    CHECK(command("hash --all") == "hash all");
    CHECK(command("hash all") == "hash all");
    CHECK(command("node 2 fail") == "node 2 fail");
    CHECK(command("status", Access::read_only) == "status");
    CHECK(command("node 3 drain", Access::admin) == "node 3 drain");
    CHECK(command("backend web1 disable", Access::admin) == "backend web1 disable");
    // The daemons' own words are not commands.
    for (const char* line : {"renew", "sweep-done 1", "sync-from 2", "node 2 stats 1 1 1.000", "reload",
                             "check-reload /x", "PULL 1 2", "COMMIT 00000000000000ff", "hash all 5"}) {
        INFO(line);
        CHECK_FALSE(std::holds_alternative<Request>(parse_command(io::split_words(line))));
    }
    CHECK(command_refused("frobnicate").message.starts_with("unknown command 'frobnicate'"));
    CHECK_THAT(command_refused("hash some").message, Catch::Matchers::Contains("usage: hash [--all]"));
    CHECK_THAT(command_refused("role").message, Catch::Matchers::Contains("usage: role active|standby"));
    CHECK_THAT(command_refused("role active lease 5").message,
               Catch::Matchers::Contains("role active takes no further arguments"));
    CHECK_THAT(command_refused("node 3 fail", Access::admin).message,
               Catch::Matchers::Contains("unknown node action 'fail'"));
    CHECK(command_refused("role active", Access::read_only).kind == ParseError::Kind::unknown_verb);
}
