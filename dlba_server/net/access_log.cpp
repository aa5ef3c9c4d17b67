#include "net/access_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>

namespace dlba::server {

void format_access_line(const AccessLogEntry& e, std::string& out) {
    char when[32];
    const time_t t = static_cast<time_t>(e.unix_s);
    tm utc;
    gmtime_r(&t, &utc);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    out += when;
    out += ' ';
    out += e.client_ip;
    out += ':';
    out += std::to_string(e.client_port);
    out += ' ';
    out += e.proto;
    out += " \"";
    out += e.method;
    out += ' ';
    out += e.target.substr(0, std::min<size_t>(e.target.size(), 1024));
    out += "\" ";
    out += std::to_string(e.status);
    out += ' ';
    out += std::to_string(e.bytes);
    out += ' ';
    out += e.backend;
    out += ' ';
    out += std::to_string(e.duration_ms);
    out += "ms ";
    out += choice_reason_name(e.reason);
    if (e.attempts > 1) {
        out += " attempts=";
        out += std::to_string(e.attempts);
    }
    if (e.bad_response) out += " bad_response";
    if (e.redirect) out += " redirect";
    if (e.qos_class >= 0) {
        out += " class=";
        out += std::to_string(e.qos_class);
        out += " queue_ms=";
        out += std::to_string(e.queue_ms);
    }
    if (e.tunnel) {
        out += " tunnel up=";
        out += std::to_string(e.tunnel_up);
        out += " down=";
        out += std::to_string(e.tunnel_down);
        out += " end=";
        out += e.tunnel_end;
    }
    if (e.route >= -1) {
        out += " route=";
        out += e.route < 0 ? std::string("default") : std::to_string(e.route + 1);
        if (e.overflow) out += ",overflow";
    }
}

void AccessLog::flush() {
    if (buffer_.empty()) return;
    if (fd_ >= 0) [[maybe_unused]] ssize_t n = ::write(fd_, buffer_.data(), buffer_.size());
    buffer_.clear();
}

}  // namespace dlba::server
