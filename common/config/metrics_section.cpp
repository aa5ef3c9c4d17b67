#include "config/metrics_section.hpp"

#include "config/reader.hpp"
#include "net_types.hpp"

namespace dlba {

std::optional<MetricsListen> parse_metrics_listen(std::string_view text) {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view host = text.substr(0, colon);
    const std::string_view port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5) return std::nullopt;
    uint32_t p = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return std::nullopt;
        p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    if (p == 0 || p > 65535) return std::nullopt;
    MetricsListen out;
    out.port = static_cast<uint16_t>(p);
    if (!host.empty()) {
        const auto ip = parse_ipv4(host);
        if (!ip) return std::nullopt;
        out.ip = *ip;
    }
    return out;
}

MetricsConfig read_metrics_section(const ConfigReader& in, const libconfig::Setting& root) {
    MetricsConfig m;
    if (!root.exists("metrics")) return m;
    const libconfig::Setting& s = in.group(root, "metrics", false);
    in.only_keys(s, {"listen", "histogram"});
    const std::string listen = in.text(s, "listen", std::string());
    if (!listen.empty()) {
        m.listen = parse_metrics_listen(listen);
        if (!m.listen) {
            in.refuse(s["listen"], "'metrics.listen' = \"" + listen +
                                       "\" is not \"IP:PORT\" or \":PORT\" (port 1..65535; \":9100\" listens on "
                                       "each node's eth0 IP)");
        }
    }
    m.histogram = in.boolean(s, "histogram", m.histogram);
    return m;
}

}  // namespace dlba
