#include "config/tls_section.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "config/reader.hpp"
#include "hex.hpp"

namespace dlba {

namespace {

std::vector<TicketKey> read_ticket_keys(const ConfigReader& in, const libconfig::Setting& keys) {
    std::vector<TicketKey> out;
    if (!keys.isArray() && !keys.isList()) in.refuse(keys, "'tls.ticket_keys' must be a list of hex strings");
    if (keys.getLength() > 8) in.refuse(keys, "'tls.ticket_keys' holds more than 8 keys");
    std::set<std::string> names;
    for (int i = 0; i < keys.getLength(); ++i) {
        const libconfig::Setting& k = keys[i];
        if (k.getType() != libconfig::Setting::TypeString) in.refuse(k, "'tls.ticket_keys' holds a non-string");
        const std::string_view hex = static_cast<const char*>(k);
        std::array<uint8_t, 80> raw{};
        bool ok = hex.size() == 2 * raw.size();
        for (size_t j = 0; ok && j < raw.size(); ++j) {
            const int hi = hex_digit_value(hex[2 * j]), lo = hex_digit_value(hex[2 * j + 1]);
            ok = hi >= 0 && lo >= 0;
            raw[j] = static_cast<uint8_t>(hi * 16 + lo);
        }
        if (!ok) {
            in.refuse(k, "ticket key " + std::to_string(i + 1) +
                             " must be 160 hex digits (80 bytes: 16 name, 32 HMAC, 32 AES); "
                             "make one with `openssl rand -hex 80`");
        }
        TicketKey key;
        std::copy_n(raw.begin(), 16, key.name.begin());
        std::copy_n(raw.begin() + 16, 32, key.hmac.begin());
        std::copy_n(raw.begin() + 48, 32, key.aes.begin());
        if (!names.insert(std::string(hex.substr(0, 32))).second) {
            in.refuse(k, "ticket key " + std::to_string(i + 1) + " repeats the name (first 16 bytes) of another");
        }
        out.push_back(key);
    }
    return out;
}

}  // namespace

std::optional<TlsConfig> read_tls_section(const ConfigReader& in, const libconfig::Setting& root) {
    if (!root.exists("tls")) return std::nullopt;
    const libconfig::Setting& t = in.group(root, "tls", false);
    in.only_keys(t, {"certificate", "key", "ticket_keys", "ticket_lifetime_s", "provider", "provider_path"});
    TlsConfig tls;
    tls.certificate = in.text(t, "certificate", std::nullopt);
    tls.key = in.text(t, "key", std::nullopt);
    if (tls.certificate.empty()) in.refuse(t["certificate"], "'tls.certificate' is empty");
    if (tls.key.empty()) in.refuse(t["key"], "'tls.key' is empty");
    tls.certificate_line = static_cast<int>(t["certificate"].getSourceLine());
    tls.key_line = static_cast<int>(t["key"].getSourceLine());
    tls.ticket_lifetime_s =
        static_cast<uint32_t>(in.integer(t, "ticket_lifetime_s", tls.ticket_lifetime_s, 60, 604800));
    if (t.exists("ticket_keys")) tls.ticket_keys = read_ticket_keys(in, t["ticket_keys"]);
    tls.provider = in.text(t, "provider", std::string());
    tls.provider_path = in.text(t, "provider_path", std::string());
    if (t.exists("provider")) {
        tls.provider_line = static_cast<int>(t["provider"].getSourceLine());
        if (tls.provider.empty() || tls.provider == "default") {
            in.refuse(t["provider"], "'tls.provider' names a provider to load beside \"default\" (which is always loaded)");
        }
    } else if (t.exists("provider_path")) {
        in.refuse(t["provider_path"], "'tls.provider_path' without 'tls.provider'");
    }
    return tls;
}

}  // namespace dlba
