// The whole configuration file: one libconfig file describes the whole array and every node loads the same file.
// Loading validates everything; a bad file is refused as a whole with file:line and a reason. Each section has its
// module here (types and parser); a process that needs only the array sections includes config/array_config.hpp.
#pragma once

#include <string>
#include <variant>

#include "config/array_config.hpp"
#include "config/config_error.hpp"
#include "config/server_sections.hpp"

namespace dlba {

struct Config : ArrayConfig, ServerSections {};

using ConfigResult = std::variant<Config, ConfigError>;

ConfigResult load_config(const std::string& path);
// Same rules on text held in memory (tests, fuzzing, configs received over the wire); `name` stands for the file.
ConfigResult parse_config(const std::string& text, const std::string& name);

}  // namespace dlba
