// The settings of redirect services (seed 002's HTTP redirection), spread over the sections they belong to:
// a service's `mode`, `redirect_code` and `redirect_close`; a back end's `redirect` URL template and its backup
// (`backup = "KEY"` or `backup_url`); and the checks that tie them together (every back end of a redirect service
// has a URL, every back end of a proxy service an address, backup chains without cycles and at most 8 deep).
#pragma once

#include <vector>

#include "config/backends_section.hpp"
#include "config/backup_chain.hpp"
#include "config/services_section.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

// A back end's `redirect`, `backup` and `backup_url` (the backup's key is resolved by resolve_backups).
void read_backend_redirect(const ConfigReader& in, const libconfig::Setting& b, BackendConfig& be);
// Every back end's `backup` key to its index; an unknown key, a cycle or a chain deeper than 8 is refused at the
// back end's entry in `list` (the 'backends' list).
void resolve_backups(const ConfigReader& in, const libconfig::Setting& list, std::vector<BackendConfig>& backends);
// A service's `mode`, `redirect_code` and `redirect_close`.
void read_service_mode(const ConfigReader& in, const libconfig::Setting& g, ServiceConfig& sv);
// What a service's mode asks of its back ends (`g` is the service's entry, for file:line).
void check_service_backends(const ConfigReader& in, const libconfig::Setting& g, const ServiceConfig& sv,
                            const std::vector<BackendConfig>& backends);
// The links of every back end, in order (for follow_backup).
std::vector<BackupLink> backup_links(const std::vector<BackendConfig>& backends);

}  // namespace dlba
