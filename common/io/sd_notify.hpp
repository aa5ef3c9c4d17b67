// The systemd service notification protocol (sd_notify(3)): newline-separated VAR=value assignments in one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for an abstract name), and the
// watchdog's period from $WATCHDOG_USEC / $WATCHDOG_PID.
//
// Written here in a few lines rather than linked from libsystemd: the protocol is one sendto(), the daemons need
// nothing else of libsystemd, and the binaries stay free of a dependency that a container or a non-systemd host
// would have to carry. Without $NOTIFY_SOCKET every call is a no-op, so the daemons run the same by hand.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "io/fd.hpp"

namespace dlba::io {

// Where $NOTIFY_SOCKET points: nullopt for an empty, relative, too long or unsupported (vsock) value.
struct NotifyAddress {
    sockaddr_un addr{};
    socklen_t len = 0;
};
std::optional<NotifyAddress> parse_notify_socket(std::string_view value);

// Half of $WATCHDOG_USEC (systemd's advice: ping at half the timeout), or 0 when the watchdog is off, the value
// is not a positive number, or $WATCHDOG_PID names another process.
uint64_t watchdog_ping_period_us(const char* watchdog_usec, const char* watchdog_pid, pid_t self);

// One datagram's text: `assignments` (e.g. "READY=1") followed by STATUS=<status> when status is not empty. A
// newline in the status would start another assignment: it becomes a space.
std::string notify_message(std::string_view assignments, std::string_view status);

// Whether the watchdog ping is due at `now_us`, given the last one (pure: the caller's clock).
inline bool watchdog_due(uint64_t period_us, uint64_t last_ping_us, uint64_t now_us) {
    return period_us != 0 && now_us - last_ping_us >= period_us;
}

// The daemon's side of the protocol: made once from the environment at start, used from any thread (one mutex,
// taken only to send: never on a data path).
class ServiceNotifier {
public:
    ServiceNotifier();  // reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;

    bool enabled() const { return static_cast<bool>(fd_); }
    uint64_t watchdog_period_us() const { return watchdog_period_us_; }

    void ready(std::string_view status);      // READY=1: serving (again, after a reload)
    void status(std::string_view status);     // STATUS=, only when it differs from the last one sent
    void reloading(std::string_view status);  // RELOADING=1 with MONOTONIC_USEC (systemd >= 253 checks it)
    void stopping(std::string_view status);   // STOPPING=1
    // From the main loop, as often as it turns: WATCHDOG=1 once per period (nothing when the watchdog is off).
    void watchdog_tick();
    // How long a loop that feeds the watchdog may sleep: until the next ping is due, at most cap_ms.
    int watchdog_wait_ms(int cap_ms);

private:
    void send_locked(const std::string& text);

    Fd fd_;
    NotifyAddress address_;
    uint64_t watchdog_period_us_ = 0;
    std::mutex mutex_;
    std::string last_status_;
    uint64_t last_ping_us_ = 0;
};

}  // namespace dlba::io
