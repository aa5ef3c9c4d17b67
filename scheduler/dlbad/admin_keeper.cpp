#include "admin_keeper.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/table_format.hpp"
#include "protocol/reply.hpp"
#include "protocol/verbs.hpp"

namespace dlba::dlbad {

namespace {

constexpr auto kWatchPeriod = std::chrono::milliseconds(250);

bool is_node_verb(proto::Verb v) { return v == proto::Verb::node_admin || v == proto::Verb::node_weight; }

// "instance" (and "config_generation" when there is one) of a daemon's status table; "" when unreadable.
std::string instance_of(const LinkReply& r) {
    if (!r.ok()) return "";
    const auto doc = nlohmann::json::parse(r.answer, nullptr, false);
    std::string err;
    const auto t = doc.is_discarded() ? std::nullopt : io::Table::from_json(doc, &err);
    if (!t || !t->meta.contains("instance")) return "";
    std::string id = t->meta["instance"].dump();
    if (t->meta.contains("config_generation")) id += "/" + t->meta["config_generation"].dump();
    return id;
}

bool write_all(int fd, const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

std::string admin_state_path(const std::string& configured, uint16_t node) {
    std::string out;
    for (size_t i = 0; i < configured.size(); ++i) {
        if (configured[i] == '%' && i + 1 < configured.size() && configured[i + 1] == 'n') {
            out += std::to_string(node);
            ++i;
        } else {
            out += configured[i];
        }
    }
    return out;
}

bool write_file_durably(const std::string& path, const std::string& bytes, std::string* err) {
    const std::filesystem::path p(path);
    const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
        *err = "cannot write " + path + ": " + std::strerror(written ? errno : saved);
        std::remove(tmp.c_str());
        return false;
    }
    // The rename itself lasts once the directory is on disk.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
        *err = "cannot sync the directory of " + path + ": " + std::strerror(errno);
        if (dfd >= 0) ::close(dfd);
        return false;
    }
    ::close(dfd);
    return true;
}

AdminKeeper::AdminKeeper(const Config& config, uint16_t node, std::string path, LocalLink& link)
    : config_(config), node_(node), path_(std::move(path)), link_(link) {}

AdminKeeper::~AdminKeeper() {
    request_stop();
    join();
}

void AdminKeeper::log(const std::string& text) const {
    std::fprintf(stderr, "<5>dlbad[node %u]: admin state: %s\n", node_, text.c_str());
}

std::string AdminKeeper::load() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        const std::string text = errno == ENOENT ? path_ + " does not exist yet: nothing to replay"
                                                 : "cannot read " + path_ + ": " + std::strerror(errno);
        log(text);
        return text;
    }
    std::string bytes;
    bytes.reserve(4096);
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        bytes.append(buf, static_cast<size_t>(in.gcount()));
        if (bytes.size() > proto::kMaxAdminStateBytes) break;
    }
    // Into a temporary: only a whole valid file replaces the (empty) state.
    proto::AdminStateParsed parsed = proto::parse_admin_state(bytes);
    if (const auto* e = std::get_if<proto::AdminStateError>(&parsed)) {
        const std::string aside = path_ + ".refused";
        const bool kept = std::rename(path_.c_str(), aside.c_str()) == 0;
        const std::string text = path_ + " refused (" + e->str() + "); the configuration's values stand" +
                                 (kept ? "; the file is kept as " + aside : "");
        log(text);
        return text;
    }
    proto::AdminState s = std::move(std::get<proto::AdminState>(parsed));
    // What the configuration no longer has (a pushed file removed it) goes.
    std::vector<std::string> dropped;
    for (auto it = s.backends.begin(); it != s.backends.end();) {
        bool known = false;
        for (const BackendConfig& b : config_.backends) known = known || b.key == it->first;
        if (known) {
            ++it;
        } else {
            dropped.push_back("back end " + it->first);
            it = s.backends.erase(it);
        }
    }
    for (auto it = s.nodes.begin(); it != s.nodes.end();) {
        if (config_.node(it->first)) {
            ++it;
        } else {
            dropped.push_back("node " + std::to_string(it->first));
            it = s.nodes.erase(it);
        }
    }
    std::string text = path_ + ": " + std::to_string(s.size()) + " settings to replay";
    if (!dropped.empty()) {
        std::string err;
        text += "; dropped those of ";
        for (size_t i = 0; i < dropped.size(); ++i) text += (i ? ", " : "") + dropped[i];
        text += " (no longer configured)";
        if (!save(s, &err)) text += "; " + err;
    }
    {
        std::lock_guard lock(mutex_);
        state_ = std::move(s);
    }
    log(text);
    return text;
}

bool AdminKeeper::save(const proto::AdminState& s, std::string* err) {
    return write_file_durably(path_, proto::format_admin_state(s), err);
}

std::string AdminKeeper::check(const proto::Request& r) const {
    if (is_node_verb(r.verb)) {
        if (!config_.node(r.node)) return "no node " + std::to_string(r.node) + " in the configuration";
        return "";
    }
    for (const BackendConfig& b : config_.backends) {
        if (b.key == r.key) return "";
    }
    return "no back end with key '" + r.key + "'";
}

std::string AdminKeeper::apply(const proto::Request& r) {
    if (!proto::is_admin_state(r.verb)) return io::reply_error("not an admin-state request");
    if (const std::string why = check(r); !why.empty()) return io::reply_error(why);
    const std::string line = proto::format(r);
    const bool to_server = proto::applied_by(r.verb) == proto::Daemon::server;
    std::lock_guard lock(mutex_);
    LinkReply reply;
    if (to_server) {
        if (!config_.server || !link_.has_server_socket()) return io::reply_error("no DLBA server here");
        reply = link_.pass_to_server(line);
    } else {
        reply = link_.pass_to_scheduler(line);
    }
    if (reply.answered() && !reply.ok()) return io::reply_error(reply.error);  // the daemon refused: nothing kept
    proto::AdminState next = state_;
    next.record(r);
    std::string err;
    const bool saved = save(next, &err);
    state_ = std::move(next);  // replayed from memory even when the file could not be written
    const char* who = to_server ? "server" : "scheduler";
    if (!saved) {
        log("'" + line + "' not saved: " + err);
        return io::reply_error(std::string(reply.ok() ? "applied" : "not applied") + " but not kept: " + err);
    }
    log("'" + line + "' kept" + (reply.ok() ? "" : std::string(" (the ") + who + " is not running)"));
    if (!reply.ok()) {
        return io::reply_ok("kept in " + path_ + "; the " + who + " did not answer (" + reply.error +
                            "): it gets it when it starts");
    }
    return io::reply_ok(proto::read_reply(reply.answer).text + " (kept in " + path_ + ")");
}

void AdminKeeper::watch_once() {
    std::lock_guard lock(mutex_);
    const std::vector<proto::Request> all = state_.requests();
    const auto replay = [&](bool server, std::string& seen) {
        const LinkReply st = server ? link_.pass_to_server("status") : link_.pass_to_scheduler("status");
        const std::string id = instance_of(st);
        if (id.empty() || id == seen) {
            if (id.empty()) seen.clear();
            return;
        }
        size_t sent = 0, refused = 0, lost = 0;
        for (const proto::Request& r : all) {
            if ((proto::applied_by(r.verb) == proto::Daemon::server) != server) continue;
            const std::string line = proto::format(r);
            const LinkReply a = server ? link_.pass_to_server(line) : link_.pass_to_scheduler(line);
            ++sent;
            if (!a.answered()) ++lost;
            if (a.answered() && !a.ok()) {
                ++refused;
                log("replaying '" + line + "': " + a.error);
            }
        }
        if (lost) return;  // it went away again: replay to it when it is back
        seen = id;
        if (sent) {
            log("replayed " + std::to_string(sent - refused) + " of " + std::to_string(sent) + " settings to the " +
                (server ? "server" : "scheduler") + " (instance " + id + ")");
        }
    };
    if (config_.server && link_.has_server_socket()) replay(true, server_seen_);
    replay(false, scheduler_seen_);
}

proto::AdminState AdminKeeper::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

bool AdminKeeper::node_out_of_service(uint16_t node) const {
    std::lock_guard lock(mutex_);
    const auto it = state_.nodes.find(node);
    if (it == state_.nodes.end()) return false;
    const proto::NodeAdminState& n = it->second;
    return (n.admin && *n.admin != NodeAdmin::enabled) || (n.weight && *n.weight == 0);
}

void AdminKeeper::start() {
    thread_ = std::thread([this] {
        while (!stop_.load()) {
            watch_once();
            std::unique_lock lock(wake_mutex_);
            wake_.wait_for(lock, kWatchPeriod, [this] { return stop_.load(); });
        }
    });
}

void AdminKeeper::request_stop() {
    {
        std::lock_guard lock(wake_mutex_);
        stop_.store(true);
    }
    wake_.notify_all();
}

void AdminKeeper::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace dlba::dlbad
