// Configurations for the dlba-server unit tests: the array and node sections every file needs, followed by the
// server sections a test gives.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "config/config.hpp"

namespace dlba::server::test {

inline Config load_sections(const std::string& server_sections) {
    const std::string text = R"(array = { vip = "127.0.0.1"; tcp_ports = [80]; };
nodes = ( { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
            sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; } );
)" + server_sections;
    ConfigResult r = parse_config(text, "t.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    return std::get<Config>(r);
}

}  // namespace dlba::server::test
