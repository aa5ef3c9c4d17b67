// QoS settings (issue 11, "priority classes for requests contending for a back end"): a back end's
// `max_inflight`, and a service's `queue` and `classes`. Read by the backends and services sections; what they mean
// at run time is dlba_server/qos/ (README: "QoS").
//
//   backends = ( { key = "a"; ...; max_inflight = 4; } );      requests in flight per server process, 0 = unlimited
//   services = ( { name = "web"; ...;
//                  queue = { timeout_ms = 5000; max_queued = 1000; };
//                  classes = ( { class = 0; path_prefix = "/checkout/"; },
//                              { class = 1; tls = true; },
//                              { class = 2; cookie = "tier=gold"; } ); } );
//
// A rule's conditions must all hold (a rule has at least one); the first rule that matches gives the class; a
// request no rule matches is class 7. Class 0 is served first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

inline constexpr uint8_t kQosClasses = 8;
inline constexpr uint8_t kQosDefaultClass = 7;
inline constexpr size_t kQosMaxRules = 64;

struct QosClassRule {
    uint8_t cls = kQosDefaultClass;
    std::string path_prefix;   // "" = any path; else the request target must start with it
    std::optional<bool> tls;   // the request came in over TLS (true) or not (false)
    std::string cookie_name;   // "" = no cookie condition
    std::optional<std::string> cookie_value;  // "tier=gold": name and value; "tier": the cookie present at all
};

struct QosQueueConfig {
    uint32_t timeout_ms = 5000;  // longest wait for a slot; then 503 with Retry-After
    uint32_t max_queued = 1000;  // requests of the service waiting at once; one more gets 503 at once (0: no queue)
};

struct ServiceQosConfig {
    QosQueueConfig queue;
    std::vector<QosClassRule> classes;  // in file order: the first match wins
};

// The service's `queue` and `classes` (both optional).
ServiceQosConfig read_service_qos(const ConfigReader& in, const libconfig::Setting& service);
// A back end's `max_inflight` (optional, 0 = unlimited).
uint32_t read_max_inflight(const ConfigReader& in, const libconfig::Setting& backend);

}  // namespace dlba
