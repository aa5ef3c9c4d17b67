// Stateful-URI pinning (services[].pin, config/pin_section.hpp): which requests a service's pin covers, the pin a
// request's Cookie header carries, and the Set-Cookie values that start, refresh and end a pin.
//
// Cookie value: "<back-end key>.<tag>", tag = the first 12 bytes, in hex, of
//     HMAC-SHA256(pin key, "dlba pin v1" NUL service name NUL back-end key)
// where the pin key is pin.secret when set, else derived from the first of failover.peer_keys
// (HMAC-SHA256(peer key, "dlba pin key")), else a fixed public key (the tag then only tells a value this array made
// from one edited by hand or cut short: anyone who reads this can make one). Every node with the same
// configuration makes the same value for a back end, so a pin holds on whichever node the connection lands. The
// values are computed once per configuration generation: looking one up is a compare against each back end's
// (constant time in the tag), with no allocation and no hashing on the request path.
//
// The tag proves that this array issued the value for this service; it does not make the value secret or
// personal: a client that was pinned to two back ends holds a valid value for each (it can pick one, as it can with
// SpServer). Max-Age bounds the pin in the browser; the server does not enforce an age.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keys.hpp"
#include "config/backends_section.hpp"
#include "config/services_section.hpp"

namespace dlba::server {

inline constexpr size_t kPinTagBytes = 12;
inline constexpr size_t kPinTagHex = 2 * kPinTagBytes;

// Where a service's pin key comes from.
enum class PinKeySource : uint8_t { secret, peer_key, public_key };
struct PinKey {
    auth::PeerKey key;
    PinKeySource source = PinKeySource::public_key;
};
// `peer_keys`: failover.peer_keys as configured (empty when none).
PinKey derive_pin_key(const PinConfig& pin, const auth::KeyRing& peer_keys);
const char* pin_key_source_name(PinKeySource s);

// What a request's path is to the pin.
struct PinMatch {
    int entry = -1;     // the first entry pattern that covers it; -1: the pin does not apply
    bool exit = false;  // one of the exit patterns (which lie below an entry): its answer ends the pin
    bool applies() const { return entry >= 0; }
};

// What the request's cookies say.
enum class PinFound : uint8_t {
    none,     // no pin cookie
    valid,    // a value this array issued for one of the service's back ends
    invalid,  // pin cookies, none valid (tampered, cut, another array's, a back end gone from the service)
};
struct PinLookup {
    PinFound found = PinFound::none;
    size_t index = 0;  // among the service's back ends, when valid
};

// The request path of a target: origin-form up to '?' or '#'; absolute-form without scheme and authority ("/" when
// it has no path); "" for anything else ("*").
std::string_view pin_path(std::string_view target);

// One service's pin, built once per configuration generation. A disabled table matches nothing.
class PinTable {
public:
    PinTable() = default;
    PinTable(const ServiceConfig& service, const std::vector<BackendConfig>& backends, const PinKey& key);

    bool enabled() const { return enabled_; }
    const std::string& cookie_name() const { return pin_.cookie; }
    PinMatch match(std::string_view target) const;
    // Over a Cookie header value (several joined with "; " are one): the first pin cookie that is valid wins.
    PinLookup lookup(std::string_view cookie_header) const;
    // One cookie's value as the client sent it: the back end it names, if it is valid.
    PinLookup decode(std::string_view value) const;
    std::string_view value(size_t index) const { return values_[index]; }

    // The Set-Cookie value (written into `out`, cleared first; its capacity is reused) that pins the client to back
    // end `index` below the entry of `m`: "<cookie>=<value>; Path=<entry dir>; Max-Age=<s>; HttpOnly[; Secure]".
    void write_pin(const PinMatch& m, size_t index, bool tls, std::string& out) const;
    // ... that ends it: the same name and Path, an empty value and Max-Age=0.
    void write_unpin(const PinMatch& m, bool tls, std::string& out) const;

private:
    void write(const PinMatch& m, std::string_view value, uint32_t max_age, bool tls, std::string& out) const;

    bool enabled_ = false;
    PinConfig pin_;
    std::vector<std::string> keys_;    // the service's back ends' keys, in its order
    std::vector<std::string> values_;  // "<key>.<tag>" per back end
};

}  // namespace dlba::server
