#include "config/services_section.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>
#include <string_view>

#include "config/reader.hpp"
#include "config/redirect_section.hpp"

namespace dlba {

namespace {

// In the enum's order: the words the file uses, and what balance_policy_name prints.
constexpr std::string_view kPolicyNames[] = {"cookie",     "url_session",   "url_hash",
                                             "least_conn", "response_time", "tls_session", "round_robin"};
constexpr std::string_view kSessionIdPlaces[] = {"query", "path"};

bool is_token(std::string_view v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// The service's 'backends' list, as indexes into `backends`.
std::vector<size_t> read_service_backends(const ConfigReader& in, const libconfig::Setting& g,
                                          const std::vector<BackendConfig>& backends) {
    std::vector<size_t> out;
    if (!g.exists("backends")) in.refuse(g, "missing setting 'backends' in " + ConfigReader::path_of(g));
    const libconfig::Setting& bl = g["backends"];
    if (!bl.isArray() && !bl.isList()) in.refuse(bl, "'" + bl.getPath() + "' must be a list of back-end keys");
    if (bl.getLength() == 0) in.refuse(bl, "'" + bl.getPath() + "' is empty");
    for (int j = 0; j < bl.getLength(); ++j) {
        const std::string k = read_backend_key(in, bl[j]);
        size_t index = backends.size();
        for (size_t b = 0; b < backends.size(); ++b) {
            if (backends[b].key == k) index = b;
        }
        if (index == backends.size()) in.refuse(bl[j], "no back end with key '" + k + "' in 'backends'");
        if (std::find(out.begin(), out.end(), index) != out.end()) {
            in.refuse(bl[j], "back end '" + k + "' appears twice in '" + bl.getPath() + "'");
        }
        out.push_back(index);
    }
    return out;
}

// tls_session_paths: request-path prefixes, each beginning with '/'.
std::vector<std::string> read_tls_session_paths(const ConfigReader& in, const libconfig::Setting& g) {
    std::vector<std::string> out;
    if (!g.exists("tls_session_paths")) return out;
    const libconfig::Setting& l = g["tls_session_paths"];
    if (!l.isArray() && !l.isList()) in.refuse(l, "'" + l.getPath() + "' must be a list of path prefixes");
    if (l.getLength() > 64) in.refuse(l, "'" + l.getPath() + "' holds more than 64 prefixes");
    for (int i = 0; i < l.getLength(); ++i) {
        if (l[i].getType() != libconfig::Setting::TypeString) {
            in.refuse(l[i], "'" + l.getPath() + "' holds a non-string");
        }
        const std::string p = static_cast<const char*>(l[i]);
        if (p.empty() || p[0] != '/' || p.size() > 1024 ||
            std::any_of(p.begin(), p.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
            in.refuse(l[i], "'" + l.getPath() + "' entry '" + p +
                                "' must be a path prefix beginning with '/' (at most 1024 characters, no spaces)");
        }
        out.push_back(p);
    }
    return out;
}

// upgrade_protocols: Upgrade protocol names (tokens), at most 16; absent: the default ("websocket").
void read_upgrade_protocols(const ConfigReader& in, const libconfig::Setting& g, std::vector<std::string>& out) {
    if (!g.exists("upgrade_protocols")) return;
    const libconfig::Setting& l = g["upgrade_protocols"];
    if (!l.isArray() && !l.isList()) in.refuse(l, "'" + l.getPath() + "' must be a list of protocol names");
    if (l.getLength() > 16) in.refuse(l, "'" + l.getPath() + "' holds more than 16 protocols");
    out.clear();
    for (int i = 0; i < l.getLength(); ++i) {
        if (l[i].getType() != libconfig::Setting::TypeString) {
            in.refuse(l[i], "'" + l.getPath() + "' holds a non-string");
        }
        const std::string p = static_cast<const char*>(l[i]);
        if (!is_token(p) || p.size() > 64) {
            in.refuse(l[i], "'" + l.getPath() + "' entry '" + p +
                                "' must be a protocol name (a token of at most 64 characters, no version)");
        }
        out.push_back(p);
    }
}

// pin (config/pin_section.hpp), and what it must not share with the service's other settings.
void check_service_pin(const ConfigReader& in, const libconfig::Setting& g, ServiceConfig& sv) {
    sv.pin = read_service_pin(in, g);
    if (!sv.pin.enabled) return;
    const libconfig::Setting& p = g["pin"];
    const libconfig::Setting& at = p.exists("cookie") ? p["cookie"] : p;
    if (!is_token(sv.pin.cookie)) in.refuse(at, "'" + p.getPath() + ".cookie' must be a cookie name (a token)");
    if (sv.pin.cookie == sv.inject_cookie || sv.pin.cookie == sv.session_cookie) {
        in.refuse(at, "'" + p.getPath() + ".cookie' = \"" + sv.pin.cookie +
                          "\" must differ from the service's inject_cookie and session_cookie");
    }
    if (sv.mode == ServiceMode::redirect) {
        in.refuse(p, "'" + p.getPath() + "' is for proxy services only (a redirect sends the client elsewhere)");
    }
}

// One entry of 'services'; `names` holds the names of the entries before it.
ServiceConfig read_service(const ConfigReader& in, const libconfig::Setting& g,
                           const std::vector<BackendConfig>& backends, std::set<std::string>& names) {
    in.only_keys(g, {"name", "backends", "policy", "fallback", "session_cookie", "inject_cookie", "strip_injected",
                     "url_session_param", "url_session_in", "hash_bound_load", "retries", "down_interval_ms", "pool",
                     "queue", "classes", "tls_session_paths", "mode", "redirect_code", "redirect_close", "cdn",
                     "upgrade_protocols", "pin"});
    ServiceConfig sv;
    sv.name = in.text(g, "name", std::nullopt);
    if (!is_token(sv.name)) in.refuse(g["name"], "service name '" + sv.name + "' must be a non-empty token");
    if (!names.insert(sv.name).second) in.refuse(g, "service name '" + sv.name + "' is used twice");

    sv.backends = read_service_backends(in, g, backends);

    read_service_mode(in, g, sv);
    // A redirect holds nothing open, so a redirect service's back ends never have a request in flight: weighted
    // turns, not least connections, spread them by weight.
    const BalancePolicy default_policy =
        sv.mode == ServiceMode::redirect ? BalancePolicy::round_robin : BalancePolicy::least_conn;
    sv.policy = in.choice(g, "policy", default_policy, kPolicyNames);
    sv.fallback = in.choice(g, "fallback", default_policy, kPolicyNames);
    if (g.exists("policy")) sv.policy_line = static_cast<int>(g["policy"].getSourceLine());
    if (sv.fallback == BalancePolicy::cookie || sv.fallback == BalancePolicy::url_session ||
        sv.fallback == BalancePolicy::tls_session) {
        in.refuse(g["fallback"], "'" + g["fallback"].getPath() +
                                     "' must be \"url_hash\", \"least_conn\", \"response_time\" or \"round_robin\" (it "
                                     "decides for requests that carry no cookie, session id or TLS-session binding)");
    }
    sv.tls_session_paths = read_tls_session_paths(in, g);
    if (g.exists("tls_session_paths") && sv.policy != BalancePolicy::tls_session) {
        in.refuse(g["tls_session_paths"], "'" + g["tls_session_paths"].getPath() +
                                              "' is for policy \"tls_session\" only");
    }
    sv.session_cookie = in.text(g, "session_cookie", std::string());
    sv.inject_cookie = in.text(g, "inject_cookie", sv.inject_cookie);
    sv.strip_injected = in.boolean(g, "strip_injected", sv.strip_injected);
    if (g.exists("session_cookie") && !is_token(sv.session_cookie)) {
        in.refuse(g["session_cookie"], "'" + g["session_cookie"].getPath() + "' must be a cookie name (a token)");
    }
    if (!is_token(sv.inject_cookie)) {
        in.refuse(g["inject_cookie"], "'" + g["inject_cookie"].getPath() + "' must be a cookie name (a token)");
    }
    if (sv.policy == BalancePolicy::cookie) {
        if (sv.session_cookie.empty()) {
            in.refuse(g, "policy \"cookie\" needs 'session_cookie' in " + ConfigReader::path_of(g));
        }
        if (sv.session_cookie == sv.inject_cookie) {
            in.refuse(g, "'session_cookie' and 'inject_cookie' must differ in " + ConfigReader::path_of(g));
        }
    }
    sv.url_session_param = in.text(g, "url_session_param", std::string());
    sv.url_session_in = in.choice(g, "url_session_in", SessionIdPlace::query, kSessionIdPlaces);
    if (g.exists("url_session_param") && !is_token(sv.url_session_param)) {
        in.refuse(g["url_session_param"], "'" + g["url_session_param"].getPath() + "' must be a parameter name");
    }
    if (sv.policy == BalancePolicy::url_session && sv.url_session_param.empty()) {
        in.refuse(g, "policy \"url_session\" needs 'url_session_param' in " + ConfigReader::path_of(g));
    }
    sv.hash_bound_load = in.real(g, "hash_bound_load", 0, 0, 100);
    if (sv.hash_bound_load != 0 && sv.hash_bound_load < 1) {
        in.refuse(g["hash_bound_load"], "'" + g["hash_bound_load"].getPath() + "' must be 0 (off) or at least 1");
    }
    sv.retries = static_cast<uint32_t>(in.integer(g, "retries", sv.retries, 0, 16));
    sv.down_interval_ms = static_cast<uint32_t>(in.integer(g, "down_interval_ms", sv.down_interval_ms, 100, 3600000));
    if (g.exists("pool")) {
        const libconfig::Setting& p = in.group(g, "pool", false);
        in.only_keys(p, {"idle_per_backend", "idle_timeout_ms", "prewarm"});
        sv.pool_idle_per_backend = static_cast<uint32_t>(in.integer(p, "idle_per_backend", 0, 0, 10000));
        sv.pool_idle_timeout_ms =
            static_cast<uint32_t>(in.integer(p, "idle_timeout_ms", sv.pool_idle_timeout_ms, 100, 3600000));
        // Prewarmed connections are idle pooled ones: no more than the pool keeps.
        sv.pool_prewarm = static_cast<uint32_t>(in.integer(p, "prewarm", 0, 0, sv.pool_idle_per_backend));
    }
    sv.qos = read_service_qos(in, g);
    check_service_backends(in, g, sv, backends);
    sv.cdn = read_service_cdn(in, g);
    read_upgrade_protocols(in, g, sv.upgrade_protocols);
    if (g.exists("upgrade_protocols") && sv.mode == ServiceMode::redirect) {
        in.refuse(g["upgrade_protocols"], "'" + g["upgrade_protocols"].getPath() +
                                              "' is for proxy services only (a redirect service answers every "
                                              "request itself)");
    }
    check_service_pin(in, g, sv);
    return sv;
}

}  // namespace

const char* balance_policy_name(BalancePolicy p) {
    const auto i = static_cast<size_t>(p);
    return i < std::size(kPolicyNames) ? kPolicyNames[i].data() : "?";
}

std::vector<ServiceConfig> read_services_section(const ConfigReader& in, const libconfig::Setting& root,
                                                 const std::vector<BackendConfig>& backends) {
    std::vector<ServiceConfig> out;
    if (!root.exists("services")) return out;
    const libconfig::Setting& list = root["services"];
    if (!list.isList()) in.refuse(list, "'services' must be a list ( {...}, {...} )");
    std::set<std::string> names;
    for (int i = 0; i < list.getLength(); ++i) {
        const libconfig::Setting& g = list[i];
        if (!g.isGroup()) in.refuse(g, "each entry of 'services' must be a group { name = ...; backends = [...]; }");
        out.push_back(read_service(in, g, backends, names));
    }
    return out;
}

}  // namespace dlba
