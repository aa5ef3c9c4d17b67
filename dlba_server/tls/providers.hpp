// OpenSSL 3 providers for the server's TLS contexts: the default one, and the one `tls.provider` names (a hardware
// accelerator's on a real host). Providers are process-wide and stay loaded once loaded (OpenSSL caches algorithms
// fetched from them); a reload that names another one loads it too, and the status table lists what is active.
#pragma once

#include <string>

#include "config/tls_section.hpp"

namespace dlba::server {

// Loads "default" and `tls.provider` (from tls.provider_path when given), once each. On failure false and
// "file:line: reason" in *err. Called at start and on reload (apply), and on check-reload (not apply: the provider
// is tried in a library context of its own and let go, so a check changes nothing).
bool load_providers(const TlsConfig& tls, const std::string& config_file, bool apply, std::string* err);

// The providers loaded in the default library context, comma-separated ("default,legacy").
std::string active_providers();

}  // namespace dlba::server
