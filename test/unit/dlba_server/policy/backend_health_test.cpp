// The active check's and the load agent's say in BackendState: rise/fall, the table texts, and how both combine
// with the operator's admin state and connect failures in usable_for_new / usable_for_sticky.
#include <catch2/catch.hpp>

#include <string>

#include "policy/backend_state.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

BackendConfig config(const char* key = "a") {
    BackendConfig c;
    c.key = key;
    return c;
}

}  // namespace

TEST_CASE("fall consecutive failures fail a back end by check, rise successes bring it back", "[backend_state][health]") {
    BackendState s(config());
    CHECK(s.check_text() == "-");
    CHECK(s.check_verdict() == CheckVerdict::none);
    CHECK_FALSE(s.record_check(true, CheckFailure::none, 200, 2, 3));  // first result: up, no change reported
    CHECK(s.check_text() == "up");
    CHECK_FALSE(s.record_check(false, CheckFailure::status, 500, 2, 3));
    CHECK_FALSE(s.record_check(false, CheckFailure::timeout, 0, 2, 3));
    CHECK(s.check_text() == "up,last=timeout");
    CHECK(s.usable_for_new(0));
    CHECK(s.record_check(false, CheckFailure::status, 500, 2, 3));  // the third in a row
    CHECK(s.check_verdict() == CheckVerdict::failed);
    CHECK(s.check_text() == "failed:http_500");
    CHECK(s.status(0) == BackendStatus::check_failed);
    CHECK(std::string(backend_status_name(s.status(0))) == "check_failed");
    CHECK_FALSE(s.usable_for_new(0));
    CHECK_FALSE(s.usable_for_sticky(0));  // failed by check takes nothing, sessions included
    CHECK_FALSE(s.record_check(true, CheckFailure::none, 200, 2, 3));
    CHECK_FALSE(s.record_check(false, CheckFailure::refused, 0, 2, 3));  // a failure restarts the rise count
    CHECK(s.check_text() == "failed:refused");
    CHECK_FALSE(s.record_check(true, CheckFailure::none, 200, 2, 3));
    CHECK(s.record_check(true, CheckFailure::none, 200, 2, 3));
    CHECK(s.check_text() == "up");
    CHECK(s.usable_for_new(0));
    s.clear_check();
    CHECK(s.check_text() == "-");
}

TEST_CASE("failed by check is told apart from down after a connect failure and from the operator's disable",
          "[backend_state][health]") {
    BackendState s(config());
    s.record_check(false, CheckFailure::tls, 0, 1, 1);
    CHECK(s.status(0) == BackendStatus::check_failed);
    s.mark_down(0, 1000);
    CHECK(s.status(10) == BackendStatus::down);  // both: the table says down, the check column says failed
    CHECK(s.check_text() == "failed:tls");
    s.mark_up();
    s.set_admin(BackendAdmin::disabled);
    CHECK(s.status(10) == BackendStatus::disabled);
    s.set_admin(BackendAdmin::enabled);
    s.record_check(true, CheckFailure::none, 200, 1, 1);
    CHECK(s.status(10) == BackendStatus::up);
}

TEST_CASE("the agent's percentage scales the weight the policies see", "[backend_state][health]") {
    BackendState s(config());
    s.set_weight(3);
    CHECK(s.effective_weight() == 300);
    s.set_agent_on(true);
    s.apply_agent({25, std::nullopt, std::nullopt});
    CHECK(s.effective_weight() == 75);
    CHECK(s.agent_text() == "up,ready,25%");
    s.apply_agent({0, std::nullopt, std::nullopt});
    CHECK_FALSE(s.usable_for_new(0));  // 0 %: no new sessions
    CHECK(s.usable_for_sticky(0));
    s.set_agent_on(false);  // an agent removed by a reload: its say is withdrawn
    CHECK(s.effective_weight() == 300);
    CHECK(s.agent_text() == "-");
}

TEST_CASE("agent drain keeps bound requests, maint and down take nothing, ready and up undo them",
          "[backend_state][health]") {
    BackendState s(config());
    s.set_agent_on(true);
    s.apply_agent({std::nullopt, std::nullopt, http::AgentAdmin::drain});
    CHECK(s.status(0) == BackendStatus::agent_drain);
    CHECK_FALSE(s.usable_for_new(0));
    CHECK(s.usable_for_sticky(0));
    s.apply_agent({50, std::nullopt, std::nullopt});  // a percentage alone keeps the drain (as HAProxy)
    CHECK(s.status(0) == BackendStatus::agent_drain);
    CHECK(s.agent_text() == "up,drain,50%");
    s.apply_agent({std::nullopt, std::nullopt, http::AgentAdmin::maint});
    CHECK(s.status(0) == BackendStatus::agent_maint);
    CHECK_FALSE(s.usable_for_sticky(0));
    s.apply_agent({std::nullopt, http::AgentHealth::down, http::AgentAdmin::ready});
    CHECK(s.status(0) == BackendStatus::agent_down);
    CHECK_FALSE(s.usable_for_sticky(0));
    s.apply_agent({std::nullopt, http::AgentHealth::up, std::nullopt});
    CHECK(s.status(0) == BackendStatus::up);
    CHECK(s.usable_for_new(0));
    s.count_agent_error();
    CHECK(s.agent_errors() == 1);
}

TEST_CASE("the operator's drain and the agent's both show, the operator's first", "[backend_state][health]") {
    BackendState s(config());
    s.set_agent_on(true);
    s.set_admin(BackendAdmin::drain);
    s.apply_agent({std::nullopt, std::nullopt, http::AgentAdmin::drain});
    CHECK(s.status(0) == BackendStatus::drain);
    s.set_admin(BackendAdmin::enabled);
    CHECK(s.status(0) == BackendStatus::agent_drain);
}

TEST_CASE("out of service (its backup takes over): every operator state but sticky, a failed check, agent down or maint",
          "[backend_state][health]") {
    BackendState s(config());
    CHECK_FALSE(s.out_of_service(0));
    for (BackendAdmin a : {BackendAdmin::disabled, BackendAdmin::maintenance, BackendAdmin::failed}) {
        s.set_admin(a);
        CHECK(s.out_of_service(0));
        CHECK(s.status(0) == BackendStatus::disabled);
    }
    s.set_admin(BackendAdmin::drain);  // sticky: still serves what names it
    CHECK_FALSE(s.out_of_service(0));
    s.set_admin(BackendAdmin::enabled);
    s.record_check(false, CheckFailure::refused, 0, 1, 1);
    CHECK(s.out_of_service(0));
    s.record_check(true, CheckFailure::none, 200, 1, 1);
    CHECK_FALSE(s.out_of_service(0));
    s.set_agent_on(true);
    s.apply_agent({std::nullopt, std::nullopt, http::AgentAdmin::drain});
    CHECK_FALSE(s.out_of_service(0));
    s.apply_agent({std::nullopt, std::nullopt, http::AgentAdmin::maint});
    CHECK(s.out_of_service(0));
    s.apply_agent({std::nullopt, http::AgentHealth::down, http::AgentAdmin::ready});
    CHECK(s.out_of_service(0));
    s.apply_agent({std::nullopt, http::AgentHealth::up, std::nullopt});
    s.mark_down(0, 100);
    CHECK(s.out_of_service(50));
    CHECK_FALSE(s.out_of_service(150));
}
