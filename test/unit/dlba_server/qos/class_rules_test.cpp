// QoS class rules: every condition of a rule must hold, the first matching rule wins, no match is class 7.
#include <catch2/catch.hpp>

#include "qos/class_rules.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

QosClassRule rule(uint8_t cls) {
    QosClassRule r;
    r.cls = cls;
    return r;
}

// The example: /checkout/ first, then TLS, then the gold tier.
std::vector<QosClassRule> example() {
    QosClassRule checkout = rule(0), tls = rule(1), gold = rule(2);
    checkout.path_prefix = "/checkout/";
    tls.tls = true;
    gold.cookie_name = "tier";
    gold.cookie_value = "gold";
    return {checkout, tls, gold};
}

}  // namespace

TEST_CASE("class rules: first match wins, no match is class 7", "[qos]") {
    const auto rules = example();
    struct Case {
        const char* what;
        ClassKeys keys;
        uint8_t cls;
    } cases[] = {
        {"checkout over plain HTTP", {"/checkout/pay", false, ""}, 0},
        {"checkout over TLS: the first rule wins", {"/checkout/pay?x=1", true, "tier=gold"}, 0},
        {"prefix means prefix", {"/checkout", false, ""}, 7},
        {"not a prefix further in", {"/shop/checkout/", false, ""}, 7},
        {"any TLS request", {"/", true, ""}, 1},
        {"gold over plain", {"/a", false, "sid=1; tier=gold"}, 2},
        {"silver is not gold", {"/a", false, "tier=silver"}, 7},
        {"a value is compared whole", {"/a", false, "tier=golden"}, 7},
        {"the name is compared whole", {"/a", false, "xtier=gold"}, 7},
        {"a second cookie of that name carries the value", {"/a", false, "tier=silver; tier=gold"}, 2},
        {"spaces around pairs", {"/a", false, "  a=1 ;  tier=gold  "}, 2},
        {"nothing", {"/", false, ""}, 7},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        CHECK(classify(rules, c.keys) == c.cls);
    }
    CHECK(classify({}, {"/checkout/", true, "tier=gold"}) == kQosDefaultClass);
}

TEST_CASE("class rules: all conditions of a rule must hold; a bare cookie name asks for presence", "[qos]") {
    QosClassRule r = rule(3);
    r.path_prefix = "/new/";
    r.tls = false;
    r.cookie_name = "beta";  // any value
    CHECK(rule_matches(r, {"/new/x", false, "beta=1"}));
    CHECK(rule_matches(r, {"/new/x", false, "beta="}));
    CHECK_FALSE(rule_matches(r, {"/new/x", true, "beta=1"}));   // tls = false
    CHECK_FALSE(rule_matches(r, {"/old/x", false, "beta=1"}));  // path
    CHECK_FALSE(rule_matches(r, {"/new/x", false, "alpha=1"}));  // cookie
    CHECK_FALSE(rule_matches(r, {"/new/x", false, ""}));
}
