#include "config_port.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <variant>

#include "push_protocol.hpp"
#include "io/table_format.hpp"
#include "io/tcp.hpp"
#include "io/words.hpp"

namespace dlba::dlbad {

namespace {

constexpr int kRequestDeadlineMs = 10000;  // from accept to the last byte of a PREPARE's body
constexpr int kAnswerDeadlineMs = 2000;
constexpr size_t kMaxRequestLine = 200;

// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part: temp, fsync, rename.
bool write_atomically(const std::string& path, const std::string& bytes, std::string* err) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        *err = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                    fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        *err = "cannot write " + path + ": " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

// Why the scheduler did not take a request, "" when it did.
std::string refusal(const LinkReply& r) {
    if (r.ok()) return "";
    return r.answered() ? r.error : "no answer";
}

}  // namespace

ConfigPort::ConfigPort(const Config& running, uint16_t node, std::string config_path, LocalLink& link,
                       OwnTables own_tables, OnCommitted on_committed)
    : running_(running), node_(node), self_(*running.node(node)), config_path_(std::move(config_path)),
      staged_path_(config_path_ + ".staged"), link_(link), own_tables_(std::move(own_tables)),
      on_committed_(std::move(on_committed)), service_(kAnswerDeadlineMs) {}

bool ConfigPort::open(std::string* err) { return service_.open(self_.eth0_ip, running_.failover.config_port, err); }

void ConfigPort::start() {
    service_.start([this](int fd) { return serve(fd); });
}

std::string ConfigPort::serve(int fd) {
    const auto deadline = io::deadline_in(kRequestDeadlineMs);
    std::string line;
    if (!io::read_line(fd, line, kMaxRequestLine, deadline)) return "ERR no request line\n";
    return answer(line, [fd, deadline](char* out, size_t n) { return io::read_exact(fd, out, n, deadline); });
}

std::string ConfigPort::answer(const std::string& line, const BodyReader& read_body) {
    char verb[16] = {0}, id[32] = {0};
    unsigned long long length = 0;
    const int fields = std::sscanf(line.c_str(), "%15s %31s %llu", verb, id, &length);
    const std::string v = fields >= 1 ? verb : "";
    if (v == "PREPARE" && fields == 3) return prepare(id, length, read_body);
    if (v == "COMMIT" && fields == 2) return commit(id);
    if (v == "SHOW") return show(line.size() > 5 ? line.substr(5) : "");
    if (v == "ADMIN") return admin(line.size() > 6 ? line.substr(6) : "");
    if (v == "ABORT" && fields == 2) {
        if (pending_id_ == id) {
            std::remove(staged_path_.c_str());
            pending_id_.clear();
        }
        return "OK aborted\n";
    }
    return "ERR bad request\n";
}

std::string ConfigPort::prepare(const std::string& id, size_t length, const BodyReader& read_body) {
    if (length > push::kMaxConfigBytes) return "ERR file too large\n";
    std::string bytes(length, '\0');
    if (!read_body(bytes.data(), length)) return "ERR short body\n";
    if (push::config_id(bytes) != id) return "ERR body does not match its id\n";
    // libconfig follows @include to any path, read here as root: a pushed file must be whole.
    if (bytes.find("@include") != std::string::npos) return "ERR @include is not allowed in a pushed file\n";
    std::string err;
    if (!write_atomically(staged_path_, bytes, &err)) return "ERR " + err + "\n";
    // The same checks as a reload: the file itself, then what the running scheduler can take.
    const ConfigResult parsed = load_config(staged_path_);
    if (const auto* e = std::get_if<ConfigError>(&parsed)) {
        std::remove(staged_path_.c_str());
        return "ERR " + e->str() + "\n";
    }
    const Config& next = std::get<Config>(parsed);
    const NodeConfig* me = next.node(node_);
    std::string why, note;
    if (!me) {
        why = "node " + std::to_string(node_) + " is not in the new file";
    } else if (me->eth0_ip != self_.eth0_ip) {
        why = "this node's eth0_ip cannot change by a push";
    } else if (const std::string s = refusal(link_.check_reload(staged_path_)); !s.empty()) {
        why = "scheduler: " + s;
    } else if (next.server && link_.has_server_socket()) {
        // The server checks what only it can: its TLS files, its new listeners' addresses. A server that is not
        // running refuses nothing (it reads the file when it starts); the answer says so.
        const LinkReply r = link_.server_check_reload(staged_path_);
        if (!r.answered()) {
            note = " (server not checked: " + r.error + ")";
        } else if (!r.ok()) {
            why = "server: " + r.error;
        }
    }
    if (!why.empty()) {
        std::remove(staged_path_.c_str());
        return "ERR " + why + "\n";
    }
    pending_id_ = id;
    return "OK prepared " + id + " on node " + std::to_string(node_) + note + "\n";
}

std::string ConfigPort::commit(const std::string& id) {
    if (pending_id_ != id) return "ERR nothing prepared under " + id + "\n";
    if (std::rename(staged_path_.c_str(), config_path_.c_str()) != 0) {
        return "ERR cannot replace " + config_path_ + ": " + std::strerror(errno) + "\n";
    }
    pending_id_.clear();
    std::string result = "OK node " + std::to_string(node_) + " committed " + id;
    if (const std::string s = refusal(link_.reload()); !s.empty()) result += "; scheduler reload: " + s;
    if (running_.server && link_.has_server_socket()) {
        const LinkReply r = link_.server_reload();
        if (!r.ok()) result += "; server reload: " + r.error;
    }
    on_committed_();  // the daemon itself restarts on the new file once this answer is out
    return result + "\n";
}

// Read-only tables for `dlbactl --node N`: this daemon's own, or the local scheduler's and server's.
std::string ConfigPort::show(const std::string& what) {
    if (what == "failover" || what == "sweep" || what == "summary") return own_tables_(what) + "\n";
    if (what == "status" || what == "hash" || what == "counters" || what == "sync" || what.rfind("hash all", 0) == 0) {
        const LinkReply r = link_.pass_to_scheduler(what);
        return (r.answered() ? r.answer : io::reply_error("scheduler: " + r.error)) + "\n";
    }
    if (what == "backends" && link_.has_server_socket()) {
        const LinkReply r = link_.pass_to_server(what);
        return (r.answered() ? r.answer : io::reply_error("server: " + r.error)) + "\n";
    }
    return io::reply_error("not a read-only table: " + what) + "\n";
}

// dlbactl --all-nodes: the operator's admin state, passed to the local scheduler or DLBA server. Only the admin
// commands: the sweep's verdicts (fail/live) and the role stay with the daemons.
std::string ConfigPort::admin(const std::string& what) {
    const auto w = io::split_words(what);
    LinkReply r;
    const bool node_admin = w.size() >= 3 && w[0] == "node" &&
                            (w[2] == "enable" || w[2] == "disable" || w[2] == "drain" || w[2] == "weight");
    if (node_admin) {
        r = link_.pass_to_scheduler(what);
        if (!r.answered()) return io::reply_error("scheduler: " + r.error) + "\n";
    } else if (w.size() == 3 && w[0] == "backend") {
        if (!running_.server || !link_.has_server_socket()) return io::reply_error("no DLBA server here") + "\n";
        r = link_.pass_to_server(what);
        if (!r.answered()) return io::reply_error("server: " + r.error) + "\n";
    } else {
        return io::reply_error("not an admin command: " + what) + "\n";
    }
    std::fprintf(stderr, "dlbad[node %u]: admin request '%s': %s\n", node_, what.c_str(),
                 r.ok() ? "applied" : r.error.c_str());
    return r.answer + "\n";
}

}  // namespace dlba::dlbad
