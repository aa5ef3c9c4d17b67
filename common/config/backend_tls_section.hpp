// A back end's 'tls' group: whether the DLBA server speaks TLS to it, how it checks the back end's certificate, the
// name it sends (SNI) and the client certificate it shows.
//
//   backends = ( { key = "a"; address = "10.0.0.1"; port = 443;
//                  tls = { enabled = true; verify = "required"; ca_file = "/etc/dlba/backend-ca.pem";
//                          sni = "web.example"; certificate = "..."; key = "..."; }; } );
#pragma once

#include <cstdint>
#include <string>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

enum class BackendVerify : uint8_t {
    required,  // the back end's certificate must chain to ca_file (or the system's CAs) and name the back end
    none,      // encrypted, not authenticated (a lab, or a back end on the same host)
};

enum class BackendSni : uint8_t {
    none,  // sni = "": no server name; a verified certificate must name the back end's IP address
    name,  // sni = "NAME": that name, which a verified certificate must carry
    host,  // sni = "host": the request's Host (without port); pooled connections are reused for the same host only
};

struct BackendTlsConfig {
    bool enabled = false;
    BackendVerify verify = BackendVerify::required;
    std::string ca_file;  // PEM; empty: the system's default CA store
    BackendSni sni = BackendSni::none;
    std::string sni_name;      // sni = "NAME"
    std::string certificate;   // optional client certificate (PEM chain) and its key: both or neither
    std::string key;
    int line = 0;  // where the group starts, and where each file was set: dlba-server names the line of an unusable one
    int ca_line = 0;
    int certificate_line = 0;
    int key_line = 0;
};

// The group is optional (disabled when absent).
BackendTlsConfig read_backend_tls(const ConfigReader& in, const libconfig::Setting& backend);

}  // namespace dlba
