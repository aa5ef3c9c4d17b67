#include "config_port.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <variant>

#include "io/table_format.hpp"
#include "io/envelope_stream.hpp"
#include "io/tcp.hpp"
#include "protocol/builders.hpp"
#include "protocol/push.hpp"
#include "protocol/reply.hpp"
#include "protocol/verbs.hpp"
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

// A SHOW or ADMIN answer: the daemon's JSON document and a newline.
std::string document(std::string text) { return text + "\n"; }

// What a line the protocol refuses gets: SHOW and ADMIN answer in JSON like the daemons they pass to, the rest
// with an ERR line.
std::string refusal_of(const proto::ParseError& e) {
    if (e.verb == proto::Verb::show || e.verb == proto::Verb::admin) return document(io::reply_error(e.message));
    if (e.kind != proto::ParseError::Kind::bad_arguments) return proto::error_line("bad request");
    return proto::error_line(e.message);
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

// The transport: one sealed request (common/auth) from a node's address, "<line>\n<body>" inside; the answer sealed
// and bound to it. What fails authentication is closed unanswered and counted (auth.* in the failover table).
std::string ConfigPort::serve(int fd) {
    if (!auth_) return "";
    auth::PeerGuard& guard = auth_->config_requests;
    std::string sealed;
    const auto request = io::read_sealed_request(fd, guard, auth::Kind::config_request,
                                                 proto::push::kMaxConfigBytes + kMaxRequestLine + 1,
                                                 io::deadline_in(kRequestDeadlineMs), true, "a config-port request",
                                                 &sealed);
    if (!request) return "";
    const std::string_view payload = request->payload;
    const size_t nl = payload.find('\n');
    if (nl == std::string_view::npos || nl > kMaxRequestLine) {
        return auth_->signer.answer(auth::Kind::config_answer, proto::error_line("no request line"), request->header);
    }
    const std::string line(payload.substr(0, nl));
    std::string_view body = payload.substr(nl + 1);
    const std::string answer_text = answer(line, [&body](char* out, size_t n) {
        if (body.size() < n) return false;
        body.copy(out, n);
        body.remove_prefix(n);
        return true;
    });
    return auth_->signer.answer(auth::Kind::config_answer, answer_text, request->header);
}

std::string ConfigPort::answer(const std::string& line, const BodyReader& read_body) {
    const proto::Parsed parsed = proto::parse(line, proto::Daemon::dlbad_config);
    if (const auto* e = std::get_if<proto::ParseError>(&parsed)) return refusal_of(*e);
    const proto::Request& r = std::get<proto::Request>(parsed);
    switch (r.verb) {
        case proto::Verb::prepare: return prepare(r.config_id, r.length, read_body);
        case proto::Verb::commit: return commit(r.config_id);
        case proto::Verb::abort: return abort(r.config_id);
        case proto::Verb::show: return show(*r.inner);
        case proto::Verb::admin: return admin(*r.inner);
        default: return proto::error_line("bad request");  // parse() gives only the config port's verbs
    }
}

std::string ConfigPort::abort(const std::string& id) {
    if (pending_id_ == id) {
        std::remove(staged_path_.c_str());
        pending_id_.clear();
    }
    return proto::ok_line("aborted");
}

std::string ConfigPort::prepare(const std::string& id, size_t length, const BodyReader& read_body) {
    if (length > proto::push::kMaxConfigBytes) return proto::error_line("file too large");
    std::string bytes(length, '\0');
    if (!read_body(bytes.data(), length)) return proto::error_line("short body");
    if (proto::push::config_id(bytes) != id) return proto::error_line("body does not match its id");
    // libconfig follows @include to any path, read here as root: a pushed file must be whole.
    if (bytes.find("@include") != std::string::npos) return proto::error_line("@include is not allowed in a pushed file");
    std::string err;
    if (!write_atomically(staged_path_, bytes, &err)) return proto::error_line(err);
    // The same checks as a reload: the file itself, then what the running scheduler can take.
    const ConfigResult parsed = load_config(staged_path_);
    if (const auto* e = std::get_if<ConfigError>(&parsed)) {
        std::remove(staged_path_.c_str());
        return proto::error_line(e->str());
    }
    const Config& next = std::get<Config>(parsed);
    const NodeConfig* me = next.node(node_);
    std::string why, note;
    if (!me) {
        why = "node " + std::to_string(node_) + " is not in the new file";
    } else if (const std::string a = next.failover.auth_problem();
               !a.empty() && running_.failover.auth_problem().empty()) {
        why = a;  // a push never turns authentication off by leaving the keys out
    } else if (!next.failover.ring().shares_key_with(running_.failover.ring())) {
        // After the commit the nodes that took the file and those that did not yet could not verify each other,
        // nor could the next push reach them: rotate in steps (add the new key second, then move it first).
        why = "the new failover.peer_keys hold no key the running nodes hold: they would lock each other out "
              "(rotate in steps: add the new key beside the old one first)";
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
        return proto::error_line(why);
    }
    pending_id_ = id;
    return proto::ok_line("prepared " + id + " on node " + std::to_string(node_) + note);
}

std::string ConfigPort::commit(const std::string& id) {
    if (pending_id_ != id) return proto::error_line("nothing prepared under " + id);
    if (std::rename(staged_path_.c_str(), config_path_.c_str()) != 0) {
        return proto::error_line("cannot replace " + config_path_ + ": " + std::strerror(errno));
    }
    pending_id_.clear();
    std::string result = "node " + std::to_string(node_) + " committed " + id;
    if (const std::string s = refusal(link_.reload()); !s.empty()) result += "; scheduler reload: " + s;
    if (running_.server && link_.has_server_socket()) {
        const LinkReply r = link_.server_reload();
        if (!r.ok()) result += "; server reload: " + r.error;
    }
    on_committed_();  // the daemon itself restarts on the new file once this answer is out
    return proto::ok_line(result);
}

// Read-only tables for `dlbactl --node N`: this daemon's own, or the local scheduler's and server's (the verb table
// says whose each is).
std::string ConfigPort::show(const proto::Request& table) {
    const std::string what = proto::format(table);
    switch (proto::home_of(table)) {
        case proto::Daemon::dlbad_monitor: return document(own_tables_(what));
        case proto::Daemon::scheduler: {
            const LinkReply r = link_.pass_to_scheduler(what);
            return document(r.answered() ? r.answer : io::reply_error("scheduler: " + r.error));
        }
        case proto::Daemon::server:
            if (!link_.has_server_socket()) break;
            {
                const LinkReply r = link_.pass_to_server(what);
                return document(r.answered() ? r.answer : io::reply_error("server: " + r.error));
            }
        default: break;
    }
    return document(io::reply_error("not a read-only table: " + what));
}

// dlbactl --all-nodes: the operator's admin state, passed to the local scheduler or DLBA server. Only the admin
// commands (parse() refuses the rest): the sweep's verdicts (fail/live) and the role stay with the daemons.
std::string ConfigPort::admin(const proto::Request& command) {
    const std::string what = proto::format(command);
    proto::Daemon target = proto::home_of(command);
    if (target == proto::Daemon::dlbad_monitor) {
        if (keeper_) {
            const std::string answer = keeper_->apply(command);
            const io::Reply reply = proto::read_reply(answer);
            std::fprintf(stderr, "<5>dlbad[node %u]: admin request '%s': %s\n", node_, what.c_str(),
                         reply.ok ? "applied" : reply.text.c_str());
            return document(answer);
        }
        target = proto::applied_by(command.verb);
    }
    LinkReply r;
    switch (target) {
        case proto::Daemon::scheduler:
            r = link_.pass_to_scheduler(what);
            if (!r.answered()) return document(io::reply_error("scheduler: " + r.error));
            break;
        case proto::Daemon::server:
            if (!running_.server || !link_.has_server_socket()) return document(io::reply_error("no DLBA server here"));
            r = link_.pass_to_server(what);
            if (!r.answered()) return document(io::reply_error("server: " + r.error));
            break;
        default: return document(io::reply_error("not an admin command: " + what));
    }
    std::fprintf(stderr, "<5>dlbad[node %u]: admin request '%s': %s\n", node_, what.c_str(),
                 r.ok() ? "applied" : r.error.c_str());
    return document(r.answer);
}

}  // namespace dlba::dlbad
