#include "config/pin_section.hpp"

#include "auth/keys.hpp"
#include "config/reader.hpp"

namespace dlba {

namespace {

// Why `p` is not a pin pattern ("" when it is one).
std::string pattern_problem(std::string_view p) {
    if (p.empty() || p.front() != '/') return "must begin with '/'";
    if (p.size() > 1024) return "is longer than 1024 characters";
    for (size_t i = 0; i < p.size(); ++i) {
        const auto c = static_cast<unsigned char>(p[i]);
        if (c <= ' ' || c == 0x7f) return "holds a space or a control character";
        if (c == '%') return "holds '%' (paths are compared as sent, never decoded)";
        if (c == '?' || c == '#') return "holds '?' or '#' (patterns match the path, never the query)";
        if (c == '*' && i + 1 != p.size()) return "has '*' before its end (only a trailing '*' is a wildcard)";
    }
    if (p.find("..") != std::string_view::npos) return "holds \"..\"";
    return {};
}

std::vector<PinPattern> read_patterns(const ConfigReader& in, const libconfig::Setting& g, const char* key,
                                      bool required) {
    std::vector<PinPattern> out;
    if (!g.exists(key)) {
        if (required) in.refuse(g, std::string("missing setting '") + key + "' in " + ConfigReader::path_of(g));
        return out;
    }
    const libconfig::Setting& l = g[key];
    if (!l.isArray() && !l.isList()) in.refuse(l, "'" + l.getPath() + "' must be a list of path patterns");
    if (required && l.getLength() == 0) in.refuse(l, "'" + l.getPath() + "' is empty");
    if (l.getLength() > static_cast<int>(kMaxPinPatterns)) {
        in.refuse(l, "'" + l.getPath() + "' holds more than " + std::to_string(kMaxPinPatterns) + " patterns");
    }
    for (int i = 0; i < l.getLength(); ++i) {
        if (l[i].getType() != libconfig::Setting::TypeString) in.refuse(l[i], "'" + l.getPath() + "' holds a non-string");
        PinPattern p;
        p.text = static_cast<const char*>(l[i]);
        const std::string why = pattern_problem(p.text);
        if (!why.empty()) in.refuse(l[i], "'" + l.getPath() + "' entry \"" + p.text + "\" " + why);
        p.prefix = p.text.back() == '*';
        p.literal = p.prefix ? p.text.substr(0, p.text.size() - 1) : p.text;
        p.line = static_cast<int>(l[i].getSourceLine());
        for (const PinPattern& q : out) {
            if (q.text == p.text) in.refuse(l[i], "'" + l.getPath() + "' holds \"" + p.text + "\" twice");
        }
        out.push_back(std::move(p));
    }
    return out;
}

// An exit lies below an entry: a wildcard entry whose prefix begins it, and it is not the entry itself.
bool lies_below(const PinPattern& exit, const PinPattern& entry) {
    return entry.prefix && exit.text != entry.text && exit.literal.starts_with(entry.literal);
}

}  // namespace

PinConfig read_service_pin(const ConfigReader& in, const libconfig::Setting& service) {
    PinConfig c;
    if (!service.exists("pin")) return c;
    const libconfig::Setting& g = in.group(service, "pin", false);
    in.only_keys(g, {"entry", "exit", "cookie", "max_age_s", "secret"});
    c.enabled = true;
    c.entry = read_patterns(in, g, "entry", true);
    c.exit = read_patterns(in, g, "exit", false);
    for (size_t i = 0; i < c.exit.size(); ++i) {
        bool below = false;
        for (const PinPattern& e : c.entry) below = below || lies_below(c.exit[i], e);
        if (!below) {
            in.refuse(g["exit"][static_cast<int>(i)],
                      "'" + g["exit"].getPath() + "' entry \"" + c.exit[i].text +
                          "\" lies below no entry pattern (an exit ends a pin, so it must be a path the pin covers: "
                          "below an entry that ends in '*', and not that entry itself)");
        }
    }
    c.cookie = in.text(g, "cookie", c.cookie);
    c.max_age_s = static_cast<uint32_t>(in.integer(g, "max_age_s", c.max_age_s, 1, 31536000));
    if (g.exists("secret")) {
        std::string why;
        const auto key = auth::parse_key(in.text(g, "secret", std::nullopt), &why);
        if (!key) in.refuse(g["secret"], "'" + g["secret"].getPath() + "': " + why);
        c.secret = key->bytes;
    }
    return c;
}

}  // namespace dlba
