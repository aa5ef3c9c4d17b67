#include "load_meter.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/table_format.hpp"

namespace dlba::dlbad {

namespace {
constexpr uint32_t kSampleMs = 500;
constexpr uint64_t kCpuWindowMs = 1000;  // the cpu share is taken over about the last second
constexpr uint32_t kStopCheckMs = 50;
}  // namespace

std::optional<CpuTimes> parse_proc_stat(const std::string& text) {
    std::istringstream in(text);
    std::string label;
    if (!(in >> label) || label != "cpu") return std::nullopt;
    CpuTimes t;
    uint64_t v = 0;
    int fields = 0;
    // user nice system idle iowait irq softirq steal; guest and guest_nice are already in user and nice.
    while (fields < 8 && in >> v) {
        t.total += v;
        if (fields == 3 || fields == 4) t.idle += v;
        ++fields;
    }
    if (fields < 4) return std::nullopt;
    return t;
}

std::optional<uint32_t> busy_pct(const CpuTimes& before, const CpuTimes& after) {
    if (after.total <= before.total || after.idle < before.idle) return std::nullopt;
    const uint64_t total = after.total - before.total;
    const uint64_t idle = std::min(after.idle - before.idle, total);
    return static_cast<uint32_t>((100 * (total - idle) + total / 2) / total);
}

std::optional<uint32_t> connections_pct(uint64_t open, uint32_t max_connections) {
    if (max_connections == 0) return std::nullopt;
    return static_cast<uint32_t>(std::min<uint64_t>(100, 100 * open / max_connections));
}

std::optional<uint64_t> open_connections_of(const std::string& status_table) {
    const auto doc = nlohmann::json::parse(status_table, nullptr, false);
    std::string err;
    const auto t = doc.is_discarded() ? std::nullopt : io::Table::from_json(doc, &err);
    if (!t) return std::nullopt;
    size_t name_col = SIZE_MAX, value_col = SIZE_MAX;
    for (size_t i = 0; i < t->columns.size(); ++i) {
        if (t->columns[i].name == "counter") name_col = i;
        if (t->columns[i].name == "value") value_col = i;
    }
    if (name_col == SIZE_MAX || value_col == SIZE_MAX) return std::nullopt;
    for (const auto& row : t->rows) {
        if (row.size() <= std::max(name_col, value_col)) continue;
        if (row[name_col] == "connections_open" && row[value_col].is_number_unsigned()) {
            return row[value_col].get<uint64_t>();
        }
    }
    return std::nullopt;
}

LoadMeter::LoadMeter(const LoadConfig& config, uint32_t max_connections, LocalLink& link, const TimeSource& time)
    : config_(config), max_connections_(max_connections), link_(link), time_(time) {}

LoadMeter::~LoadMeter() {
    request_stop();
    join();
}

void LoadMeter::start() {
    // Off, or the connections source without a DLBA server (the prototype): the load stays "not known".
    if (!config_.enabled || (config_.source == LoadSource::connections && max_connections_ == 0)) return;
    thread_ = std::thread([this] {
        while (!stop_.load(std::memory_order_relaxed)) {
            sample_once();
            for (uint32_t waited = 0; waited < kSampleMs && !stop_.load(); waited += kStopCheckMs) {
                time_.sleep_ms(kStopCheckMs);
            }
        }
    });
}

void LoadMeter::join() {
    if (thread_.joinable()) thread_.join();
}

void LoadMeter::sample_once() {
    std::optional<uint32_t> load;
    if (config_.source == LoadSource::connections) {
        const LinkReply r = link_.server_status();
        if (r.answered()) {
            if (const auto open = open_connections_of(r.answer)) load = connections_pct(*open, max_connections_);
        }
    } else {
        std::ifstream f("/proc/stat");
        std::string line;
        const auto now = std::getline(f, line) ? parse_proc_stat(line) : std::nullopt;
        const uint64_t now_ms = time_.monotonic_ms();
        if (now && last_cpu_) load = busy_pct(*last_cpu_, *now);
        // Keep the older reading until a window has passed: the share is over about the last second.
        if (now && (!last_cpu_ || now_ms - last_cpu_ms_ >= kCpuWindowMs)) {
            last_cpu_ = now;
            last_cpu_ms_ = now_ms;
        }
        if (!now) last_cpu_.reset();
        if (!load) load = load_pct();  // within the first window, the previous figure stands
    }
    load_.store(load.value_or(kUnknown), std::memory_order_relaxed);
}

std::optional<uint32_t> LoadMeter::load_pct() const {
    const uint32_t v = load_.load(std::memory_order_relaxed);
    return v == kUnknown ? std::nullopt : std::optional<uint32_t>(v);
}

}  // namespace dlba::dlbad
