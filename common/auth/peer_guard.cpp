#include "auth/peer_guard.hpp"

#include <arpa/inet.h>

namespace dlba::auth {

namespace {

constexpr uint64_t kLogIntervalS = 10;

std::string ip_text(uint32_t ip) {
    in_addr a{htonl(ip)};
    char buf[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return buf;
}

}  // namespace

PeerGuard::PeerGuard(std::string who, GuardSettings settings)
    : who_(std::move(who)), settings_(std::move(settings)), replay_(settings_.window_us), log_(who_, kLogIntervalS) {}

void PeerGuard::update(GuardSettings settings) {
    const uint64_t window = settings_.window_us;
    settings_ = std::move(settings);
    settings_.window_us = window;  // the replay state was kept for this window
}

bool PeerGuard::is_node_address(uint32_t ip) const {
    for (const auto& [n, node_ip] : settings_.nodes) {
        if (node_ip == ip) return true;
    }
    return false;
}

void PeerGuard::drop(Drop d, uint32_t from_ip, uint64_t now_us, const std::string& what) {
    last_verdict_ = d;
    drops_.count(d, from_ip, 0, now_us / 1'000'000);
    log_.note(d, what + " from " + ip_text(from_ip), now_us / 1'000'000);
}

bool PeerGuard::admit_address(uint32_t from_ip, uint64_t now_us) {
    if (is_node_address(from_ip)) return true;
    drop(Drop::unknown_sender, from_ip, now_us, "a message (not a node's address)");
    return false;
}

bool PeerGuard::sender_matches(uint16_t sender, uint32_t from_ip, bool operator_ok) const {
    if (sender == kOperator) return operator_ok && is_node_address(from_ip);
    const auto it = settings_.nodes.find(sender);
    return it != settings_.nodes.end() && it->second == from_ip;
}

std::optional<Opened> PeerGuard::authenticate(std::string_view bytes, Kind kind, uint32_t from_ip, uint64_t now_us) {
    last_verdict_.reset();
    const std::string what = std::string("a ") + kind_name(kind);
    if (!admit_address(from_ip, now_us)) return std::nullopt;
    const auto e = open(bytes);
    if (!e) {
        drop(Drop::unsigned_message, from_ip, now_us, what);
        return std::nullopt;
    }
    if (!verify(*e, settings_.ring)) {
        drop(Drop::bad_mac, from_ip, now_us, what + " claiming node " + std::to_string(e->header.sender));
        return std::nullopt;
    }
    if (e->header.kind != kind) {
        drop(Drop::replayed, from_ip, now_us, std::string("a ") + kind_name(e->header.kind) + " sent as " + what);
        return std::nullopt;
    }
    return e;
}

bool PeerGuard::admit_sender(const Opened& e, uint32_t from_ip, bool operator_ok, uint64_t now_us,
                             const std::string& what) {
    if (sender_matches(e.header.sender, from_ip, operator_ok)) return true;
    drop(Drop::unknown_sender, from_ip, now_us, what);
    return false;
}

bool PeerGuard::admit_fresh(Freshness f, uint32_t from_ip, uint64_t now_us, const std::string& what) {
    if (f == Freshness::fresh) return true;
    drop(f == Freshness::stale ? Drop::stale : Drop::replayed, from_ip, now_us, what);
    return false;
}

std::optional<Opened> PeerGuard::one_way(std::string_view bytes, Kind kind, uint32_t from_ip, uint64_t now_us) {
    auto e = authenticate(bytes, kind, from_ip, now_us);
    if (!e) return std::nullopt;
    const std::string what = std::string("a ") + kind_name(kind) + " from node " + std::to_string(e->header.sender);
    if (!admit_sender(*e, from_ip, false, now_us, what + " (not that node's address)") ||
        !admit_fresh(replay_.one_way(e->header.sender, e->header.counter, now_us), from_ip, now_us, what)) {
        return std::nullopt;
    }
    return e;
}

std::optional<Opened> PeerGuard::request(std::string_view bytes, Kind kind, uint32_t from_ip, bool operator_ok,
                                         uint64_t now_us) {
    auto e = authenticate(bytes, kind, from_ip, now_us);
    if (!e) return std::nullopt;
    const std::string what = std::string("a ") + kind_name(kind) + " from sender " + std::to_string(e->header.sender);
    if (!admit_sender(*e, from_ip, operator_ok, now_us, what + " (not that sender's address)") ||
        !admit_fresh(replay_.request(e->header.sender, e->header.counter, now_us), from_ip, now_us, what)) {
        return std::nullopt;
    }
    return e;
}

std::optional<Opened> PeerGuard::answer(std::string_view bytes, Kind kind, uint16_t expected_sender, uint64_t nonce,
                                        uint32_t from_ip, uint64_t now_us) {
    auto e = authenticate(bytes, kind, from_ip, now_us);
    if (!e) return std::nullopt;
    const std::string what = std::string("a ") + kind_name(kind) + " from sender " + std::to_string(e->header.sender);
    if (e->header.sender != expected_sender || !sender_matches(e->header.sender, from_ip, false)) {
        drop(Drop::unknown_sender, from_ip, now_us, what + " (not the node asked)");
        return std::nullopt;
    }
    if (e->header.nonce != nonce) {
        drop(Drop::replayed, from_ip, now_us, what + " (the answer to another request)");
        return std::nullopt;
    }
    if (replay_.answer(e->header.counter, now_us) != Freshness::fresh) {
        drop(Drop::stale, from_ip, now_us, what);
        return std::nullopt;
    }
    return e;
}

}  // namespace dlba::auth
