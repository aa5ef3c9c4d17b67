#include "protocol/arguments.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>

namespace dlba::proto {

namespace {

// Digits only: no sign, no spaces, no hex, so "-1", "+3", "2x" and " 2" are all refused.
std::optional<uint64_t> decimal(std::string_view s, uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

std::optional<uint64_t> hex64(std::string_view s) {
    if (s.empty() || s.size() > 16) return std::nullopt;
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

template <class T>
void put_number(T v, std::string& out, int base = 10) {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, base);
    out.append(buf, end);
}

// "-" is "not known" (the sweep got no back-end rows).
constexpr std::string_view kUnknown = "-";

bool read_count(std::string_view w, std::optional<uint64_t>& field) {
    if (w == kUnknown) {
        field.reset();
        return true;
    }
    field = decimal(w, UINT64_MAX);
    return field.has_value();
}

void write_count(const std::optional<uint64_t>& field, std::string& out) {
    if (field) {
        put_number(*field, out);
    } else {
        out += kUnknown;
    }
}

template <uint64_t Min, uint64_t Max, class T>
bool read_decimal(std::string_view w, T& field) {
    const auto v = decimal(w, Max);
    if (!v || *v < Min) return false;
    field = static_cast<T>(*v);
    return true;
}

// "<what>, got '<word>'".
std::string got(std::string what, std::string_view w) { return what + ", got '" + std::string(w) + "'"; }

std::string refuse_figure(std::string_view w) {
    return got("figures must be counts and milliseconds or '-'", w);
}

// A choice argument: its words, in the order usage texts show them, and the values they stand for.
constexpr std::array<std::string_view, 3> kNodeAdminWords{"enable", "disable", "drain"};
constexpr std::array<NodeAdmin, 3> kNodeAdminValues{NodeAdmin::enabled, NodeAdmin::disabled, NodeAdmin::draining};
constexpr std::array<std::string_view, 2> kNodeStateWords{"fail", "live"};
constexpr std::array<bool, 2> kNodeStateValues{true, false};  // failed
constexpr std::array<std::string_view, 2> kRoleWords{"active", "standby"};
constexpr std::array<bool, 2> kRoleValues{true, false};  // active
constexpr std::array<std::string_view, 3> kBackendActionWords{"enable", "disable", "drain"};
constexpr std::array<BackendAction, 3> kBackendActionValues{BackendAction::enable, BackendAction::disable,
                                                            BackendAction::drain};

// Reads a choice word into `field`.
template <const auto& Words, const auto& Values, class T>
bool read_choice(std::string_view w, T& field) {
    for (size_t i = 0; i < Words.size(); ++i) {
        if (Words[i] == w) {
            field = Values[i];
            return true;
        }
    }
    return false;
}

template <const auto& Words, const auto& Values, class T>
void write_choice(T value, std::string& out) {
    for (size_t i = 0; i < Values.size(); ++i) {
        if (Values[i] == value) out += Words[i];
    }
}

std::string refuse_nothing(std::string_view) { return {}; }

constexpr std::array<ArgSpec, 21> kArgs{{
    {Arg::literal, "", "", {}, nullptr, nullptr, refuse_nothing},
    {Arg::node, "node", "N", {},
     [](std::string_view w, Request& r) { return read_decimal<1, kMaxNodeNumber>(w, r.node); },
     [](const Request& r, std::string& out) { put_number(r.node, out); },
     [](std::string_view w) { return got("node number must be 1.." + std::to_string(kMaxNodeNumber), w); }},
    {Arg::weight, "weight", "W", {},
     [](std::string_view w, Request& r) { return read_decimal<0, UINT32_MAX>(w, r.weight); },
     [](const Request& r, std::string& out) { put_number(r.weight, out); },
     [](std::string_view w) { return got("weight must be an integer 0.." + std::to_string(UINT32_MAX), w); }},
    {Arg::lease_ms, "lease", "MS", {},
     [](std::string_view w, Request& r) { return read_decimal<1, UINT32_MAX>(w, r.lease_ms); },
     [](const Request& r, std::string& out) { put_number(r.lease_ms, out); },
     [](std::string_view w) { return got("lease must be 1.." + std::to_string(UINT32_MAX) + " ms", w); }},
    {Arg::from_bucket, "bucket", "FROM_BUCKET", {},
     [](std::string_view w, Request& r) { return read_decimal<0, UINT32_MAX>(w, r.from_bucket); },
     [](const Request& r, std::string& out) { put_number(r.from_bucket, out); },
     [](std::string_view w) { return got("bucket must be an integer 0.." + std::to_string(UINT32_MAX), w); }},
    {Arg::unix_time, "time", "UNIX_TIME", {},
     [](std::string_view w, Request& r) { return read_decimal<0, UINT64_MAX>(w, r.unix_time); },
     [](const Request& r, std::string& out) { put_number(r.unix_time, out); },
     [](std::string_view w) { return got("time must be unix seconds", w); }},
    {Arg::key, "key", "KEY", {},
     [](std::string_view w, Request& r) { r.key = std::string(w); return true; },
     [](const Request& r, std::string& out) { out += r.key; },
     refuse_nothing},
    {Arg::path, "path", "PATH", {},
     [](std::string_view w, Request& r) { r.path = std::string(w); return true; },
     [](const Request& r, std::string& out) { out += r.path; },
     refuse_nothing},
    {Arg::node_admin, "admin", "", kNodeAdminWords,
     [](std::string_view w, Request& r) { return read_choice<kNodeAdminWords, kNodeAdminValues>(w, r.admin); },
     [](const Request& r, std::string& out) { write_choice<kNodeAdminWords, kNodeAdminValues>(r.admin, out); },
     refuse_nothing},
    {Arg::node_state, "state", "", kNodeStateWords,
     [](std::string_view w, Request& r) { return read_choice<kNodeStateWords, kNodeStateValues>(w, r.failed); },
     [](const Request& r, std::string& out) { write_choice<kNodeStateWords, kNodeStateValues>(r.failed, out); },
     refuse_nothing},
    {Arg::role, "role", "", kRoleWords,
     [](std::string_view w, Request& r) { return read_choice<kRoleWords, kRoleValues>(w, r.active); },
     [](const Request& r, std::string& out) { write_choice<kRoleWords, kRoleValues>(r.active, out); },
     refuse_nothing},
    {Arg::backend_action, "action", "", kBackendActionWords,
     [](std::string_view w, Request& r) { return read_choice<kBackendActionWords, kBackendActionValues>(w, r.action); },
     [](const Request& r, std::string& out) { write_choice<kBackendActionWords, kBackendActionValues>(r.action, out); },
     refuse_nothing},
    {Arg::hits, "hits", "HITS", {},
     [](std::string_view w, Request& r) { return read_count(w, r.figures.hits); },
     [](const Request& r, std::string& out) { write_count(r.figures.hits, out); },
     refuse_figure},
    {Arg::open_conns, "open", "OPEN", {},
     [](std::string_view w, Request& r) { return read_count(w, r.figures.open_conns); },
     [](const Request& r, std::string& out) { write_count(r.figures.open_conns, out); },
     refuse_figure},
    {Arg::avg_ms, "avg", "AVG_MS", {},
     [](std::string_view w, Request& r) {
         if (w == kUnknown) {
             r.figures.avg_resp_ms.reset();
             return true;
         }
         double v = 0;
         const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, std::chars_format::fixed);
         if (ec != std::errc() || end != w.data() + w.size() || !std::isfinite(v) || v < 0) return false;
         r.figures.avg_resp_ms = v;
         return true;
     },
     [](const Request& r, std::string& out) {
         if (!r.figures.avg_resp_ms) {
             out += kUnknown;
             return;
         }
         char buf[64];
         const double avg = *r.figures.avg_resp_ms;
         const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, avg, std::chars_format::fixed, 3);
         out.append(buf, ec == std::errc() ? end : buf);
     },
     refuse_figure},
    {Arg::fingerprint, "fingerprint", "FINGERPRINT", {},
     [](std::string_view w, Request& r) {
         const auto v = hex64(w);
         if (v) r.fingerprint = *v;
         return v.has_value();
     },
     [](const Request& r, std::string& out) { put_number(r.fingerprint, out, 16); },
     [](std::string_view w) { return got("fingerprint must be 64 bits in hex", w); }},
    {Arg::version, "version", "VERSION", {},
     [](std::string_view w, Request& r) { return read_decimal<0, UINT64_MAX>(w, r.version); },
     [](const Request& r, std::string& out) { put_number(r.version, out); },
     [](std::string_view w) { return got("version must be an unsigned integer", w); }},
    {Arg::config_id, "id", "ID", {},
     [](std::string_view w, Request& r) {
         if (w.size() != 16 || w.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
         r.config_id = std::string(w);
         return true;
     },
     [](const Request& r, std::string& out) { out += r.config_id; },
     [](std::string_view w) { return got("a configuration id is 16 hex digits", w); }},
    {Arg::length, "length", "LENGTH", {},
     [](std::string_view w, Request& r) { return read_decimal<0, UINT64_MAX>(w, r.length); },
     [](const Request& r, std::string& out) { put_number(r.length, out); },
     [](std::string_view w) { return got("length must be a byte count", w); }},
    {Arg::read_only_request, "table", "REQUEST", {}, nullptr, nullptr,
     [](std::string_view w) { return "not a read-only table: " + std::string(w); }, true, Access::read_only},
    {Arg::admin_request, "command", "REQUEST", {}, nullptr, nullptr,
     [](std::string_view w) { return "not an admin command: " + std::string(w); }, true, Access::admin},
}};

constexpr bool in_arg_order() {
    for (size_t i = 0; i < kArgs.size(); ++i) {
        if (static_cast<size_t>(kArgs[i].arg) != i) return false;
    }
    return true;
}
static_assert(in_arg_order(), "kArgs lists the argument types in Arg order");

}  // namespace

const ArgSpec& arg_spec(Arg arg) {
    return kArgs[static_cast<size_t>(arg)];
}

const ArgSpec* arg_named(std::string_view name) {
    for (const ArgSpec& a : kArgs) {
        if (a.arg != Arg::literal && a.name == name) return &a;
    }
    return nullptr;
}

}  // namespace dlba::proto
