// QoS settings: a back end's max_inflight, a service's queue and class rules (config/qos_section.hpp).
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// Lines 1-3: the array; the QoS settings from line 4.
const std::string kQosText = kServerArrayText + R"(backends = ( { key = "a"; address = "10.0.0.1"; max_inflight = 4; },
             { key = "b"; address = "10.0.0.2"; } );
services = ( { name = "s"; backends = ["a", "b"];
               queue = { timeout_ms = 2500; max_queued = 30; };
               classes = ( { class = 0; path_prefix = "/checkout/"; },
                           { class = 1; tls = true; },
                           { class = 2; cookie = "tier=gold"; },
                           { class = 3; cookie = "beta"; path_prefix = "/new/"; tls = false; } ); },
             { name = "plain"; backends = ["b"]; } );
server = { listeners = ( { port = 80; service = "s"; } ); };
)";

}  // namespace

TEST_CASE("QoS settings load: max_inflight, the queue and the class rules in file order", "[config][qos]") {
    const Config c = loaded(kQosText, "qos.conf");
    CHECK(c.backends[0].max_inflight == 4);
    CHECK(c.backends[1].max_inflight == 0);  // default: unlimited
    const ServiceQosConfig& q = c.services[0].qos;
    CHECK(q.queue.timeout_ms == 2500);
    CHECK(q.queue.max_queued == 30);
    REQUIRE(q.classes.size() == 4);
    CHECK(q.classes[0].cls == 0);
    CHECK(q.classes[0].path_prefix == "/checkout/");
    CHECK_FALSE(q.classes[0].tls);
    CHECK(q.classes[1].cls == 1);
    CHECK(q.classes[1].tls == std::optional<bool>(true));
    CHECK(q.classes[2].cookie_name == "tier");
    CHECK(q.classes[2].cookie_value == std::optional<std::string>("gold"));
    CHECK(q.classes[3].cookie_name == "beta");
    CHECK_FALSE(q.classes[3].cookie_value);  // present at all
    CHECK(q.classes[3].tls == std::optional<bool>(false));
    CHECK(q.classes[3].path_prefix == "/new/");
    const ServiceQosConfig& plain = c.services[1].qos;
    CHECK(plain.queue.timeout_ms == 5000);  // defaults
    CHECK(plain.queue.max_queued == 1000);
    CHECK(plain.classes.empty());
}

TEST_CASE("QoS settings errors name file, line and reason", "[config][qos]") {
    const std::string& g = kQosText;
    check_refusals("qos.conf", {
        {"negative max_inflight", replace(g, "max_inflight = 4", "max_inflight = -1"), 4, "max_inflight"},
        {"max_inflight not a number", replace(g, "max_inflight = 4", "max_inflight = \"4\""), 4, "max_inflight"},
        {"unknown queue key", replace(g, "max_queued = 30", "max_queue = 30"), 7, "unknown setting 'max_queue'"},
        {"zero queue timeout", replace(g, "timeout_ms = 2500", "timeout_ms = 0"), 7, "timeout_ms"},
        {"queue not a group", replace(g, "queue = { timeout_ms = 2500; max_queued = 30; }", "queue = 3"), 7, "queue"},
        {"class out of range", replace(g, "class = 2;", "class = 8;"), 10, "class"},
        {"class missing", replace(g, "{ class = 1; tls = true; }", "{ tls = true; }"), 9, "class"},
        {"rule without a condition", replace(g, "{ class = 1; tls = true; }", "{ class = 1; }"), 9,
         "needs a condition"},
        {"unknown rule key", replace(g, "tls = true;", "secure = true;"), 9, "unknown setting 'secure'"},
        {"path prefix without a slash", replace(g, "\"/checkout/\"", "\"checkout\""), 8, "must start with '/'"},
        {"cookie with a bad name", replace(g, "\"tier=gold\"", "\"ti er=gold\""), 10, "NAME=VALUE"},
        {"cookie with a bad value", replace(g, "\"tier=gold\"", "\"tier=go;ld\""), 10, "NAME=VALUE"},
        {"tls not a boolean", replace(g, "tls = true;", "tls = 1;"), 9, "true or false"},
        {"classes not a list", replace(kServerDefaultsText, "backends = [\"a\"]; }", "backends = [\"a\"]; classes = 3; }"),
         6, "must be a list"},
        {"unknown service key", replace(g, "queue = {", "queues = {"), 7, "unknown setting 'queues'"},
    });
}
