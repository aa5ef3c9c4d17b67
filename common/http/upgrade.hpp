// HTTP/1.1 protocol upgrade (RFC 9110 §7.8): which of a request's Upgrade offers the proxy passes on to the back
// end, and whether a back end's 101 (Switching Protocols) switches to one of them.
//
//   Upgrade  = #protocol
//   protocol = protocol-name ["/" protocol-version]      (both tokens, compared case-insensitively)
//
// The proxy passes on only the protocols a service allows (`upgrade_protocols`, default "websocket"); a request
// that offers none of them is served as a plain request, its Upgrade field and Connection's "upgrade" dropped (what
// nginx does by default, and Envoy and Traffic Server for "h2c": RFC 9110 lets a server ignore Upgrade). A 101 must
// name in its own Upgrade field only protocols that were passed on (RFC 9110 §15.2.2: a server switches only to
// what the client asked for).
//
// Pure and allocation-free apart from appending to the caller's string.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http/syntax.hpp"

namespace dlba::http {

// One element of an Upgrade list split into its name and version ("" when it has none); valid is false for an
// element that is not protocol-name ["/" protocol-version] (empty, spaces, parameters, "a/b/c").
struct UpgradeProtocol {
    std::string_view name;
    std::string_view version;
    bool valid = false;
};
UpgradeProtocol parse_upgrade_protocol(std::string_view element);

// Whether protocol `name` is one of `allowed` (names, case-insensitive).
bool upgrade_allowed(std::string_view name, std::span<const std::string> allowed);

// Appends to `out` ("a, b" form) the elements of every Upgrade field in `headers` whose protocol is allowed;
// returns how many. Malformed elements and protocols not allowed are left out, as are repeats.
size_t filter_upgrade(std::span<const Header> headers, std::span<const std::string> allowed, std::string& out);

// Whether a 101's fields switch to protocols that were offered: at least one Upgrade field, every element valid and
// matching an element of `offered` (what the proxy sent) by name, and by version when both carry one.
bool upgrade_accepted(std::span<const Header> answer_headers, std::string_view offered);

}  // namespace dlba::http
