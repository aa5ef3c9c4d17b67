#include "config/server_sections.hpp"

namespace dlba {

const ServiceConfig* ServerSections::service(const std::string& wanted) const {
    for (const ServiceConfig& s : services) {
        if (s.name == wanted) return &s;
    }
    return nullptr;
}

}  // namespace dlba
