#include "io/unix_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

#include "io/table_format.hpp"

namespace dlba::io {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kListenBacklog = 64;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxResponseBytes = size_t(256) << 20;  // a runaway daemon must not eat the operator's memory

bool fail(std::string* err, std::string message) {
    if (err) *err = std::move(message);
    return false;
}

std::string errno_text(int e) { return std::strerror(e); }

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, std::numeric_limits<int>::max()));
}

// poll() that keeps waiting through signals until `deadline`; 0 means the deadline passed.
int poll_until(pollfd* fds, nfds_t n, Clock::time_point deadline) {
    for (;;) {
        int rc = ::poll(fds, n, ms_left(deadline));
        if (rc >= 0 || errno != EINTR) return rc;
    }
}

bool make_address(const std::string& path, sockaddr_un* addr, std::string* err) {
    *addr = {};
    addr->sun_family = AF_UNIX;
    if (path.empty()) return fail(err, "empty socket path");
    if (path.size() >= sizeof addr->sun_path)
        return fail(err, "socket path too long (max " + std::to_string(sizeof addr->sun_path - 1) +
                             " bytes): " + path);
    std::memcpy(addr->sun_path, path.data(), path.size());
    return true;
}

// Creates every missing directory above the socket, like mkdir -p with mode 0755.
bool make_parent_dirs(const std::string& path, std::string* err) {
    for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
        const std::string dir = path.substr(0, pos);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            return fail(err, "cannot create directory " + dir + ": " + errno_text(errno));
    }
    return true;
}

// A socket file left by a process that died is removed; one with a live listener, or any other kind of file,
// is left alone and start() refuses, so two daemons never fight over one path.
bool clear_stale_socket(const std::string& path, const sockaddr_un& addr, std::string* err) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return true;
        return fail(err, "cannot stat " + path + ": " + errno_text(errno));
    }
    if (!S_ISSOCK(st.st_mode)) return fail(err, path + " exists and is not a socket; refusing to replace it");

    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!probe) return fail(err, "socket: " + errno_text(errno));
    int rc;
    do rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    while (rc != 0 && errno == EINTR);
    // EAGAIN: the listener's backlog is full, so it is alive.
    if (rc == 0 || errno == EAGAIN) return fail(err, "another process is listening on " + path);
    if (errno != ECONNREFUSED) return fail(err, "cannot probe " + path + ": " + errno_text(errno));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail(err, "cannot remove stale socket " + path + ": " + errno_text(errno));
    return true;
}

// One accepted client, read then answered without ever blocking poll_once() on it.
struct Session {
    Fd fd;
    Clock::time_point deadline;
    std::string data;  // the request while reading, the response while writing
    size_t written = 0;
    bool writing = false;
};

// Best effort: one non-blocking send of a short refusal, then the caller closes. A client too slow to take a
// few hundred bytes does not get more of our time.
void refuse(Session& s, std::string_view message) {
    const std::string text = reply_error(message) + "\n";
    (void)!::send(s.fd.get(), text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    s.fd.reset();
}

std::string call_handler(const ControlServer::Handler& handler, std::string_view line) {
    // A bug behind one monitoring command must not take the daemon down with it.
    try {
        std::string response = handler(line);
        if (response.empty() || response.back() != '\n') response += '\n';
        return response;
    } catch (const std::exception& e) {
        return reply_error(std::string("internal error: ") + e.what()) + "\n";
    }
}

}  // namespace

ControlServer::ControlServer(std::string path, ControlServerLimits limits)
    : path_(std::move(path)), limits_(limits) {}

ControlServer::~ControlServer() {
    if (!listen_fd_) return;
    struct stat st {};
    // Only our own socket file: a successor may already have replaced it with its own.
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == bound_dev_ && st.st_ino == bound_ino_)
        ::unlink(path_.c_str());
}

bool ControlServer::start(std::string* err) {
    if (listen_fd_) return fail(err, "control server on " + path_ + " already started");
    sockaddr_un addr;
    if (!make_address(path_, &addr, err) || !make_parent_dirs(path_, err) || !clear_stale_socket(path_, addr, err))
        return false;

    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return fail(err, "socket: " + errno_text(errno));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        // EADDRINUSE here means another daemon won the race since clear_stale_socket().
        return fail(err, "cannot bind " + path_ + ": " + errno_text(errno));
    }
    // Nobody can connect between bind and listen, so the mode is right before the first client arrives.
    struct stat st {};
    if (::chmod(path_.c_str(), 0660) != 0 || ::lstat(path_.c_str(), &st) != 0) {
        const int e = errno;
        ::unlink(path_.c_str());
        return fail(err, "cannot set mode of " + path_ + ": " + errno_text(e));
    }
    if (::listen(fd.get(), kListenBacklog) != 0) {
        const int e = errno;
        ::unlink(path_.c_str());
        return fail(err, "cannot listen on " + path_ + ": " + errno_text(e));
    }
    bound_dev_ = st.st_dev;
    bound_ino_ = st.st_ino;
    listen_fd_ = std::move(fd);
    return true;
}

void ControlServer::poll_once(int timeout_ms, const Handler& handler) {
    if (!listen_fd_) return;
    // A signal ends this wait early (no retry) so the caller's loop can look at its stop flag.
    pollfd lp{listen_fd_.get(), POLLIN, 0};
    if (::poll(&lp, 1, timeout_ms) <= 0) return;

    // Take the clients already waiting; later ones stay in the backlog for the next call, which bounds this one.
    std::vector<Session> sessions;
    while (sessions.size() < limits_.max_clients_per_poll) {
        int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            break;  // EAGAIN: nobody else waiting; EMFILE and friends: serve who we have, retry next call
        }
        sessions.push_back({Fd(fd), Clock::now() + limits_.read_deadline, {}, 0, false});
    }

    std::vector<pollfd> fds;
    while (true) {
        std::erase_if(sessions, [](const Session& s) { return !s.fd; });
        if (sessions.empty()) return;

        fds.clear();
        Clock::time_point next = sessions.front().deadline;
        for (const auto& s : sessions) {
            fds.push_back({s.fd.get(), static_cast<short>(s.writing ? POLLOUT : POLLIN), 0});
            next = std::min(next, s.deadline);
        }
        if (poll_until(fds.data(), fds.size(), next) < 0) {
            for (auto& s : sessions) refuse(s, std::string("server poll failed: ") + errno_text(errno));
            return;
        }

        const auto now = Clock::now();
        for (size_t i = 0; i < sessions.size(); ++i) {
            Session& s = sessions[i];
            if (s.writing) {
                if (fds[i].revents != 0) {
                    ssize_t n = ::send(s.fd.get(), s.data.data() + s.written, s.data.size() - s.written,
                                       MSG_NOSIGNAL | MSG_DONTWAIT);
                    if (n > 0) s.written += size_t(n);
                    if ((n < 0 && errno != EAGAIN && errno != EINTR) || s.written == s.data.size()) {
                        s.fd.reset();  // done, or the client went away
                        continue;
                    }
                }
                if (now >= s.deadline) s.fd.reset();  // a client that stopped reading
                continue;
            }

            if (fds[i].revents != 0) {
                char buf[kReadChunk];
                ssize_t n = ::recv(s.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    s.fd.reset();
                    continue;
                }
                if (n == 0 && s.data.empty()) {
                    s.fd.reset();  // connected and left, e.g. another server's liveness probe in start()
                    continue;
                }
                const size_t scanned = s.data.size();
                if (n > 0) s.data.append(buf, size_t(n));
                size_t eol = s.data.find('\n', scanned);
                // A client that shuts down its side without a newline has still sent a complete request.
                if (eol == std::string::npos && n == 0) eol = s.data.size();
                if (eol != std::string::npos && eol <= limits_.max_request_bytes) {
                    std::string_view line(s.data.data(), eol);
                    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // nc -C, telnet
                    s.data = call_handler(handler, line);
                    s.writing = true;
                    s.deadline = Clock::now() + limits_.write_deadline;
                    continue;
                }
                if (s.data.size() > limits_.max_request_bytes) {
                    refuse(s, "request longer than " + std::to_string(limits_.max_request_bytes) + " bytes");
                    continue;
                }
            }
            if (now >= s.deadline)
                refuse(s, "no complete request line within " + std::to_string(limits_.read_deadline.count()) +
                              " ms");
        }
    }
}

namespace {

std::string connect_error(const std::string& path, int e) {
    switch (e) {
    case ENOENT: return "no such socket: " + path + " (is the daemon running?)";
    case ECONNREFUSED: return "connection refused: " + path + " (stale socket; is the daemon running?)";
    case EACCES:
    case EPERM: return "permission denied: " + path + " (run as root or as a member of the socket's group)";
    case ENOTDIR: return "no such socket: " + path + " (a parent is not a directory)";
    default: return "cannot connect to " + path + ": " + errno_text(e);
    }
}

}  // namespace

std::optional<std::string> request(const std::string& path, std::string_view line, int timeout_ms,
                                   std::string* err, int* connect_errno) {
    if (connect_errno) *connect_errno = 0;
    auto bad = [&](std::string message) -> std::optional<std::string> {
        fail(err, std::move(message));
        return std::nullopt;
    };
    if (line.find('\n') != std::string_view::npos) return bad("a request is a single line");
    sockaddr_un addr;
    std::string e;
    if (!make_address(path, &addr, &e)) return bad(e);
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
    const std::string timed_out = "timed out after " + std::to_string(timeout_ms) + " ms talking to " + path;

    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return bad("socket: " + errno_text(errno));
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == EINTR) continue;
        // A Unix socket never connects in the background; EAGAIN means the backlog is full, so try again soon.
        if (errno != EAGAIN) {
            if (connect_errno) *connect_errno = errno;
            return bad(connect_error(path, errno));
        }
        if (Clock::now() >= deadline) return bad(timed_out + " (its backlog is full)");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    const std::string out = std::string(line) + "\n";
    size_t sent = 0;
    while (sent < out.size()) {
        pollfd p{fd.get(), POLLOUT, 0};
        if (poll_until(&p, 1, deadline) == 0) return bad(timed_out);
        ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += size_t(n);
        } else if (errno == EPIPE || errno == ECONNRESET) {
            break;  // the server gave up on us (e.g. request too long) but may have said why: read it
        } else if (errno != EAGAIN && errno != EINTR) {
            return bad("cannot send to " + path + ": " + errno_text(errno));
        }
    }

    std::string response;
    for (;;) {
        pollfd p{fd.get(), POLLIN, 0};
        if (poll_until(&p, 1, deadline) == 0) return bad(timed_out);
        char buf[kReadChunk];
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) break;
        if (n > 0) {
            response.append(buf, size_t(n));
            if (response.size() > kMaxResponseBytes) return bad("answer from " + path + " is too large");
            continue;
        }
        // A server that closes with our unread bytes still queued makes Linux report ECONNRESET after its data.
        if (errno == ECONNRESET && !response.empty()) break;
        if (errno != EAGAIN && errno != EINTR) return bad("cannot read from " + path + ": " + errno_text(errno));
    }
    if (response.empty()) return bad(path + " closed the connection without answering");
    return response;
}

}  // namespace dlba::io
