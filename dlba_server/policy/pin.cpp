#include "policy/pin.hpp"

#include "auth/hmac.hpp"
#include "http/cookie.hpp"
#include "rewrite/head_fields.hpp"

namespace dlba::server {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// The same length assumed: the time taken does not depend on where they differ.
bool same_tag(std::string_view a, std::string_view b) {
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace

PinKey derive_pin_key(const PinConfig& pin, const auth::KeyRing& peer_keys) {
    PinKey k;
    if (pin.secret) {
        k.key.bytes = *pin.secret;
        k.source = PinKeySource::secret;
    } else if (!peer_keys.empty()) {
        auth::Tag t{};
        if (auth::hmac_sha256(peer_keys.signing(), {"dlba pin key"}, &t)) {
            k.key.bytes = t;
            k.source = PinKeySource::peer_key;
        }
    }
    return k;  // public_key: all zeros
}

const char* pin_key_source_name(PinKeySource s) {
    switch (s) {
        case PinKeySource::secret: return "secret";
        case PinKeySource::peer_key: return "peer_key";
        case PinKeySource::public_key: return "public";
    }
    return "?";
}

std::string_view pin_path(std::string_view target) {
    if (target.empty()) return {};
    if (target.front() != '/') {
        const size_t scheme = target.find("://");
        if (scheme == std::string_view::npos) return {};
        const size_t slash = target.find_first_of("/?#", scheme + 3);
        if (slash == std::string_view::npos || target[slash] != '/') return "/";
        target.remove_prefix(slash);
    }
    return target.substr(0, target.find_first_of("?#"));
}

PinTable::PinTable(const ServiceConfig& service, const std::vector<BackendConfig>& backends, const PinKey& key)
    : enabled_(service.pin.enabled), pin_(service.pin) {
    if (!enabled_) return;
    for (size_t i : service.backends) {
        const std::string& k = backends[i].key;
        auth::Tag t{};
        const char nul = '\0';
        if (!auth::hmac_sha256(key.key, {"dlba pin v1", {&nul, 1}, service.name, {&nul, 1}, k}, &t)) {
            enabled_ = false;  // no HMAC in this OpenSSL: no pins rather than values anyone could make
            return;
        }
        std::string v = k;
        v += '.';
        for (size_t b = 0; b < kPinTagBytes; ++b) {
            v += kHex[t[b] >> 4];
            v += kHex[t[b] & 15];
        }
        keys_.push_back(k);
        values_.push_back(std::move(v));
    }
}

PinMatch PinTable::match(std::string_view target) const {
    PinMatch m;
    if (!enabled_) return m;
    const std::string_view path = pin_path(target);
    if (path.empty()) return m;
    for (size_t i = 0; i < pin_.entry.size(); ++i) {
        if (pin_.entry[i].matches(path)) {
            m.entry = static_cast<int>(i);
            break;
        }
    }
    if (!m.applies()) return m;
    for (const PinPattern& p : pin_.exit) m.exit = m.exit || p.matches(path);
    return m;
}

PinLookup PinTable::decode(std::string_view value) const {
    const size_t dot = value.rfind('.');
    if (dot == std::string_view::npos || value.size() - dot - 1 != kPinTagHex) return {PinFound::invalid, 0};
    const auto index = http::find_server_key(value.substr(0, dot), keys_);
    if (!index) return {PinFound::invalid, 0};
    const std::string_view want = std::string_view(values_[*index]).substr(dot + 1);
    if (!same_tag(value.substr(dot + 1), want)) return {PinFound::invalid, 0};
    return {PinFound::valid, *index};
}

PinLookup PinTable::lookup(std::string_view cookie_header) const {
    PinLookup found;
    if (!enabled_) return found;
    http::for_each_cookie(cookie_header, [&](const http::CookiePair& pair) {
        if (pair.name != pin_.cookie) return true;
        found = decode(pair.value);
        return found.found != PinFound::valid;
    });
    return found;
}

void PinTable::write(const PinMatch& m, std::string_view value, uint32_t max_age, bool tls, std::string& out) const {
    out.clear();
    out += pin_.cookie;
    out += '=';
    out += value;
    out += "; Path=";
    out += pin_.entry[static_cast<size_t>(m.entry)].directory();
    out += "; Max-Age=";
    append_number(out, max_age);
    out += "; HttpOnly";
    if (tls) out += "; Secure";
}

void PinTable::write_pin(const PinMatch& m, size_t index, bool tls, std::string& out) const {
    write(m, values_[index], pin_.max_age_s, tls, out);
}

void PinTable::write_unpin(const PinMatch& m, bool tls, std::string& out) const { write(m, {}, 0, tls, out); }

}  // namespace dlba::server
