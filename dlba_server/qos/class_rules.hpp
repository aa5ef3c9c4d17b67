// The QoS class of a request: the service's rules (config/qos_section.hpp) in order, the first that matches wins,
// no match is class 7 (the default). Pure: no state, no allocation; the cookies are read with the one cookie
// splitter (http/cookie.hpp), so a rule sees the same pairs the cookie policy does.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/qos_section.hpp"

namespace dlba::server {

struct ClassKeys {
    std::string_view target;   // the request target as received ("/checkout/pay?x=1")
    bool tls = false;          // the client came in over TLS
    std::string_view cookies;  // every Cookie field value of the request joined with "; " ("" when none)
};

bool rule_matches(const QosClassRule& rule, const ClassKeys& request);
uint8_t classify(const std::vector<QosClassRule>& rules, const ClassKeys& request);

}  // namespace dlba::server
