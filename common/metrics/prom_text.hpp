// The Prometheus text exposition format, version 0.0.4: metric families, each with its HELP and TYPE lines and
// then its samples, written in the order the families were declared whatever order the samples came in.
//
//   # HELP dlba_backend_up Whether the back end takes new requests (1) or not (0).
//   # TYPE dlba_backend_up gauge
//   dlba_backend_up{backend="web1"} 1
//
// Label values are escaped (backslash, double quote, line feed), HELP texts too (backslash, line feed). Pure: no
// I/O; dlbad's endpoint serves what text() returns with Content-Type kContentType.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dlba::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class Type : uint8_t { counter, gauge, histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// A sample value: integers exactly, others with enough digits to round-trip; NaN and +Inf / -Inf spelled as the
// format wants.
std::string format_value(double v);
// [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (names starting "__" are reserved for Prometheus).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

class Exposition {
public:
    // Declares a family (a second declaration of the same name is ignored). Names must be valid: they are ours.
    void family(std::string_view name, Type type, std::string_view help);
    // One sample of family `name` (declared before). A counter's or gauge's sample carries the family's name.
    void add(std::string_view name, const Labels& labels, uint64_t value);
    void add_real(std::string_view name, const Labels& labels, double value);
    // A histogram's samples: NAME_bucket{...,le="B"} for each bound and +Inf (cumulative counts, so
    // cumulative.size() == bounds.size() + 1 and the last is the count), NAME_sum and NAME_count.
    void add_histogram(std::string_view name, const Labels& labels, std::span<const double> bounds,
                       std::span<const uint64_t> cumulative, double sum);

    std::string text() const;
    size_t families() const { return families_.size(); }

private:
    struct Family {
        std::string name;
        Type type;
        std::string help;
        std::string samples;  // rendered lines
    };
    Family* find(std::string_view name);
    void line(Family& f, std::string_view suffix, const Labels& labels, const std::string& value,
              const std::pair<std::string, std::string>* extra = nullptr);

    std::vector<Family> families_;
};

}  // namespace dlba::metrics
