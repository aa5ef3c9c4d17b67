#include "metrics/prom_text.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dlba::metrics {

namespace {

bool name_char(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

const char* type_name(Type t) {
    switch (t) {
        case Type::counter: return "counter";
        case Type::gauge: return "gauge";
        case Type::histogram: return "histogram";
    }
    return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Integers below 2^53 exactly, without an exponent.
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return std::string(buf) == "-0" ? "0" : buf;
    }
    // The shortest spelling that reads back as the same double (0.0005, not 0.00050000000000000001).
    char buf[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

bool valid_metric_name(std::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, true)) return false;
    return true;
}

bool valid_label_name(std::string_view name) {
    if (name.empty() || name.starts_with("__")) return false;
    for (size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, false)) return false;
    return true;
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
    if (find(name)) return;
    families_.push_back({std::string(name), type, std::string(help), {}});
}

Exposition::Family* Exposition::find(std::string_view name) {
    for (Family& f : families_)
        if (f.name == name) return &f;
    return nullptr;
}

void Exposition::line(Family& f, std::string_view suffix, const Labels& labels, const std::string& value,
                      const std::pair<std::string, std::string>* extra) {
    std::string& o = f.samples;
    o += f.name;
    o += suffix;
    if (!labels.empty() || extra) {
        o += '{';
        bool first = true;
        const auto put = [&](const std::string& k, const std::string& v) {
            if (!first) o += ',';
            first = false;
            o += k;
            o += "=\"";
            o += escape_label_value(v);
            o += '"';
        };
        for (const auto& [k, v] : labels) put(k, v);
        if (extra) put(extra->first, extra->second);
        o += '}';
    }
    o += ' ';
    o += value;
    o += '\n';
}

void Exposition::add(std::string_view name, const Labels& labels, uint64_t value) {
    if (Family* f = find(name)) line(*f, "", labels, std::to_string(value));
}

void Exposition::add_real(std::string_view name, const Labels& labels, double value) {
    if (Family* f = find(name)) line(*f, "", labels, format_value(value));
}

void Exposition::add_histogram(std::string_view name, const Labels& labels, std::span<const double> bounds,
                               std::span<const uint64_t> cumulative, double sum) {
    Family* f = find(name);
    if (!f || cumulative.size() != bounds.size() + 1) return;
    for (size_t i = 0; i <= bounds.size(); ++i) {
        const std::pair<std::string, std::string> le{"le", i < bounds.size() ? format_value(bounds[i]) : "+Inf"};
        line(*f, "_bucket", labels, std::to_string(cumulative[i]), &le);
    }
    line(*f, "_sum", labels, format_value(sum));
    line(*f, "_count", labels, std::to_string(cumulative.back()));
}

std::string Exposition::text() const {
    std::string out;
    for (const Family& f : families_) {
        out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
        out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
        out += f.samples;
    }
    return out;
}

}  // namespace dlba::metrics
