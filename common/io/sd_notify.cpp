#include "io/sd_notify.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "clock.hpp"

namespace dlba::io {

std::optional<NotifyAddress> parse_notify_socket(std::string_view value) {
    if (value.size() < 2 || (value[0] != '/' && value[0] != '@')) return std::nullopt;
    NotifyAddress a;
    if (value.size() > sizeof a.addr.sun_path) return std::nullopt;  // an abstract name needs no terminating NUL
    if (value[0] == '/' && value.size() == sizeof a.addr.sun_path) return std::nullopt;
    a.addr.sun_family = AF_UNIX;
    std::memcpy(a.addr.sun_path, value.data(), value.size());
    if (value[0] == '@') a.addr.sun_path[0] = '\0';  // abstract: the name is every byte after the NUL, no more
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + value.size() + (value[0] == '/' ? 1 : 0));
    return a;
}

uint64_t watchdog_ping_period_us(const char* watchdog_usec, const char* watchdog_pid, pid_t self) {
    if (!watchdog_usec || !*watchdog_usec) return 0;
    if (watchdog_pid && *watchdog_pid) {
        char* end = nullptr;
        errno = 0;
        const long long pid = std::strtoll(watchdog_pid, &end, 10);
        if (errno != 0 || *end != '\0' || pid != static_cast<long long>(self)) return 0;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long long usec = std::strtoull(watchdog_usec, &end, 10);
    if (errno != 0 || *end != '\0' || usec == 0 || watchdog_usec[0] == '-') return 0;
    return usec / 2;
}

std::string notify_message(std::string_view assignments, std::string_view status) {
    std::string text(assignments);
    if (!status.empty()) {
        if (!text.empty()) text += '\n';
        text += "STATUS=";
        for (char c : status) text += (c == '\n' || c == '\r') ? ' ' : c;
    }
    return text;
}

ServiceNotifier::ServiceNotifier() {
    const char* socket_env = std::getenv("NOTIFY_SOCKET");
    if (!socket_env) return;
    const std::optional<NotifyAddress> a = parse_notify_socket(socket_env);
    if (!a) return;
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return;
    fd_ = std::move(fd);
    address_ = *a;
    watchdog_period_us_ = watchdog_ping_period_us(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), getpid());
    last_ping_us_ = clock::monotonic_us();
}

void ServiceNotifier::send_locked(const std::string& text) {
    if (!fd_) return;
    // Best effort, never blocking: a manager that does not read must not stall a daemon.
    ::sendto(fd_.get(), text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&address_.addr), address_.len);
}

void ServiceNotifier::ready(std::string_view status) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_status_ = status;
    send_locked(notify_message("READY=1", status));
}

void ServiceNotifier::status(std::string_view status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status == last_status_) return;
    last_status_ = status;
    send_locked(notify_message("", status));
}

void ServiceNotifier::reloading(std::string_view status) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_status_ = status;
    send_locked(notify_message("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(clock::monotonic_us()), status));
}

void ServiceNotifier::stopping(std::string_view status) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_status_ = status;
    send_locked(notify_message("STOPPING=1", status));
}

void ServiceNotifier::watchdog_tick() {
    if (watchdog_period_us_ == 0) return;
    const uint64_t now = clock::monotonic_us();
    std::lock_guard<std::mutex> lock(mutex_);
    if (!watchdog_due(watchdog_period_us_, last_ping_us_, now)) return;
    last_ping_us_ = now;
    send_locked("WATCHDOG=1");
}

int ServiceNotifier::watchdog_wait_ms(int cap_ms) {
    if (watchdog_period_us_ == 0) return cap_ms;
    const uint64_t now = clock::monotonic_us();
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t due = last_ping_us_ + watchdog_period_us_;
    if (due <= now) return 0;
    return static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(cap_ms), (due - now + 999) / 1000));
}

}  // namespace dlba::io
