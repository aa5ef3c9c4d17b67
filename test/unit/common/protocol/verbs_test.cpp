// The protocol table itself: every entry well formed, every verb's example round-trips, and the access classes and
// daemons that dlbactl, dlbad's config port and the daemons' handlers rely on.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <variant>

#include "protocol/builders.hpp"
#include "protocol/verbs.hpp"

using namespace dlba;
using namespace dlba::proto;

namespace {

std::string reformat(const std::string& line, Daemon daemon) {
    const Parsed p = parse(line, daemon);
    if (const auto* e = std::get_if<ParseError>(&p)) FAIL("'" << line << "' refused: " << e->message);
    return format(std::get<Request>(p));
}

}  // namespace

TEST_CASE("every verb's example round-trips: format(parse(line)) == line, on every daemon that serves it", "[protocol]") {
    REQUIRE(verbs().size() == kVerbs);
    for (const VerbSpec& v : verbs()) {
        INFO(v.pattern);
        for (size_t d = 0; d < kDaemons; ++d) {
            if (!serves(v.served_by, static_cast<Daemon>(d))) continue;
            const Parsed p = parse(v.example, static_cast<Daemon>(d));
            REQUIRE(std::holds_alternative<Request>(p));
            CHECK(std::get<Request>(p).verb == v.verb);
            CHECK(format(std::get<Request>(p)) == v.example);
        }
    }
}

TEST_CASE("every entry starts with a fixed word, is served where its home is, and is the only one of its shape", "[protocol]") {
    std::set<std::string> patterns;
    for (const VerbSpec& v : verbs()) {
        INFO(v.pattern);
        CHECK(&spec(v.verb) == &v);
        REQUIRE(!tokens(v.verb).empty());
        CHECK(tokens(v.verb).front().arg == Arg::literal);
        CHECK(serves(v.served_by, v.home));
        CHECK(patterns.insert(std::string(v.pattern)).second);
        // Arguments that swallow the rest of the line come last.
        for (size_t i = 0; i + 1 < tokens(v.verb).size(); ++i) {
            CHECK(tokens(v.verb)[i].arg != Arg::read_only_request);
            CHECK(tokens(v.verb)[i].arg != Arg::admin_request);
        }
    }
}

TEST_CASE("a verb is refused by a daemon that does not serve it", "[protocol]") {
    for (const VerbSpec& v : verbs()) {
        for (size_t d = 0; d < kDaemons; ++d) {
            if (serves(v.served_by, static_cast<Daemon>(d))) continue;
            INFO(v.example << " on " << daemon_name(static_cast<Daemon>(d)));
            const Parsed p = parse(v.example, static_cast<Daemon>(d));
            REQUIRE(std::holds_alternative<ParseError>(p));
            // dlbad's socket takes "node N drain" (kept, passed on) but not the sweep's "node N fail": a refused
            // line of a family it serves is bad arguments there.
            bool family_served = false;
            for (const VerbSpec& w : verbs()) {
                family_served = family_served || (serves(w.served_by, static_cast<Daemon>(d)) &&
                                                  tokens(w.verb).front().word == tokens(v.verb).front().word);
            }
            CHECK(std::get<ParseError>(p).kind ==
                  (family_served ? ParseError::Kind::bad_arguments : ParseError::Kind::unknown_verb));
        }
    }
}

TEST_CASE("access classes: tables are read-only, the operator's state is admin, the daemons' own words internal", "[protocol]") {
    for (Verb v : {Verb::status, Verb::hash, Verb::hash_all, Verb::hash_page, Verb::counters, Verb::sync,
                   Verb::backends, Verb::failover, Verb::sweep, Verb::summary, Verb::latency, Verb::routes}) {
        CHECK(spec(v).access == Access::read_only);
    }
    for (Verb v : {Verb::node_admin, Verb::node_weight, Verb::backend_admin, Verb::backend_in_service,
                   Verb::backend_out_of_service, Verb::backend_weight}) {
        CHECK(spec(v).access == Access::admin);
        CHECK(is_admin_state(v));
    }
    CHECK_FALSE(is_admin_state(Verb::node_failed));
    // The sweep's verdicts and figures, the role and its lease, the table sync and reloads stay with the daemons.
    for (Verb v : {Verb::role, Verb::role_active_lease, Verb::renew, Verb::node_failed, Verb::node_stats,
                   Verb::sync_from, Verb::sync_stop, Verb::sweep_done, Verb::reload, Verb::check_reload, Verb::pull}) {
        CHECK(spec(v).access == Access::internal);
    }
    CHECK(access_of(node_admin(2, NodeAdmin::draining)) == Access::admin);
    CHECK(access_of(node_failed(2, true)) == Access::internal);
}

TEST_CASE("each verb's home daemon, and dlbactl's default socket for it", "[protocol]") {
    CHECK(home_of(status()) == Daemon::scheduler);
    CHECK(home_of(backends()) == Daemon::server);
    // The operator's admin state: dlbad keeps it and passes it on to the daemon that applies it.
    CHECK(home_of(backend_admin("a", BackendAction::drain)) == Daemon::dlbad_monitor);
    CHECK(applied_by(Verb::backend_admin) == Daemon::server);
    CHECK(applied_by(Verb::backend_out_of_service) == Daemon::server);
    CHECK(applied_by(Verb::backend_weight) == Daemon::server);
    CHECK(home_of(node_admin(2, NodeAdmin::draining)) == Daemon::dlbad_monitor);
    CHECK(applied_by(Verb::node_admin) == Daemon::scheduler);
    CHECK(applied_by(Verb::node_weight) == Daemon::scheduler);
    CHECK(home_of(failover()) == Daemon::dlbad_monitor);
    CHECK(home_of(summary()) == Daemon::dlbad_monitor);
    CHECK(std::string(default_socket(Daemon::scheduler)) == "/run/dlba/scheduler.sock");
    CHECK(std::string(default_socket(Daemon::server)) == "/run/dlba/server.sock");
    CHECK(std::string(default_socket(Daemon::dlbad_monitor)) == "/run/dlba/dlbad.sock");
    CHECK(default_socket(Daemon::dlbad_config) == nullptr);
    // "status" is answered by all three Unix sockets, each with its own table.
    for (Daemon d : {Daemon::scheduler, Daemon::server, Daemon::dlbad_monitor}) {
        CHECK(reformat("status", d) == "status");
    }
}

TEST_CASE("the daemons' usage texts come from the table", "[protocol]") {
    const std::string scheduler = usage(Daemon::scheduler);
    CHECK_THAT(scheduler, Catch::Matchers::StartsWith("status | hash [all [FROM_BUCKET]] | counters | sync"));
    CHECK_THAT(scheduler, Catch::Matchers::Contains("node N enable|disable|drain"));
    CHECK_THAT(scheduler, Catch::Matchers::Contains("node N weight W"));
    CHECK_THAT(scheduler, Catch::Matchers::Contains("role active lease MS"));
    CHECK_THAT(scheduler, Catch::Matchers::Contains("sync-from N | sync-from none"));
    CHECK(usage(Daemon::server) ==
          "status | backends | latency | routes | backend KEY enable|disable|drain | backend KEY in-service | "
          "backend KEY out-of-service oos|maintenance|sticky|failed | backend KEY weight W | reload | check-reload PATH");
    CHECK(usage(Daemon::dlbad_monitor) ==
          "status | failover | sweep | summary | node N enable|disable|drain | node N weight W | "
          "backend KEY enable|disable|drain | backend KEY in-service | backend KEY out-of-service "
          "oos|maintenance|sticky|failed | backend KEY weight W");
    CHECK(command_usage(Access::read_only) ==
          "status | hash [--all] | counters | sync | backends | failover | sweep | summary | latency | routes");
    CHECK(command_usage(Access::admin) ==
          "node N enable|disable|drain | node N weight W | backend KEY enable|disable|drain | backend KEY in-service | "
          "backend KEY out-of-service oos|maintenance|sticky|failed | backend KEY weight W");
}
