#include "config/cdn_section.hpp"

#include <string_view>

#include "config/reader.hpp"
#include "http/url_patterns.hpp"

namespace dlba {

namespace {

// A DNS name (letters, digits, '-', dots between labels of at most 63), optionally ":port".
bool is_cdn_host(std::string_view h) {
    const size_t colon = h.find(':');
    if (colon != std::string_view::npos) {
        const std::string_view port = h.substr(colon + 1);
        if (port.empty() || port.size() > 5) return false;
        unsigned v = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v == 0 || v > 65535) return false;
        h = h.substr(0, colon);
    }
    if (h.empty() || h.size() > 253) return false;
    size_t label = 0;
    char prev = '.';
    for (char c : h) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if (alnum || c == '-') {
            if (c == '-' && label == 0) return false;
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label != 0 && prev != '-';
}

}  // namespace

CdnConfig read_service_cdn(const ConfigReader& in, const libconfig::Setting& service) {
    CdnConfig c;
    if (!service.exists("cdn")) return c;
    const libconfig::Setting& g = in.group(service, "cdn", false);
    in.only_keys(g, {"host", "match"});
    c.enabled = true;
    c.host = in.text(g, "host", std::nullopt);
    if (!is_cdn_host(c.host)) {
        in.refuse(g["host"], "'" + g["host"].getPath() + "' = \"" + c.host + "\" is not a host name");
    }
    if (!g.exists("match")) in.refuse(g, "missing setting 'match' in " + ConfigReader::path_of(g));
    const libconfig::Setting& m = g["match"];
    if (!m.isArray() && !m.isList()) in.refuse(m, "'" + m.getPath() + "' must be a list of regular expressions");
    if (m.getLength() == 0) in.refuse(m, "'" + m.getPath() + "' is empty");
    for (int i = 0; i < m.getLength(); ++i) {
        if (m[i].getType() != libconfig::Setting::TypeString) {
            in.refuse(m[i], "'" + m.getPath() + "' must hold strings (regular expressions)");
        }
        std::string p = m[i];
        if (p.empty()) in.refuse(m[i], "an empty pattern in '" + m.getPath() + "' would match every URL");
        const std::string why = http::UrlPatterns::check(p);
        if (!why.empty()) in.refuse(m[i], "'" + p + "' in '" + m.getPath() + "' is not a valid regular expression: " + why);
        c.match.push_back(std::move(p));
    }
    return c;
}

}  // namespace dlba
