#include "config/array_config.hpp"

#include "config/config.hpp"

namespace dlba {

const NodeConfig* ArrayConfig::node(uint16_t number) const {
    for (const NodeConfig& n : nodes) {
        if (n.number == number) return &n;
    }
    return nullptr;
}

ArrayConfigResult load_array_config(const std::string& path) {
    ConfigResult loaded = load_config(path);
    if (auto* e = std::get_if<ConfigError>(&loaded)) return std::move(*e);
    ArrayConfig array = std::get<Config>(std::move(loaded));  // the server sections are dropped here
    return array;
}

}  // namespace dlba
