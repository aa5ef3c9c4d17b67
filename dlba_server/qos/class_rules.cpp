#include "qos/class_rules.hpp"

#include "http/cookie.hpp"

namespace dlba::server {

bool rule_matches(const QosClassRule& rule, const ClassKeys& request) {
    if (!rule.path_prefix.empty() && !request.target.starts_with(rule.path_prefix)) return false;
    if (rule.tls && *rule.tls != request.tls) return false;
    if (!rule.cookie_name.empty()) {
        bool found = false;
        http::for_each_cookie(request.cookies, [&](const http::CookiePair& pair) {
            if (pair.name != rule.cookie_name) return true;
            if (!rule.cookie_value || pair.value == *rule.cookie_value) {
                found = true;
                return false;
            }
            return true;  // the same name again (another path or domain) may carry the value
        });
        if (!found) return false;
    }
    return true;
}

uint8_t classify(const std::vector<QosClassRule>& rules, const ClassKeys& request) {
    for (const QosClassRule& r : rules) {
        if (rule_matches(r, request)) return r.cls;
    }
    return kQosDefaultClass;
}

}  // namespace dlba::server
