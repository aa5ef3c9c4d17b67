#include "health/probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <tuple>

#include "http/agent_line.hpp"
#include "net_types.hpp"

namespace dlba::server {

namespace {

http::ResponseLimits check_limits() {
    http::ResponseLimits l;
    l.max_head_bytes = 16384;  // a health answer's head; more is a bad answer
    l.max_header_count = 64;
    return l;
}

}  // namespace

Probe::Probe(Kind kind, std::shared_ptr<BackendState> state, const BackendConfig& config,
             std::shared_ptr<const BackendTlsContext> tls)
    : kind_(kind),
      state_(std::move(state)),
      tls_(kind == Kind::check ? std::move(tls) : nullptr),
      address_(config.address),
      port_(kind == Kind::check ? config.port : config.agent.port),
      interval_ms_(kind == Kind::check ? config.check.interval_ms : config.agent.interval_ms),
      timeout_ms_(kind == Kind::check ? config.check.timeout_ms : config.agent.timeout_ms),
      scanner_(check_limits()) {
    if (kind_ != Kind::check) return;
    rise_ = config.check.rise;
    fall_ = config.check.fall;
    expect_status_ = config.check.expect_status;
    if (tls_) sni_ = std::string(tls_->sni_for(""));
    // Host: the TLS name when there is one (a virtual host behind it answers for that name), else address:port.
    std::string host = sni_;
    if (host.empty()) {
        host = format_ipv4(address_);
        host += ':';
        host += std::to_string(port_);
    }
    request_ = "GET " + config.check.path + " HTTP/1.1\r\nHost: " + host +
               "\r\nUser-Agent: dlba-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

Probe::~Probe() = default;

void Probe::want(int epoll_fd, uint32_t events) {
    if (events == interest_) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = this;
    epoll_ctl(epoll_fd, interest_ == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd_.get(), &ev);
    interest_ = events;
}

void Probe::close_socket(int epoll_fd) {
    if (fd_.valid() && interest_ != 0) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd_.get(), nullptr);
    interest_ = 0;
    ssl_.reset();  // no close_notify: the check is over either way, and the back end sees a plain close
    fd_.reset();
    step_ = Step::idle;
}

void Probe::abort(int epoll_fd) { close_socket(epoll_fd); }

void Probe::start(int epoll_fd, int64_t now_ms) {
    close_socket(epoll_fd);
    deadline_ms_ = now_ms + timeout_ms_;
    written_ = 0;
    have_ = 0;
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
        finish(epoll_fd, false, CheckFailure::io);
        return;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    sa.sin_addr.s_addr = htonl(address_);
    step_ = Step::connecting;
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
        finish(epoll_fd, false, errno == ECONNREFUSED ? CheckFailure::refused : CheckFailure::io);
        return;
    }
    want(epoll_fd, EPOLLOUT);
}

void Probe::on_ready(int epoll_fd, uint32_t) { advance(epoll_fd); }

void Probe::on_timeout(int epoll_fd) {
    if (!running()) return;
    finish(epoll_fd, false, CheckFailure::timeout);
}

long Probe::read_some(int epoll_fd) {
    char* at = kind_ == Kind::agent ? buf_ + have_ : buf_;
    const size_t room = kind_ == Kind::agent ? sizeof buf_ - have_ : sizeof buf_;
    if (room == 0) return -2;
    if (ssl_) {
        const int n = SSL_read(ssl_.get(), at, static_cast<int>(room));
        if (n > 0) return n;
        const int e = SSL_get_error(ssl_.get(), n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ) return want(epoll_fd, EPOLLIN), -1;
        if (e == SSL_ERROR_WANT_WRITE) return want(epoll_fd, EPOLLOUT), -1;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) return 0;
        return -2;
    }
    const ssize_t n = ::recv(fd_.get(), at, room, 0);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return want(epoll_fd, EPOLLIN), -1;
    return -2;
}

void Probe::advance(int epoll_fd) {
    while (running()) {
        switch (step_) {
            case Step::idle: return;
            case Step::connecting: {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                if (err == EINPROGRESS) return want(epoll_fd, EPOLLOUT);
                if (err != 0) {
                    return finish(epoll_fd, false, err == ECONNREFUSED || err == ECONNRESET ? CheckFailure::refused
                                                                                             : CheckFailure::io);
                }
                if (kind_ == Kind::agent) {
                    step_ = Step::reading;
                } else if (tls_) {
                    ssl_ = tls_->connect(fd_.get(), sni_, nullptr);
                    if (!ssl_) return finish(epoll_fd, false, CheckFailure::tls);
                    step_ = Step::handshake;
                } else {
                    step_ = Step::writing;
                }
                break;
            }
            case Step::handshake: {
                const int r = SSL_do_handshake(ssl_.get());
                if (r == 1) {
                    step_ = Step::writing;
                    break;
                }
                const int e = SSL_get_error(ssl_.get(), r);
                if (e == SSL_ERROR_WANT_READ) return want(epoll_fd, EPOLLIN);
                if (e == SSL_ERROR_WANT_WRITE) return want(epoll_fd, EPOLLOUT);
                ERR_clear_error();
                return finish(epoll_fd, false, CheckFailure::tls);
            }
            case Step::writing: {
                const char* p = request_.data() + written_;
                const size_t left = request_.size() - written_;
                long n = 0;
                if (ssl_) {
                    const int r = SSL_write(ssl_.get(), p, static_cast<int>(left));
                    if (r <= 0) {
                        const int e = SSL_get_error(ssl_.get(), r);
                        ERR_clear_error();
                        if (e == SSL_ERROR_WANT_READ) return want(epoll_fd, EPOLLIN);
                        if (e == SSL_ERROR_WANT_WRITE) return want(epoll_fd, EPOLLOUT);
                        return finish(epoll_fd, false, CheckFailure::closed);
                    }
                    n = r;
                } else {
                    n = ::send(fd_.get(), p, left, MSG_NOSIGNAL);
                    if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return want(epoll_fd, EPOLLOUT);
                        return finish(epoll_fd, false, errno == ECONNRESET || errno == EPIPE ? CheckFailure::closed
                                                                                            : CheckFailure::io);
                    }
                }
                written_ += static_cast<size_t>(n);
                if (written_ == request_.size()) {
                    scanner_.start(false);
                    step_ = Step::reading;
                }
                break;
            }
            case Step::reading: {
                const long n = read_some(epoll_fd);
                if (n == -1) return;
                if (kind_ == Kind::agent) {
                    if (n == -2 && have_ < sizeof buf_) return finish_agent(epoll_fd, true);  // reset: what came
                    if (n > 0) have_ += static_cast<size_t>(n);
                    const auto r = http::parse_agent_line(std::string_view(buf_, have_), n == 0);
                    if (r.error == http::AgentLineError::incomplete && n > 0) break;
                    return finish_agent(epoll_fd, n == 0);
                }
                if (n == -2) return finish(epoll_fd, false, CheckFailure::io);
                if (n == 0) return finish(epoll_fd, false, CheckFailure::closed);
                const http::ScanResult s = scanner_.scan(buf_, static_cast<size_t>(n));
                if (s.status == http::ScanStatus::error) return finish(epoll_fd, false, CheckFailure::bad_answer);
                if (s.status == http::ScanStatus::need_more) break;
                const http::ResponseHead& h = scanner_.head();
                if (h.informational()) {  // 100/102/103: the real answer follows
                    scanner_.start(false);
                    const http::ScanResult again = scanner_.scan(buf_ + s.consumed, static_cast<size_t>(n) - s.consumed);
                    if (again.status == http::ScanStatus::error) {
                        return finish(epoll_fd, false, CheckFailure::bad_answer);
                    }
                    if (again.status == http::ScanStatus::need_more) break;
                }
                const uint16_t st = scanner_.head().status;
                const bool ok = expect_status_ ? st == expect_status_ : st >= 200 && st < 400;
                return finish(epoll_fd, ok, ok ? CheckFailure::none : CheckFailure::status, st);
            }
        }
    }
}

void Probe::finish(int epoll_fd, bool ok, CheckFailure why, uint16_t status) {
    close_socket(epoll_fd);
    if (kind_ == Kind::agent) {
        // The agent never got to a line (refused, timed out, reset): counted, and its last word stays.
        state_->count_agent_error();
        last_outcome_ = check_failure_name(why);
        return;
    }
    last_outcome_ = ok ? "ok" : check_failure_name(why);
    if (state_->record_check(ok, why, status, rise_, fall_)) {
        std::fprintf(stderr, "<5>dlba-server: back end %s: check %s (%s)\n", state_->config().key.c_str(),
                     state_->check_passes() ? "up again" : "failed", state_->check_text().c_str());
    }
}

void Probe::finish_agent(int epoll_fd, bool closed) {
    const auto r = http::parse_agent_line(std::string_view(buf_, have_), closed);
    close_socket(epoll_fd);
    if (!r.ok()) {
        state_->count_agent_error();
        last_outcome_ = http::agent_line_error_name(r.error);
        return;
    }
    const BackendState& st = *state_;
    const auto said = [&] { return std::tuple(st.agent_percent(), st.agent_health(), st.agent_admin()); };
    const auto before = said();
    state_->apply_agent(r.report);
    last_outcome_ = "ok";
    if (said() != before) {  // a change is rare: only then a log line (and its string)
        std::fprintf(stderr, "<5>dlba-server: back end %s: agent says %s\n", st.config().key.c_str(),
                     st.agent_text().c_str());
    }
}

}  // namespace dlba::server
