#include "config/backend_tls_section.hpp"

#include <array>
#include <string_view>

#include "config/reader.hpp"

namespace dlba {

namespace {

constexpr std::array<std::string_view, 2> kVerifyNames{"required", "none"};

// A DNS name as SNI carries it (RFC 6066 §3: a host name, no trailing dot, no IP literal).
bool is_host_name(std::string_view n) {
    if (n.empty() || n.size() > 253 || n.back() == '.') return false;
    bool all_digits_or_dots = true;
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '.';
        if (!ok) return false;
        if (!((c >= '0' && c <= '9') || c == '.')) all_digits_or_dots = false;
    }
    return !all_digits_or_dots;
}

}  // namespace

BackendTlsConfig read_backend_tls(const ConfigReader& in, const libconfig::Setting& backend) {
    BackendTlsConfig t;
    if (!backend.exists("tls")) return t;
    const libconfig::Setting& g = in.group(backend, "tls", false);
    in.only_keys(g, {"enabled", "verify", "ca_file", "sni", "certificate", "key"});
    t.line = static_cast<int>(g.getSourceLine());
    t.enabled = in.boolean(g, "enabled", true);
    t.verify = in.choice(g, "verify", BackendVerify::required, kVerifyNames);
    t.ca_file = in.text(g, "ca_file", std::string());
    if (g.exists("ca_file")) {
        if (t.ca_file.empty()) in.refuse(g["ca_file"], "'" + g["ca_file"].getPath() + "' is empty");
        t.ca_line = static_cast<int>(g["ca_file"].getSourceLine());
    }
    const std::string sni = in.text(g, "sni", std::string());
    if (sni == "host") {
        t.sni = BackendSni::host;
    } else if (!sni.empty()) {
        if (!is_host_name(sni)) {
            in.refuse(g["sni"], "'" + g["sni"].getPath() + "' = \"" + sni +
                                    "\" must be \"\", \"host\" or a DNS name (no IP address, no trailing dot)");
        }
        t.sni = BackendSni::name;
        t.sni_name = sni;
    }
    t.certificate = in.text(g, "certificate", std::string());
    t.key = in.text(g, "key", std::string());
    if (t.certificate.empty() != t.key.empty()) {
        in.refuse(g, "'" + g.getPath() + "' needs both 'certificate' and 'key' for a client certificate, or neither");
    }
    if (g.exists("certificate")) t.certificate_line = static_cast<int>(g["certificate"].getSourceLine());
    if (g.exists("key")) t.key_line = static_cast<int>(g["key"].getSourceLine());
    if (t.verify == BackendVerify::none && !t.ca_file.empty()) {
        in.refuse(g["ca_file"], "'" + g["ca_file"].getPath() + "' is set but verify = \"none\" would ignore it");
    }
    return t;
}

}  // namespace dlba
