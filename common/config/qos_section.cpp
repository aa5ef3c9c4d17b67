#include "config/qos_section.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "config/reader.hpp"

namespace dlba {

namespace {

bool is_token(std::string_view v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// Cookie-value octets (RFC 6265 §4.1.1): no space, quote, comma, semicolon or backslash.
bool is_cookie_value(std::string_view v) {
    return std::all_of(v.begin(), v.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

QosClassRule read_rule(const ConfigReader& in, const libconfig::Setting& r) {
    if (!r.isGroup()) in.refuse(r, "each entry of '" + r.getParent().getPath() + "' must be a group { class = N; ... }");
    in.only_keys(r, {"class", "path_prefix", "tls", "cookie"});
    QosClassRule rule;
    rule.cls = static_cast<uint8_t>(in.integer(r, "class", std::nullopt, 0, kQosClasses - 1));
    if (r.exists("path_prefix")) {
        rule.path_prefix = in.text(r, "path_prefix", std::nullopt);
        if (rule.path_prefix.empty() || rule.path_prefix[0] != '/') {
            in.refuse(r["path_prefix"], "'" + r["path_prefix"].getPath() + "' must start with '/'");
        }
    }
    if (r.exists("tls")) rule.tls = in.boolean(r, "tls", false);
    if (r.exists("cookie")) {
        const std::string c = in.text(r, "cookie", std::nullopt);
        const size_t eq = c.find('=');
        rule.cookie_name = c.substr(0, eq);
        if (eq != std::string::npos) rule.cookie_value = c.substr(eq + 1);
        if (!is_token(rule.cookie_name) || (rule.cookie_value && !is_cookie_value(*rule.cookie_value))) {
            in.refuse(r["cookie"], "'" + r["cookie"].getPath() + "' = \"" + c +
                                       "\" must be NAME or NAME=VALUE (a cookie name, cookie-value characters)");
        }
    }
    if (rule.path_prefix.empty() && !rule.tls && rule.cookie_name.empty()) {
        in.refuse(r, "a class rule needs a condition (path_prefix, tls or cookie) in " + ConfigReader::path_of(r));
    }
    return rule;
}

}  // namespace

ServiceQosConfig read_service_qos(const ConfigReader& in, const libconfig::Setting& g) {
    ServiceQosConfig q;
    if (g.exists("queue")) {
        const libconfig::Setting& s = in.group(g, "queue", false);
        in.only_keys(s, {"timeout_ms", "max_queued"});
        q.queue.timeout_ms = static_cast<uint32_t>(in.integer(s, "timeout_ms", q.queue.timeout_ms, 1, 3600000));
        q.queue.max_queued = static_cast<uint32_t>(in.integer(s, "max_queued", q.queue.max_queued, 0, 1000000));
    }
    if (g.exists("classes")) {
        const libconfig::Setting& list = g["classes"];
        if (!list.isList()) in.refuse(list, "'" + list.getPath() + "' must be a list ( { class = N; ... }, ... )");
        if (static_cast<size_t>(list.getLength()) > kQosMaxRules) {
            in.refuse(list, "'" + list.getPath() + "' has more than " + std::to_string(kQosMaxRules) + " rules");
        }
        for (int i = 0; i < list.getLength(); ++i) q.classes.push_back(read_rule(in, list[i]));
    }
    return q;
}

uint32_t read_max_inflight(const ConfigReader& in, const libconfig::Setting& b) {
    return static_cast<uint32_t>(in.integer(b, "max_inflight", 0, 0, 1000000));
}

}  // namespace dlba
