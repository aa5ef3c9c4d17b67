// dlbad's keeper of the admin state, with a fake link and the file in a temporary directory: a request is checked,
// passed on, kept and saved; a refused one is not kept; a restarted server or scheduler gets the whole state again;
// a corrupt file is refused whole; a pushed configuration that dropped a back end drops its setting.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "admin_keeper.hpp"
#include "dlbad_fakes.hpp"
#include "io/table_format.hpp"
#include "protocol/builders.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

namespace {

const std::string kServer = R"(server = { listeners = ( { port = 80; service = "web"; } ); };
backends = ( { key = "web1"; address = "10.0.0.1"; }, { key = "web2"; address = "10.0.0.2"; } );
services = ( { name = "web"; backends = ["web1", "web2"]; } );
)";

// A daemon's status table with its instance (and the server's generation).
LinkReply status_reply(uint64_t instance, uint64_t generation = 1) {
    io::Table t;
    t.name = "status";
    t.source = "server";
    t.meta = {{"instance", instance}, {"config_generation", generation}};
    return {LinkResult::ok, t.to_json().dump(), ""};
}

struct Keeper {
    TempDir dir;
    std::string path = dir.file("state/admin.state");  // a directory that does not exist yet
    Config config = array_config(kServer);
    FakeLink link;
    AdminKeeper keeper{config, 1, path, link};

    Keeper() { link.server_socket = true; }
    bool ok(const std::string& answer) const { return answer.find("\"ok\":true") != std::string::npos; }
};

}  // namespace

TEST_CASE("admin keeper: a request is passed on, kept and saved; a refused one is not", "[admin-keeper]") {
    Keeper k;
    CHECK(k.ok(k.keeper.apply(proto::backend_out_of_service("web1", proto::BackendMode::maintenance))));
    CHECK(k.link.asked("server: backend web1 out-of-service maintenance"));
    CHECK(k.ok(k.keeper.apply(proto::node_weight(2, 4))));
    CHECK(k.link.asked("scheduler: node 2 weight 4"));
    CHECK(read_file(k.path) ==
          "dlba-admin-state 1\nbackend web1 out-of-service maintenance\nnode 2 weight 4\nend 2\n");
    CHECK_FALSE(std::filesystem::exists(k.path + ".tmp"));

    k.link.passed = refused_reply("no such thing");
    CHECK_FALSE(k.ok(k.keeper.apply(proto::backend_weight("web2", 9))));
    CHECK(k.keeper.state().backends.count("web2") == 0);

    // Not in the configuration: refused before anything is sent.
    const size_t calls = k.link.calls.size();
    CHECK(k.keeper.apply(proto::backend_in_service("web9")).find("no back end with key 'web9'") != std::string::npos);
    CHECK(k.keeper.apply(proto::node_admin(7, NodeAdmin::draining)).find("no node 7") != std::string::npos);
    CHECK(k.link.calls.size() == calls);
}

TEST_CASE("admin keeper: drained, disabled and weight-0 nodes are out of service for load steering",
          "[admin-keeper]") {
    Keeper k;
    CHECK_FALSE(k.keeper.node_out_of_service(2));  // nothing set: the configuration decides
    CHECK(k.ok(k.keeper.apply(proto::node_weight(2, 4))));
    CHECK_FALSE(k.keeper.node_out_of_service(2));
    CHECK(k.ok(k.keeper.apply(proto::node_admin(2, NodeAdmin::draining))));
    CHECK(k.keeper.node_out_of_service(2));
    CHECK(k.ok(k.keeper.apply(proto::node_admin(2, NodeAdmin::enabled))));
    CHECK_FALSE(k.keeper.node_out_of_service(2));
    CHECK(k.ok(k.keeper.apply(proto::node_admin(3, NodeAdmin::disabled))));
    CHECK(k.keeper.node_out_of_service(3));
    CHECK(k.ok(k.keeper.apply(proto::node_weight(2, 0))));
    CHECK(k.keeper.node_out_of_service(2));
    CHECK_FALSE(k.keeper.node_out_of_service(1));
}

TEST_CASE("admin keeper: a server that is not running gets the setting when it starts", "[admin-keeper]") {
    Keeper k;
    k.link.passed = no_answer("no such socket");
    const std::string answer = k.keeper.apply(proto::backend_admin("web2", proto::BackendAction::drain));
    CHECK(k.ok(answer));
    CHECK(answer.find("gets it when it starts") != std::string::npos);
    CHECK(k.keeper.state().backends.at("web2").mode == proto::BackendMode::sticky);
    k.link.calls.clear();
    k.keeper.watch_once();  // still nobody there: nothing replayed
    CHECK_FALSE(k.link.asked("server: backend web2 out-of-service sticky"));
    k.link.passed = status_reply(42);
    k.keeper.watch_once();
    CHECK(k.link.count("server: backend web2 out-of-service sticky") == 1);
}

TEST_CASE("admin keeper: a new server or scheduler instance, or a new generation, gets the whole state again",
          "[admin-keeper]") {
    Keeper k;
    k.keeper.apply(proto::backend_out_of_service("web1", proto::BackendMode::failed));
    k.keeper.apply(proto::backend_weight("web2", 7));
    k.keeper.apply(proto::node_admin(3, NodeAdmin::draining));
    k.link.passed = status_reply(1);
    k.link.calls.clear();
    k.keeper.watch_once();  // dlbad's first look: replay to both
    CHECK(k.link.count("server: backend web1 out-of-service failed") == 1);
    CHECK(k.link.count("server: backend web2 weight 7") == 1);
    CHECK(k.link.count("scheduler: node 3 drain") == 1);
    k.keeper.watch_once();  // the same processes: nothing again
    CHECK(k.link.count("server: backend web1 out-of-service failed") == 1);
    CHECK(k.link.count("scheduler: node 3 drain") == 1);
    // A reload: the server's weights came from the file again. (The fake's scheduler answers the same table, so
    // it counts as new too.)
    k.link.passed = status_reply(1, 2);
    k.keeper.watch_once();
    CHECK(k.link.count("server: backend web2 weight 7") == 2);
    k.link.passed = status_reply(2);  // restarted
    k.keeper.watch_once();
    CHECK(k.link.count("server: backend web2 weight 7") == 3);
    CHECK(k.link.count("scheduler: node 3 drain") == 3);
}

TEST_CASE("admin keeper: the file outlives the keeper; a corrupt one is refused whole and set aside",
          "[admin-keeper]") {
    Keeper k;
    k.keeper.apply(proto::backend_out_of_service("web1", proto::BackendMode::oos));
    k.keeper.apply(proto::backend_weight("web1", 3));
    {
        AdminKeeper again(k.config, 1, k.path, k.link);
        CHECK(again.load().find("2 settings to replay") != std::string::npos);
        CHECK(again.state() == k.keeper.state());
    }
    std::string text = read_file(k.path);
    text.replace(text.find("weight 3"), 8, "weight x");
    write_file(k.path, text);
    AdminKeeper corrupt(k.config, 1, k.path, k.link);
    const std::string log = corrupt.load();
    CHECK(log.find("refused (line 3: not an admin setting: 'backend web1 weight x')") != std::string::npos);
    CHECK(corrupt.state().size() == 0);  // nothing of it: not even line 2
    CHECK(std::filesystem::exists(k.path + ".refused"));
    CHECK_FALSE(std::filesystem::exists(k.path));
}

TEST_CASE("admin keeper: settings of back ends and nodes the configuration dropped go", "[admin-keeper]") {
    Keeper k;
    std::filesystem::create_directories(std::filesystem::path(k.path).parent_path());
    write_file(k.path, "dlba-admin-state 1\nbackend gone out-of-service oos\nbackend web2 weight 2\n"
                       "node 9 drain\nend 3\n");
    CHECK(k.keeper.load().find("dropped those of back end gone, node 9 (no longer configured)") != std::string::npos);
    CHECK(read_file(k.path) == "dlba-admin-state 1\nbackend web2 weight 2\nend 1\n");
}

TEST_CASE("admin keeper: %n in the path is the node number", "[admin-keeper]") {
    CHECK(admin_state_path("/var/lib/dlba/admin-n%n.state", 3) == "/var/lib/dlba/admin-n3.state");
    CHECK(admin_state_path("/var/lib/dlba/admin.state", 3) == "/var/lib/dlba/admin.state");
}
