#include "config/backends_section.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

#include "config/qos_section.hpp"
#include "config/redirect_section.hpp"
#include "config/reader.hpp"

namespace dlba {

namespace {

bool is_cookie_octets(std::string_view v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

}  // namespace

std::string read_backend_key(const ConfigReader& in, const libconfig::Setting& s) {
    std::string k;
    if (s.getType() == libconfig::Setting::TypeInt || s.getType() == libconfig::Setting::TypeInt64) {
        const long long v = s;
        if (v < 0) in.refuse(s, "'" + s.getPath() + "' must not be negative");
        k = std::to_string(v);
    } else if (s.getType() == libconfig::Setting::TypeString) {
        k = static_cast<const char*>(s);
    } else {
        in.refuse(s, "'" + s.getPath() + "' must be a string or an integer");
    }
    if (k.size() > 64 || !is_cookie_octets(k)) {
        in.refuse(s, "back-end key '" + k + "' must be 1..64 cookie characters (no space, quote, comma, ';' or '\\')");
    }
    return k;
}

std::vector<BackendConfig> read_backends_section(const ConfigReader& in, const libconfig::Setting& root) {
    std::vector<BackendConfig> out;
    if (!root.exists("backends")) return out;
    const libconfig::Setting& list = root["backends"];
    if (!list.isList()) in.refuse(list, "'backends' must be a list ( {...}, {...} )");
    std::set<std::string> keys;
    std::set<std::pair<uint32_t, uint16_t>> endpoints;
    for (int i = 0; i < list.getLength(); ++i) {
        const libconfig::Setting& b = list[i];
        if (!b.isGroup()) in.refuse(b, "each entry of 'backends' must be a group { key = ...; address = ...; }");
        in.only_keys(b, {"key", "address", "port", "weight", "enabled", "tls", "max_inflight", "check", "agent",
                         "redirect", "backup", "backup_url"});
        BackendConfig be;
        if (!b.exists("key")) in.refuse(b, "missing setting 'key' in " + ConfigReader::path_of(b));
        be.key = read_backend_key(in, b["key"]);
        be.has_address = b.exists("address");  // optional for redirect services' back ends (checked per service)
        if (be.has_address) be.address = in.ipv4(b, "address");
        be.port = static_cast<uint16_t>(in.integer(b, "port", 80, 1, 65535));
        be.weight = static_cast<uint32_t>(in.integer(b, "weight", 1, 0, 1000000));
        be.enabled = in.boolean(b, "enabled", true);
        be.tls = read_backend_tls(in, b);
        be.max_inflight = read_max_inflight(in, b);
        be.check = read_backend_check(in, b);
        be.agent = read_backend_agent(in, b);
        read_backend_redirect(in, b, be);
        if (!keys.insert(be.key).second) in.refuse(b, "back-end key '" + be.key + "' is used twice");
        if (be.has_address && !endpoints.insert({be.address, be.port}).second) {
            in.refuse(b, "back end " + format_ipv4(be.address) + ":" + std::to_string(be.port) + " is listed twice");
        }
        out.push_back(std::move(be));
    }
    resolve_backups(in, list, out);
    return out;
}

}  // namespace dlba
