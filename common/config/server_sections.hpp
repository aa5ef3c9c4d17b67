// The DLBA server's sections of the configuration file (server, tls, backends, services) as one aggregate: optional
// in the file, validated whenever present. Only dlba-server and the whole-file tools need them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/backends_section.hpp"
#include "config/server_section.hpp"
#include "config/services_section.hpp"
#include "config/tls_section.hpp"

namespace dlba {

struct ServerSections {
    // Absent (nullopt / empty) when the file has none.
    std::optional<ServerConfig> server;
    std::optional<TlsConfig> tls;
    std::vector<BackendConfig> backends;
    std::vector<ServiceConfig> services;

    const ServiceConfig* service(const std::string& wanted) const;
};

}  // namespace dlba
