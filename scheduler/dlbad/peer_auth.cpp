#include "peer_auth.hpp"

#include "auth/hmac.hpp"
#include "config/peer_settings.hpp"
#include "net_types.hpp"

namespace dlba::dlbad {

namespace {

std::vector<std::string> ids_of(const auth::KeyRing& ring) {
    std::vector<std::string> ids;
    for (const auth::PeerKey& k : ring.all()) ids.push_back(auth::key_id(k));
    return ids;
}

}  // namespace

PeerAuth::PeerAuth(const ArrayConfig& config, uint16_t node)
    : signer(config.failover.ring(), node),
      heartbeats("dlbad[node " + std::to_string(node) + "] heartbeat", peer_guard_settings(config)),
      config_requests("dlbad[node " + std::to_string(node) + "] config port", peer_guard_settings(config)),
      sweep_answers("dlbad[node " + std::to_string(node) + "] status sweep", peer_guard_settings(config)),
      status_requests("dlbad[node " + std::to_string(node) + "] status port", peer_guard_settings(config)),
      keys(config.failover.peer_keys.all().size()),
      key_ids(ids_of(config.failover.ring())),
      insecure(config.failover.peer_keys.empty()) {}

void add_auth_meta(const PeerAuth& a, nlohmann::json& meta) {
    meta["auth.keys"] = a.keys;
    meta["auth.insecure"] = a.insecure;
    meta["auth.key_ids"] = a.key_ids;
    const auth::PeerGuard* guards[] = {&a.heartbeats, &a.config_requests, &a.sweep_answers, &a.status_requests};
    const auth::LastDrop* last = nullptr;
    auth::LastDrop lasts[4];
    for (size_t r = 0; r < auth::kDropReasons; ++r) {
        uint64_t n = 0;
        for (const auth::PeerGuard* g : guards) n += g->drops().get(static_cast<auth::Drop>(r));
        meta[std::string("auth.dropped.") + auth::drop_name(static_cast<auth::Drop>(r))] = n;
    }
    for (size_t i = 0; i < 4; ++i) {
        if (guards[i]->drops().total() == 0) continue;
        lasts[i] = guards[i]->drops().last();
        if (!last || lasts[i].unix_s >= last->unix_s) last = &lasts[i];
    }
    meta["auth.last_drop"] = last ? nlohmann::json(std::string(auth::drop_name(last->reason)) + " from " +
                                                   format_ipv4(last->from_ip) + " at " + std::to_string(last->unix_s))
                                  : nlohmann::json(nullptr);
}

}  // namespace dlba::dlbad
