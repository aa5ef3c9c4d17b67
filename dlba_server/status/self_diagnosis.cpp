#include "status/self_diagnosis.hpp"

#include <set>

namespace dlba::server {

Diagnosis diagnose(const Generation& gen, int64_t now_ms) {
    const ServerConfig& server = gen.server();
    std::set<size_t> services;
    for (const ListenerConfig& l : server.listeners) services.insert(l.service_index);
    if (services.empty()) return {};
    std::string names;
    for (const size_t s : services) {
        if (s >= gen.config.services.size()) continue;
        const ServiceConfig& service = gen.config.services[s];
        for (const size_t b : service.backends) {
            if (b < gen.backends.size() && gen.backends[b]->usable_for_new(now_ms)) return {};
        }
        names += (names.empty() ? "" : ", ") + service.name;
    }
    return {false, "no usable back end in any listener's service (" + names + ")"};
}

}  // namespace dlba::server
