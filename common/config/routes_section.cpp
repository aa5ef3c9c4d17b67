#include "config/routes_section.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "config/reader.hpp"

namespace dlba {

namespace {

constexpr int kMaxRoutes = 64;

size_t service_named(const ConfigReader& in, const libconfig::Setting& at, const std::string& name,
                     const std::vector<ServiceConfig>& services) {
    for (size_t i = 0; i < services.size(); ++i) {
        if (services[i].name == name) return i;
    }
    in.refuse(at, "no service named '" + name + "' in 'services' (" + at.getPath() + ")");
}

// A host name as a Host header carries it, without the port: letters, digits, '-', '.' (IPv4 literals included).
bool is_host_name(std::string_view h) {
    return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    });
}

// The prefix is compared with the raw (undecoded) path, so anything decoding or normalising would change cannot
// be matched reliably and is refused: a '%' escape, a ".." segment, and a prefix that is not an origin-form path.
void check_prefix(const ConfigReader& in, const libconfig::Setting& at, const std::string& p) {
    const std::string where = "'" + at.getPath() + "' = \"" + p + "\"";
    if (p.empty() || p[0] != '/') in.refuse(at, where + " must begin with '/'");
    if (p.size() > 1024) in.refuse(at, where + " is longer than 1024 characters");
    if (p.find('%') != std::string::npos) {
        in.refuse(at, where + " holds '%': prefixes are compared on the raw path, undecoded; write it as sent");
    }
    if (p.find("..") != std::string::npos) in.refuse(at, where + " holds '..'");
    if (std::any_of(p.begin(), p.end(), [](char c) { return c <= ' ' || c == 0x7f || c == '?' || c == '#'; })) {
        in.refuse(at, where + " holds a space, control character, '?' or '#'");
    }
}

RouteConfig read_route(const ConfigReader& in, const libconfig::Setting& g,
                       const std::vector<ServiceConfig>& services) {
    in.only_keys(g, {"host", "path_prefix", "service", "overflow"});
    RouteConfig r;
    r.line = static_cast<int>(g.getSourceLine());
    if (!g.exists("host") && !g.exists("path_prefix")) {
        in.refuse(g, "a route in " + ConfigReader::path_of(g) + " needs 'host' or 'path_prefix' (or both)");
    }
    r.host = in.text(g, "host", std::string());
    if (g.exists("host")) {
        if (!is_host_name(r.host)) {
            in.refuse(g["host"], "'" + g["host"].getPath() + "' = \"" + r.host +
                                     "\" must be a host name without port (letters, digits, '-', '.')");
        }
        r.host_lower = r.host;
        std::transform(r.host_lower.begin(), r.host_lower.end(), r.host_lower.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    }
    r.path_prefix = in.text(g, "path_prefix", std::string());
    if (g.exists("path_prefix")) check_prefix(in, g["path_prefix"], r.path_prefix);
    r.service = in.text(g, "service", std::nullopt);
    r.service_index = service_named(in, g["service"], r.service, services);
    if (g.exists("overflow")) {
        r.overflow = in.text(g, "overflow", std::nullopt);
        r.overflow_index = service_named(in, g["overflow"], r.overflow, services);
        if (*r.overflow_index == r.service_index) {
            in.refuse(g["overflow"], "'" + g["overflow"].getPath() + "' names the route's own service '" +
                                         r.service + "'");
        }
    }
    const ServiceConfig& sv = services[r.service_index];
    if (sv.mode != ServiceMode::proxy || (r.overflow_index && services[*r.overflow_index].mode != ServiceMode::proxy)) {
        in.refuse(g, "a route's service and overflow must be proxy services (not mode = \"redirect\")");
    }
    return r;
}

}  // namespace

std::vector<RouteConfig> read_listener_routes(const ConfigReader& in, const libconfig::Setting& listener,
                                              const std::vector<ServiceConfig>& services) {
    std::vector<RouteConfig> out;
    if (!listener.exists("routes")) return out;
    const libconfig::Setting& list = listener["routes"];
    if (!list.isList()) in.refuse(list, "'" + list.getPath() + "' must be a list ( {...}, {...} )");
    if (list.getLength() > kMaxRoutes) in.refuse(list, "'" + list.getPath() + "' holds more than 64 routes");
    for (int i = 0; i < list.getLength(); ++i) {
        const libconfig::Setting& g = list[i];
        if (!g.isGroup()) {
            in.refuse(g, "each entry of '" + list.getPath() + "' must be a group { path_prefix = ...; service = ...; }");
        }
        RouteConfig r = read_route(in, g, services);
        // A later route that an earlier one always matches first can never be used: surely a mistake.
        for (const RouteConfig& e : out) {
            const bool host_covers = e.host_lower.empty() || e.host_lower == r.host_lower;
            const bool prefix_covers = r.path_prefix.compare(0, e.path_prefix.size(), e.path_prefix) == 0;
            if (host_covers && prefix_covers) {
                in.refuse(g, "this route can never match: the route at line " + std::to_string(e.line) +
                                 " takes all its requests first");
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace dlba
