// Fakes for dlbad's jobs: a clock that sleeps by advancing, a local link that records what it is asked and answers
// as scripted, a failover network that records what is sent, a small array configuration, a temporary directory.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "failover_net.hpp"
#include "local_link.hpp"
#include "time_source.hpp"

namespace dlba::dlbad::test {

class FakeTime final : public TimeSource {
public:
    uint64_t monotonic_ms() const override { return now_ms; }
    uint64_t unix_s() const override { return unix_base + now_ms / 1000; }
    void sleep_ms(uint32_t ms) const override {
        now_ms += ms;
        slept_ms += ms;
    }

    mutable uint64_t now_ms = 1000;
    mutable uint64_t slept_ms = 0;
    uint64_t unix_base = 1700000000;
};

inline LinkReply ok_reply() { return {LinkResult::ok, R"({"ok":true})", ""}; }
inline LinkReply refused_reply(const std::string& why) { return {LinkResult::refused, "", why}; }
inline LinkReply no_answer(const std::string& why = "no such socket") { return {LinkResult::no_answer, "", why}; }

// Records every request as a line of its own words ("set_role_active 500", "node_failed 2 true") and answers
// with the reply scripted for that method (ok unless told otherwise).
class FakeLink final : public LocalLink {
public:
    LinkReply set_role_active(uint32_t lease_ms) override {
        return note("set_role_active " + std::to_string(lease_ms), role);
    }
    LinkReply set_standby() override { return note("set_standby", standby); }
    LinkReply renew() override { return note("renew", renewal); }
    LinkReply sync_from(std::optional<uint16_t> node) override {
        return note("sync_from " + (node ? std::to_string(*node) : std::string("none")), sync);
    }
    LinkReply node_failed(uint16_t node, bool failed) override {
        return note("node_failed " + std::to_string(node) + (failed ? " true" : " false"), verdict);
    }
    LinkReply node_stats(uint16_t node, const std::optional<NodeFigures>& f) override {
        stats[node] = f;
        return note("node_stats " + std::to_string(node), ok_reply());
    }
    LinkReply node_load(uint16_t node, std::optional<uint32_t> load, bool steered) override {
        return note("node_load " + std::to_string(node) + " " + (load ? std::to_string(*load) : std::string("-")) +
                        (steered ? " steered" : " normal"),
                    ok_reply());
    }
    LinkReply server_status() override { return note("server_status", server_status_reply); }
    LinkReply sweep_done(uint64_t unix_s) override { return note("sweep_done " + std::to_string(unix_s), ok_reply()); }
    std::map<uint16_t, bool> status() override {
        note("status", ok_reply());
        return failed_flags;
    }
    LinkReply check_reload(const std::string& path) override { return note("check_reload " + path, scheduler_check); }
    LinkReply reload() override { return note("reload", ok_reply()); }
    CountersReading counters(int) override {
        if (counters_reading.counters && counters_reading.counters->polls) ++*counters_reading.counters->polls;
        return counters_reading;
    }
    bool has_server_socket() const override { return server_socket; }
    LinkReply server_check_reload(const std::string& path) override {
        return note("server_check_reload " + path, server_check);
    }
    LinkReply server_reload() override { return note("server_reload", ok_reply()); }
    LinkReply pass_to_scheduler(std::string_view line) override {
        return note("scheduler: " + std::string(line), passed);
    }
    LinkReply pass_to_server(std::string_view line) override { return note("server: " + std::string(line), passed); }

    size_t count(const std::string& call) const {
        size_t n = 0;
        for (const auto& c : calls) n += c == call;
        return n;
    }
    bool asked(const std::string& call) const { return count(call) > 0; }

    // Scripted answers.
    LinkReply role = ok_reply(), standby = ok_reply(), renewal = ok_reply(), sync = ok_reply(), verdict = ok_reply();
    LinkReply scheduler_check = ok_reply(), server_check = ok_reply(), passed = ok_reply();
    LinkReply server_status_reply = no_answer();
    std::map<uint16_t, bool> failed_flags;
    CountersReading counters_reading{LocalCounters{false, 7, 100}, false};  // a standby scheduler, polling
    bool server_socket = false;

    std::vector<std::string> calls;
    std::map<uint16_t, std::optional<NodeFigures>> stats;

private:
    LinkReply note(std::string call, const LinkReply& reply) {
        calls.push_back(std::move(call));
        return reply;
    }
};

// The failover network: records heartbeats and probe rounds; inbound heartbeats are handed in by the test
// (FailoverLoop::on_heartbeat), probe answers and ARP rounds are scripted.
class FakeNet final : public FailoverNet {
public:
    void wait(int, const HeartbeatHandler&) override {}
    void send_heartbeat(const hb::Message& m) override { sent.push_back(m); }
    void send_probes(const std::map<uint16_t, uint32_t>& targets) override { probe_targets = targets; }
    bool probed(uint16_t node) const override { return probe_targets.count(node) != 0; }
    bool probe_answered(uint16_t node) const override {
        const auto it = answers.find(node);
        return it != answers.end() && it->second;
    }
    void next_vip_arp_round() override {
        last_round = arp_answers;
        ++rounds;
    }
    const std::vector<MacAddr>& vip_arp_last_round() const override { return last_round; }
    uint64_t vip_arp_rounds() const override { return rounds; }
    std::map<uint16_t, uint64_t> unverified_peers() const override { return unverified; }

    std::map<uint16_t, uint64_t> unverified;  // node -> when its last heartbeat failed to verify (fake ms)
    std::vector<hb::Message> sent;
    std::map<uint16_t, uint32_t> probe_targets;
    std::map<uint16_t, bool> answers;   // node -> its data plane answers our probe
    std::vector<MacAddr> arp_answers;   // the MACs that answer ARP for the VIP in every round
    std::vector<MacAddr> last_round;
    uint64_t rounds = 0;
};

// Three nodes, node n at eth0 10.77.0.1n with scheduler MAC 02:77:00:00:02:0n; `extra` is appended (a server
// section, other failover values).
inline std::string array_text(const std::string& extra = "") {
    return R"(array = { name = "unit"; vip = "10.77.0.100"; tcp_ports = [80]; };
failover = { heartbeat_interval_ms = 50; dead_after_ms = 250; probe_misses = 4;
             sweep_timeout_ms = 300; sweep_retries = 2; sweep_delay_ms = 1000; };
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
    sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12";
    sched_mac = "02:77:00:00:02:02"; sched_ip = "10.77.0.22"; },
  { number = 3; eth0_mac = "02:77:00:00:01:03"; eth0_ip = "10.77.0.13";
    sched_mac = "02:77:00:00:02:03"; sched_ip = "10.77.0.23"; }
);
)" + extra;
}

inline Config array_config(const std::string& extra = "") {
    ConfigResult r = parse_config(array_text(extra), "unit.conf");
    if (const auto* e = std::get_if<ConfigError>(&r)) throw std::runtime_error("test config refused: " + e->str());
    return std::get<Config>(r);
}

inline uint32_t eth0_of(uint16_t node) { return 0x0a4d000a + node; }  // 10.77.0.1n

// A private directory for one test's files, removed even when the test fails.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dlbad-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

}  // namespace dlba::dlbad::test
