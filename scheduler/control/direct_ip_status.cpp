#include "control/direct_ip_status.hpp"

namespace dlba::sched {

DirectIpList direct_ip_list(const std::vector<NodeConfig>& nodes) {
    DirectIpList list;
    for (const NodeConfig& n : nodes) {
        if (n.direct_ip == 0 || list.count >= pkt::kMaxDirectIps) continue;  // the loader refuses more
        list.ip[list.count] = n.direct_ip;
        list.node[list.count] = n.number;
        ++list.count;
    }
    return list;
}

void direct_ip_columns(std::vector<io::Column>& columns) {
    columns.push_back({"direct_ip", io::ColumnType::ipv4});
    columns.push_back({"direct_served_by", io::ColumnType::string});
    columns.push_back({"direct_packets", io::ColumnType::unsigned_integer});
    columns.push_back({"direct_taken_over", io::ColumnType::unsigned_integer});
    columns.push_back({"direct_takeovers", io::ColumnType::unsigned_integer});
}

void direct_ip_cells(const DirectIps* direct, const NodeConfig& node, std::vector<nlohmann::json>& row) {
    const DirectIpSlot* slot = nullptr;
    for (uint8_t i = 0; direct && node.direct_ip != 0 && i < direct->count(); ++i) {
        if (direct->slot(i).ip == node.direct_ip && direct->slot(i).node == node.number) slot = &direct->slot(i);
    }
    row.push_back(node.direct_ip ? nlohmann::json(format_ipv4(node.direct_ip)) : nlohmann::json(nullptr));
    if (!slot) {
        row.insert(row.end(), 4, nullptr);
        return;
    }
    const DirectMode m = slot->current();
    row.push_back(m == DirectMode::direct ? "self" : m == DirectMode::taken_over ? "buckets" : "returning");
    row.push_back(slot->direct.get());
    row.push_back(slot->taken_over.get());
    row.push_back(slot->takeovers.get());
}

}  // namespace dlba::sched
