#include "protocol/arguments.hpp"

#include <algorithm>
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
// out-of-service's reasons (in-service is its own word).
constexpr std::array<std::string_view, 4> kBackendReasonWords{"oos", "maintenance", "sticky", "failed"};
constexpr std::array<BackendMode, 4> kBackendReasonValues{BackendMode::oos, BackendMode::maintenance,
                                                          BackendMode::sticky, BackendMode::failed};

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

// The kinds of argument, each filling the Request member Field (of NodeFigures for the figures).
template <auto Field, uint64_t Min, uint64_t Max>
constexpr ArgSpec decimal_arg(Arg arg, std::string_view name, std::string_view placeholder,
                              std::string (*refusal)(std::string_view)) {
    return {arg, name, placeholder, {},
            [](std::string_view w, Request& r) { return read_decimal<Min, Max>(w, r.*Field); },
            [](const Request& r, std::string& out) { put_number(r.*Field, out); },
            refusal};
}

template <auto Field>
constexpr ArgSpec word_arg(Arg arg, std::string_view name, std::string_view placeholder) {
    return {arg, name, placeholder, {},
            [](std::string_view w, Request& r) {
                r.*Field = std::string(w);
                return true;
            },
            [](const Request& r, std::string& out) { out += r.*Field; },
            refuse_nothing};
}

template <auto Field, const auto& Words, const auto& Values>
constexpr ArgSpec choice_arg(Arg arg, std::string_view name) {
    return {arg, name, "", Words,
            [](std::string_view w, Request& r) { return read_choice<Words, Values>(w, r.*Field); },
            [](const Request& r, std::string& out) { write_choice<Words, Values>(r.*Field, out); },
            refuse_nothing};
}

template <auto Field>
constexpr ArgSpec count_arg(Arg arg, std::string_view name, std::string_view placeholder) {
    return {arg, name, placeholder, {},
            [](std::string_view w, Request& r) { return read_count(w, r.figures.*Field); },
            [](const Request& r, std::string& out) { write_count(r.figures.*Field, out); },
            refuse_figure};
}

// An average response time above this (about 11.6 days) is no measurement: refused, so that every average read
// has a short fixed-point spelling (a 107-digit one once formatted to nothing, and the line no longer parsed).
constexpr double kMaxAvgMs = 1e9;

bool read_avg(std::string_view w, Request& r) {
    if (w == kUnknown) {
        r.figures.avg_resp_ms.reset();
        return true;
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, std::chars_format::fixed);
    if (ec != std::errc() || end != w.data() + w.size() || !std::isfinite(v) || v < 0 || v > kMaxAvgMs) {
        return false;
    }
    r.figures.avg_resp_ms = v;
    return true;
}

// Three decimals, as the sweep has always sent them.
void write_avg(const Request& r, std::string& out) {
    if (!r.figures.avg_resp_ms) {
        out += kUnknown;
        return;
    }
    char buf[64];
    // A sender's own figure is held to what a reader accepts, too (NaN, negative and huge included).
    const double a = *r.figures.avg_resp_ms;
    const double v = a >= 0 ? std::min(a, kMaxAvgMs) : 0.0;
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    out.append(buf, ec == std::errc() ? end : buf);
}

bool read_fingerprint(std::string_view w, Request& r) {
    const auto v = hex64(w);
    if (v) r.fingerprint = *v;
    return v.has_value();
}

bool read_config_id(std::string_view w, Request& r) {
    if (w.size() != 16 || w.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
    r.config_id = std::string(w);
    return true;
}

bool read_load(std::string_view w, Request& r) {
    if (w == kUnknown) {
        r.load_pct.reset();
        return true;
    }
    const auto v = decimal(w, 100);
    if (v) r.load_pct = static_cast<uint32_t>(*v);
    return v.has_value();
}

void write_load(const Request& r, std::string& out) {
    if (!r.load_pct) {
        out += kUnknown;
        return;
    }
    put_number(std::min<uint32_t>(*r.load_pct, 100), out);
}

constexpr std::array<std::string_view, 2> kSteerWords{"steered", "normal"};
constexpr std::array<bool, 2> kSteerValues{true, false};

constexpr std::array<ArgSpec, 24> kArgs{{
    {Arg::literal, "", "", {}, nullptr, nullptr, refuse_nothing},
    decimal_arg<&Request::node, 1, kMaxNodeNumber>(Arg::node, "node", "N", [](std::string_view w) {
        return got("node number must be 1.." + std::to_string(kMaxNodeNumber), w);
    }),
    decimal_arg<&Request::weight, 0, UINT32_MAX>(Arg::weight, "weight", "W", [](std::string_view w) {
        return got("weight must be an integer 0.." + std::to_string(UINT32_MAX), w);
    }),
    decimal_arg<&Request::lease_ms, 1, UINT32_MAX>(Arg::lease_ms, "lease", "MS", [](std::string_view w) {
        return got("lease must be 1.." + std::to_string(UINT32_MAX) + " ms", w);
    }),
    decimal_arg<&Request::from_bucket, 0, UINT32_MAX>(
        Arg::from_bucket, "bucket", "FROM_BUCKET",
        [](std::string_view w) { return got("bucket must be an integer 0.." + std::to_string(UINT32_MAX), w); }),
    decimal_arg<&Request::unix_time, 0, UINT64_MAX>(Arg::unix_time, "time", "UNIX_TIME", [](std::string_view w) {
        return got("time must be unix seconds", w);
    }),
    word_arg<&Request::key>(Arg::key, "key", "KEY"),
    word_arg<&Request::path>(Arg::path, "path", "PATH"),
    choice_arg<&Request::admin, kNodeAdminWords, kNodeAdminValues>(Arg::node_admin, "admin"),
    choice_arg<&Request::failed, kNodeStateWords, kNodeStateValues>(Arg::node_state, "state"),
    choice_arg<&Request::active, kRoleWords, kRoleValues>(Arg::role, "role"),
    choice_arg<&Request::action, kBackendActionWords, kBackendActionValues>(Arg::backend_action, "action"),
    choice_arg<&Request::mode, kBackendReasonWords, kBackendReasonValues>(Arg::backend_reason, "reason"),
    count_arg<&NodeFigures::hits>(Arg::hits, "hits", "HITS"),
    count_arg<&NodeFigures::open_conns>(Arg::open_conns, "open", "OPEN"),
    {Arg::avg_ms, "avg", "AVG_MS", {}, read_avg, write_avg, refuse_figure},
    {Arg::fingerprint, "fingerprint", "FINGERPRINT", {}, read_fingerprint,
     [](const Request& r, std::string& out) { put_number(r.fingerprint, out, 16); },
     [](std::string_view w) { return got("fingerprint must be 64 bits in hex", w); }},
    decimal_arg<&Request::version, 0, UINT64_MAX>(Arg::version, "version", "VERSION", [](std::string_view w) {
        return got("version must be an unsigned integer", w);
    }),
    {Arg::config_id, "id", "ID", {}, read_config_id, [](const Request& r, std::string& out) { out += r.config_id; },
     [](std::string_view w) { return got("a configuration id is 16 hex digits", w); }},
    decimal_arg<&Request::length, 0, UINT64_MAX>(Arg::length, "length", "LENGTH", [](std::string_view w) {
        return got("length must be a byte count", w);
    }),
    {Arg::read_only_request, "table", "REQUEST", {}, nullptr, nullptr,
     [](std::string_view w) { return "not a read-only table: " + std::string(w); }, true, Access::read_only},
    {Arg::admin_request, "command", "REQUEST", {}, nullptr, nullptr,
     [](std::string_view w) { return "not an admin command: " + std::string(w); }, true, Access::admin},
    {Arg::load_pct, "load", "PCT", {}, read_load, write_load,
     [](std::string_view w) { return got("load must be a percentage 0..100 or '-'", w); }},
    choice_arg<&Request::steered, kSteerWords, kSteerValues>(Arg::steer, "steer"),
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
