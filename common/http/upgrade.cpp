#include "http/upgrade.hpp"

namespace dlba::http {

UpgradeProtocol parse_upgrade_protocol(std::string_view element) {
    UpgradeProtocol p;
    const size_t slash = element.find('/');
    p.name = element.substr(0, slash);
    if (slash != std::string_view::npos) p.version = element.substr(slash + 1);
    p.valid = is_token(p.name) && (slash == std::string_view::npos || is_token(p.version));
    return p;
}

bool upgrade_allowed(std::string_view name, std::span<const std::string> allowed) {
    for (const std::string& a : allowed) {
        if (iequals(name, a)) return true;
    }
    return false;
}

namespace {

// Whether the "a, b" list `list` already holds an element equal to `element` (case-insensitive).
bool holds(std::string_view list, std::string_view element) {
    bool found = false;
    for_each_list_element(list, [&](std::string_view e) {
        found = found || iequals(e, element);
        return !found;
    });
    return found;
}

}  // namespace

size_t filter_upgrade(std::span<const Header> headers, std::span<const std::string> allowed, std::string& out) {
    const size_t start = out.size();
    size_t n = 0;
    for (const Header& h : headers) {
        if (!iequals(h.name, "upgrade")) continue;
        for_each_list_element(h.value, [&](std::string_view element) {
            const UpgradeProtocol p = parse_upgrade_protocol(element);
            if (!p.valid || !upgrade_allowed(p.name, allowed)) return true;
            if (n > 0 && holds(std::string_view(out).substr(start), element)) return true;
            if (n > 0) out += ", ";
            out += element;
            ++n;
            return true;
        });
    }
    return n;
}

bool upgrade_accepted(std::span<const Header> answer_headers, std::string_view offered) {
    bool any = false;
    for (const Header& h : answer_headers) {
        if (!iequals(h.name, "upgrade")) continue;
        const bool ok = for_each_list_element(h.value, [&](std::string_view element) {
            const UpgradeProtocol got = parse_upgrade_protocol(element);
            if (!got.valid) return false;
            bool match = false;
            for_each_list_element(offered, [&](std::string_view o) {
                const UpgradeProtocol want = parse_upgrade_protocol(o);
                match = want.valid && iequals(want.name, got.name) &&
                        (want.version.empty() || got.version.empty() || iequals(want.version, got.version));
                return !match;
            });
            any = any || match;
            return match;
        });
        if (!ok) return false;
    }
    return any;
}

}  // namespace dlba::http
