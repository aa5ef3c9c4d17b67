#include "config/redirect_section.hpp"

#include <string>

#include "config/backup_chain.hpp"
#include "config/reader.hpp"

namespace dlba {

namespace {

RedirectTemplate read_template(const ConfigReader& in, const libconfig::Setting& b, const char* key) {
    const std::string text = in.text(b, key, std::nullopt);
    std::string why;
    std::optional<RedirectTemplate> t = RedirectTemplate::parse(text, &why);
    if (!t) in.refuse(b[key], "'" + b[key].getPath() + "' = \"" + text + "\" " + why);
    return std::move(*t);
}

}  // namespace

void read_backend_redirect(const ConfigReader& in, const libconfig::Setting& b, BackendConfig& be) {
    if (b.exists("redirect")) be.redirect = read_template(in, b, "redirect");
    if (b.exists("backup") && b.exists("backup_url")) {
        in.refuse(b["backup_url"], "a back end has 'backup' or 'backup_url', not both, in " + ConfigReader::path_of(b));
    }
    if (b.exists("backup")) be.backup = read_backend_key(in, b["backup"]);
    if (b.exists("backup_url")) be.backup_url = read_template(in, b, "backup_url");
}

void resolve_backups(const ConfigReader& in, const libconfig::Setting& list, std::vector<BackendConfig>& backends) {
    for (size_t i = 0; i < backends.size(); ++i) {
        BackendConfig& be = backends[i];
        if (be.backup.empty()) continue;
        for (size_t j = 0; j < backends.size(); ++j) {
            if (backends[j].key == be.backup) be.backup_index = j;
        }
        const libconfig::Setting& at = list[static_cast<int>(i)]["backup"];
        if (!be.backup_index) in.refuse(at, "no back end with key '" + be.backup + "' in 'backends'");
    }
    const std::vector<BackupLink> links = backup_links(backends);
    const ChainCheck check = check_backup_chains(links);
    if (check.problem == ChainProblem::none) return;
    const libconfig::Setting& b = list[static_cast<int>(check.at)];
    const libconfig::Setting& at = b.exists("backup") ? b["backup"] : b;
    std::string chain = backends[check.at].key;
    size_t k = check.at;
    for (size_t hop = 0; hop <= kMaxBackupDepth && backends[k].backup_index; ++hop) {
        k = *backends[k].backup_index;
        chain += " -> " + backends[k].key;
        if (k == check.at) break;  // round the cycle once
    }
    if (check.problem == ChainProblem::cycle) {
        in.refuse(at, "the backup chain of back end '" + backends[check.at].key + "' is a cycle (" + chain + ")");
    }
    in.refuse(at, "the backup chain of back end '" + backends[check.at].key + "' is deeper than " +
                      std::to_string(kMaxBackupDepth) + " (" + chain + (backends[k].backup_url ? " -> backup_url" : "") +
                      ")");
}

std::vector<BackupLink> backup_links(const std::vector<BackendConfig>& backends) {
    std::vector<BackupLink> links(backends.size());
    for (size_t i = 0; i < backends.size(); ++i) {
        links[i].backend = backends[i].backup_index;
        links[i].url = backends[i].backup_url.has_value();
    }
    return links;
}

void read_service_mode(const ConfigReader& in, const libconfig::Setting& g, ServiceConfig& sv) {
    static constexpr std::string_view kModes[] = {"proxy", "redirect"};
    sv.mode = in.choice(g, "mode", ServiceMode::proxy, kModes);
    sv.redirect_code = static_cast<uint16_t>(in.integer(g, "redirect_code", 302, 301, 308));
    if (sv.redirect_code != 301 && sv.redirect_code != 302 && sv.redirect_code != 303 && sv.redirect_code != 307 &&
        sv.redirect_code != 308) {
        in.refuse(g["redirect_code"], "'" + g["redirect_code"].getPath() + "' must be 301, 302, 303, 307 or 308");
    }
    sv.redirect_close = in.boolean(g, "redirect_close", false);
    if (sv.mode == ServiceMode::proxy && (g.exists("redirect_code") || g.exists("redirect_close"))) {
        const char* key = g.exists("redirect_code") ? "redirect_code" : "redirect_close";
        in.refuse(g[key], "'" + g[key].getPath() + "' needs mode = \"redirect\" in " + ConfigReader::path_of(g));
    }
}

void check_service_backends(const ConfigReader& in, const libconfig::Setting& g, const ServiceConfig& sv,
                            const std::vector<BackendConfig>& backends) {
    const libconfig::Setting& list = g["backends"];
    for (size_t j = 0; j < sv.backends.size(); ++j) {
        const BackendConfig& be = backends[sv.backends[j]];
        const libconfig::Setting& at = list[static_cast<int>(j)];
        if (sv.mode == ServiceMode::proxy) {
            if (!be.has_address) {
                in.refuse(at, "back end '" + be.key + "' has no 'address', so proxy service '" + sv.name +
                                  "' cannot use it (only a mode = \"redirect\" service can)");
            }
            if (be.backup_index || be.backup_url) {
                in.refuse(at, "back end '" + be.key + "' has a backup, which only redirect services use so far; "
                                  "proxy service '" + sv.name + "' cannot use it");
            }
            continue;
        }
        if (!be.redirect) {
            in.refuse(at, "back end '" + be.key + "' of redirect service '" + sv.name + "' has no 'redirect' URL");
        }
        // A request its backup takes is redirected to the backup's URL, so every back end of the chain needs one.
        for (std::optional<size_t> k = be.backup_index; k; k = backends[*k].backup_index) {
            if (!backends[*k].redirect) {
                in.refuse(at, "back end '" + backends[*k].key + "', in the backup chain of '" + be.key +
                                  "' of redirect service '" + sv.name + "', has no 'redirect' URL");
            }
            if (backends[*k].backup_url) break;
        }
    }
}

}  // namespace dlba
