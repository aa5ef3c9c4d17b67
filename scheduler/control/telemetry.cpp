#include "control/telemetry.hpp"

#include <string>

#include <rte_telemetry.h>

#include "control/control_plane.hpp"

namespace dlba::sched {

namespace {

// Which control plane the callbacks read (they have no user pointer), guarded by its own lock.
std::mutex g_attach_lock;
ControlPlane* g_control = nullptr;
std::mutex* g_control_lock = nullptr;

// Telemetry dict names: alphanumerics, '_' and '/' only ("drop.non_ip" becomes "drop_non_ip").
std::string tel_name(std::string_view s) {
    std::string out(s.substr(0, RTE_TEL_MAX_STRING_LEN - 1));
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '/';
        if (!ok) c = '_';
    }
    return out;
}

void put(rte_tel_data* d, std::string_view name, const nlohmann::json& v) {
    const std::string n = tel_name(name);
    if (v.is_boolean()) {
        rte_tel_data_add_dict_int(d, n.c_str(), v.get<bool>() ? 1 : 0);
    } else if (v.is_number_unsigned()) {
        rte_tel_data_add_dict_u64(d, n.c_str(), v.get<uint64_t>());
    } else if (v.is_number_integer()) {
        rte_tel_data_add_dict_int(d, n.c_str(), static_cast<int>(v.get<int64_t>()));
    } else if (v.is_string()) {
        rte_tel_data_add_dict_string(d, n.c_str(), v.get<std::string>().c_str());
    } else if (v.is_number_float()) {
        rte_tel_data_add_dict_string(d, n.c_str(), v.dump().c_str());
    }
    // null (not known): left out
}

enum class Command { counters, table, role };

int answer(Command which, rte_tel_data* d) {
    std::lock_guard<std::mutex> attached(g_attach_lock);
    if (!g_control) return -1;
    std::lock_guard<std::mutex> control_lock(*g_control_lock);
    rte_tel_data_start_dict(d);
    switch (which) {
        case Command::counters: {
            const io::Table t = g_control->counters_table();
            for (const auto& row : t.rows) {
                if (row.size() == 2 && row[0].is_string()) put(d, row[0].get<std::string>(), row[1]);
            }
            put(d, "rx_accounted", t.meta.value("rx_accounted", nlohmann::json()));
            break;
        }
        case Command::table: {
            const io::Table t = g_control->hash_table(false);
            rte_tel_data_add_dict_u64(d, "version", t.version);
            for (const auto& [k, v] : t.meta.items()) put(d, k, v);
            for (const auto& row : t.rows) {
                if (row.size() < 3 || !row[0].is_number_unsigned()) continue;
                const std::string node = std::to_string(row[0].get<uint64_t>());
                put(d, "node_" + node + "_buckets", row[1]);
                put(d, "node_" + node + "_busy", row[2]);
            }
            break;
        }
        case Command::role: {
            const io::Table t = g_control->status_table();
            rte_tel_data_add_dict_u64(d, "table_version", t.version);
            for (const char* k : {"node", "role", "vip", "lease_ms", "last_sweep", "instance"}) {
                put(d, k, t.meta.value(k, nlohmann::json()));
            }
            break;
        }
    }
    return 0;
}

int on_counters(const char*, const char*, rte_tel_data* d) { return answer(Command::counters, d); }
int on_table(const char*, const char*, rte_tel_data* d) { return answer(Command::table, d); }
int on_role(const char*, const char*, rte_tel_data* d) { return answer(Command::role, d); }

}  // namespace

void telemetry_attach(ControlPlane& control, std::mutex& lock) {
    static const bool registered = [] {
        rte_telemetry_register_cmd("/dlba/counters", on_counters,
                                   "The scheduler's counters (as dlbactl counters). No parameters.");
        rte_telemetry_register_cmd("/dlba/table", on_table,
                                   "The bucket table: size, version, assigned, buckets per node. No parameters.");
        rte_telemetry_register_cmd("/dlba/role", on_role, "The scheduler's node, role and lease. No parameters.");
        return true;
    }();
    (void)registered;
    std::lock_guard<std::mutex> attached(g_attach_lock);
    g_control = &control;
    g_control_lock = &lock;
}

void telemetry_detach() {
    std::lock_guard<std::mutex> attached(g_attach_lock);
    g_control = nullptr;
    g_control_lock = nullptr;
}

}  // namespace dlba::sched
