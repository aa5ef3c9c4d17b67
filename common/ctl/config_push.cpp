#include "ctl/config_push.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "ctl/ctl_args.hpp"
#include "ctl/peer_client.hpp"
#include "io/fd.hpp"
#include "io/table_format.hpp"
#include "io/tcp.hpp"
#include "protocol/builders.hpp"
#include "protocol/push.hpp"
#include "protocol/reply.hpp"

namespace dlba::ctl {

namespace {

}  // namespace

int push_config(const std::string& path, int timeout_ms, std::ostream& out, std::ostream& err) {
    const ConfigResult loaded = load_config(path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        err << "dlbactl: configuration refused, nothing sent: " << e->str() << "\n";
        return kExitUsage;
    }
    const Config& config = std::get<Config>(loaded);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string id = proto::push::config_id(bytes);
    const uint16_t port = config.failover.config_port;
    PeerClient peers(config);  // signed with FILE's first key: the running nodes must hold it

    struct Outcome {
        uint16_t node;
        uint32_t ip;
        bool prepared = false;
        std::string text;
    };
    std::vector<Outcome> nodes;
    bool all_prepared = true, unreachable = false;
    for (const NodeConfig& n : config.nodes) {
        Outcome o{n.number, n.eth0_ip};
        std::string e;
        const auto reply = peers.exchange(n.eth0_ip, n.number, port,
                                          proto::format_line(proto::push_prepare(id, bytes.size())) + bytes,
                                    timeout_ms, &e);
        if (!reply) {
            o.text = "unreachable (" + format_ipv4(n.eth0_ip) + ":" + std::to_string(port) + "): " + e;
            unreachable = true;
        } else {
            o.prepared = proto::read_reply_line(*reply).ok;
            o.text = *reply;
        }
        all_prepared = all_prepared && o.prepared;
        nodes.push_back(o);
    }
    if (!all_prepared) {
        for (Outcome& o : nodes) {
            std::string e;
            if (o.prepared) {
                peers.exchange(o.ip, o.node, port, proto::format_line(proto::push_abort(id)), timeout_ms, &e);
            }
        }
        err << "dlbactl: configuration " << id << " refused; no node changed:\n";
        for (const Outcome& o : nodes) err << "  node " << o.node << ": " << o.text << "\n";
        return unreachable ? kExitUnreachable : kExitDaemonError;
    }
    bool all_committed = true;
    for (Outcome& o : nodes) {
        std::string e;
        const auto reply =
            peers.exchange(o.ip, o.node, port, proto::format_line(proto::push_commit(id)), timeout_ms, &e);
        const bool ok = reply && proto::read_reply_line(*reply).ok;
        all_committed = all_committed && ok;
        out << "node " << o.node << ": " << (reply ? *reply : "commit unanswered: " + e) << "\n";
    }
    if (!all_committed) {
        err << "dlbactl: configuration " << id << " was prepared everywhere but not committed everywhere\n";
        return kExitDaemonError;
    }
    out << "ok: configuration " << id << " committed on " << nodes.size() << " nodes\n";
    return kExitOk;
}

std::optional<std::string> remote_show(const std::string& config_path, int node, const proto::Request& table,
                                       int timeout_ms, std::string* err, int* exit_code) {
    const ConfigResult loaded = load_config(config_path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        *err = "--node needs the array configuration: " + e->str();
        *exit_code = kExitUsage;
        return std::nullopt;
    }
    const Config& config = std::get<Config>(loaded);
    const NodeConfig* n = config.node(static_cast<uint16_t>(node));
    if (!n) {
        *err = "no node " + std::to_string(node) + " in " + config_path;
        *exit_code = kExitUsage;
        return std::nullopt;
    }
    const std::string line = proto::format_line(proto::show(table));
    PeerClient peers(config);
    auto reply = peers.exchange(n->eth0_ip, n->number, config.failover.config_port, line, timeout_ms, err);
    if (!reply) {
        *err = "node " + std::to_string(node) + " (" + format_ipv4(n->eth0_ip) + "): " + *err;
        *exit_code = kExitUnreachable;
    }
    return reply;
}

int admin_all_nodes(const std::string& config_path, const proto::Request& command, int timeout_ms, std::ostream& out,
                    std::ostream& err) {
    const ConfigResult loaded = load_config(config_path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        err << "dlbactl: --all-nodes needs the array configuration: " << e->str() << "\n";
        return kExitUsage;
    }
    const Config& config = std::get<Config>(loaded);
    const std::string line = proto::format_line(proto::admin(command));
    PeerClient peers(config);
    bool all_ok = true, unreachable = false;
    for (const NodeConfig& n : config.nodes) {
        std::string e;
        const auto reply = peers.exchange(n.eth0_ip, n.number, config.failover.config_port, line, timeout_ms, &e);
        if (!reply) {
            out << "node " << n.number << ": unreachable (" << format_ipv4(n.eth0_ip) << "): " << e << "\n";
            all_ok = false;
            unreachable = true;
            continue;
        }
        const auto r = proto::parse_reply(*reply);
        if (!r) {
            out << "node " << n.number << ": " << *reply << "\n";
            all_ok = false;
            continue;
        }
        out << "node " << n.number << ": " << (r->ok ? "" : "refused: ") << r->text << "\n";
        all_ok = all_ok && r->ok;
    }
    if (!all_ok) err << "dlbactl: '" << proto::format(command) << "' was not applied on every node (see above)\n";
    return all_ok ? kExitOk : (unreachable ? kExitUnreachable : kExitDaemonError);
}

}  // namespace dlba::ctl
