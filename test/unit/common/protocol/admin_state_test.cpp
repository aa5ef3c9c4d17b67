// dlbad's admin state file: what it writes reads back as the same state, and every way a file can be wrong is
// refused whole with the line that is wrong.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "protocol/admin_state.hpp"
#include "protocol/builders.hpp"

using namespace dlba;
using namespace dlba::proto;

namespace {

AdminState sample() {
    AdminState s;
    s.record(backend_out_of_service("web1", BackendMode::maintenance));
    s.record(backend_weight("web1", 5));
    s.record(backend_admin("web3", BackendAction::drain));  // the older spelling of out-of-service sticky
    s.record(backend_in_service("web2"));
    s.record(node_admin(2, NodeAdmin::draining));
    s.record(node_weight(3, 0));
    return s;
}

std::string refusal(const std::string& text) {
    const AdminStateParsed p = parse_admin_state(text);
    const auto* e = std::get_if<AdminStateError>(&p);
    return e ? e->str() : "accepted";
}

}  // namespace

TEST_CASE("admin state: recorded settings format as protocol lines and read back the same", "[admin-state]") {
    const AdminState s = sample();
    CHECK(s.size() == 6);
    CHECK(s.backends.at("web3").mode == BackendMode::sticky);
    const std::string text = format_admin_state(s);
    CHECK(text ==
          "dlba-admin-state 1\n"
          "backend web1 out-of-service maintenance\n"
          "backend web1 weight 5\n"
          "backend web2 in-service\n"
          "backend web3 out-of-service sticky\n"
          "node 2 drain\n"
          "node 3 weight 0\n"
          "end 6\n");
    const AdminStateParsed p = parse_admin_state(text);
    REQUIRE(std::holds_alternative<AdminState>(p));
    CHECK(std::get<AdminState>(p) == s);
    CHECK(format_admin_state(AdminState{}) == "dlba-admin-state 1\nend 0\n");
    CHECK(std::holds_alternative<AdminState>(parse_admin_state("dlba-admin-state 1\nend 0\n")));
}

TEST_CASE("admin state: a later setting of the same thing replaces the earlier one", "[admin-state]") {
    AdminState s;
    s.record(backend_out_of_service("a", BackendMode::failed));
    s.record(backend_admin("a", BackendAction::enable));
    CHECK(s.backends.at("a").mode == BackendMode::in_service);
    CHECK_FALSE(s.backends.at("a").weight.has_value());
    CHECK_FALSE(s.record(status()));
    CHECK_FALSE(s.record(node_failed(2, true)));  // the sweep's verdict is not the operator's
    CHECK(s.size() == 1);
}

TEST_CASE("admin state: the older spellings are read too", "[admin-state]") {
    const AdminStateParsed p =
        parse_admin_state("dlba-admin-state 1\nbackend a disable\nbackend b drain\nbackend c enable\nend 3\n");
    REQUIRE(std::holds_alternative<AdminState>(p));
    const AdminState& s = std::get<AdminState>(p);
    CHECK(s.backends.at("a").mode == BackendMode::oos);
    CHECK(s.backends.at("b").mode == BackendMode::sticky);
    CHECK(s.backends.at("c").mode == BackendMode::in_service);
}

TEST_CASE("admin state: a corrupt file is refused whole, naming the line", "[admin-state]") {
    CHECK(refusal("") == "does not end with a newline (cut short?)");
    CHECK(refusal("dlba-admin-state 1\nbackend a weight 3") == "does not end with a newline (cut short?)");
    CHECK(refusal("dlba-admin-state 2\nend 0\n").starts_with("line 1: not an admin state file"));
    CHECK(refusal("\x7f" "ELF\n") .starts_with("line 1: not an admin state file"));
    CHECK(refusal("dlba-admin-state 1\nbackend a weight 3\n") == "line 2: no end line (cut short?)");
    CHECK(refusal("dlba-admin-state 1\nbackend a weight 3\nend 2\n") ==
          "line 3: the end line counts 2 settings, the file has 1");
    CHECK(refusal("dlba-admin-state 1\nend 01\n") == "line 2: bad end line 'end 01'");
    CHECK(refusal("dlba-admin-state 1\nend 0\nnode 2 drain\n") == "line 3: text after the end line");
    CHECK(refusal("dlba-admin-state 1\nrole active\nend 1\n") == "line 2: not an admin setting: 'role active'");
    CHECK(refusal("dlba-admin-state 1\nnode 2 fail\nend 1\n") == "line 2: not an admin setting: 'node 2 fail'");
    CHECK(refusal("dlba-admin-state 1\nbackend a weight -1\nend 1\n") ==
          "line 2: not an admin setting: 'backend a weight -1'");
    CHECK(refusal("dlba-admin-state 1\nbackend a  weight 3\nend 1\n") ==
          "line 2: not in canonical spelling: 'backend a  weight 3'");
    CHECK(refusal("dlba-admin-state 1\nnode 2 weight 03\nend 1\n") ==
          "line 2: not in canonical spelling: 'node 2 weight 03'");
    CHECK(refusal("dlba-admin-state 1\nbackend a out-of-service oos\nbackend a enable\nend 2\n") ==
          "line 3: sets what line 2 set");
    CHECK(refusal("dlba-admin-state 1\n\nend 0\n") == "line 2: not an admin setting: ''");
    // A weight and a mode of one back end are two settings, not a repeat.
    CHECK(refusal("dlba-admin-state 1\nbackend a out-of-service oos\nbackend a weight 0\nend 2\n") == "accepted");
}
