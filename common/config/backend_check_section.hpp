// A back end's 'check' group (active HTTP(S) health check) and 'agent' group (HAProxy-style load agent):
//
//   backends = ( { key = "a"; address = "10.0.0.1"; port = 80;
//                  check = { path = "/health"; interval_ms = 2000; timeout_ms = 1000; rise = 2; fall = 3;
//                            expect_status = 200; };
//                  agent = { port = 9777; interval_ms = 2000; timeout_ms = 1000; }; } );
//
// The check speaks HTTP or HTTPS as the back end's 'tls' group says (same verification and SNI). Both are optional.
#pragma once

#include <cstdint>
#include <string>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct BackendCheckConfig {
    bool enabled = false;           // the group is there
    std::string path = "/";         // request target: origin form, starts with '/', no space or control
    uint32_t interval_ms = 2000;    // between two checks (jittered by the checker)
    uint32_t timeout_ms = 1000;     // connect + TLS + answer head; < interval_ms
    uint32_t rise = 2;              // consecutive successes that bring a failed back end back
    uint32_t fall = 3;              // consecutive failures that fail it
    uint16_t expect_status = 0;     // 0: any 2xx or 3xx; else exactly this status (100..599)
    int line = 0;
};

struct BackendAgentConfig {
    bool enabled = false;
    uint16_t port = 0;              // on the back end's address
    uint32_t interval_ms = 2000;
    uint32_t timeout_ms = 1000;     // connect + the line; < interval_ms
    int line = 0;
};

BackendCheckConfig read_backend_check(const ConfigReader& in, const libconfig::Setting& backend);
BackendAgentConfig read_backend_agent(const ConfigReader& in, const libconfig::Setting& backend);

}  // namespace dlba
