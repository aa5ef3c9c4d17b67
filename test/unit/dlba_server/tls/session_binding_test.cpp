// The sealing of a TLS-session binding into ticket appdata: what unseals, and what is refused (tampered, under a key
// no longer configured, malformed), across a ticket-key rotation.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tls/session_binding.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

TicketKey ticket_key(uint8_t seed) {
    TicketKey k;
    for (size_t i = 0; i < k.name.size(); ++i) k.name[i] = static_cast<uint8_t>(seed + i);
    for (size_t i = 0; i < k.hmac.size(); ++i) k.hmac[i] = static_cast<uint8_t>(seed * 3 + i);
    for (size_t i = 0; i < k.aes.size(); ++i) k.aes[i] = static_cast<uint8_t>(seed * 7 + i);
    return k;
}

std::vector<uint8_t> sealed(const BindingKey& key, std::string_view backend) {
    std::array<uint8_t, kSealedMax> buf{};
    const size_t n = seal_binding(key, backend, buf);
    REQUIRE(n > 0);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace

TEST_CASE("a sealed binding unseals to the same back-end key under the same ticket keys", "[tls][binding]") {
    const std::vector<TicketKey> tk = {ticket_key(1)};
    const std::vector<BindingKey> node1 = derive_binding_keys(tk), node2 = derive_binding_keys(tk);
    REQUIRE(node1.size() == 1);
    CHECK(node1[0].mac == node2[0].mac);  // derived, not random: every node of the array gets the same key
    CHECK(node1[0].name == tk[0].name);
    for (const std::string& key : std::vector<std::string>{"1", "web-2", std::string(64, 'k')}) {
        const std::vector<uint8_t> s = sealed(node1[0], key);
        CHECK(s.size() == 1 + 16 + 1 + key.size() + 16);
        const Unsealed u = unseal_binding(node2, s);
        CHECK(u.status == UnsealStatus::ok);
        CHECK(u.backend_key == key);
        CHECK(u.key_index == 0);
    }
}

TEST_CASE("a binding key is neither a ticket key nor the same for two ticket keys", "[tls][binding]") {
    const std::vector<BindingKey> k = derive_binding_keys(std::vector<TicketKey>{ticket_key(1), ticket_key(2)});
    REQUIRE(k.size() == 2);
    CHECK(k[0].mac != k[1].mac);
    CHECK(!std::equal(k[0].mac.begin(), k[0].mac.end(), ticket_key(1).hmac.begin()));
}

TEST_CASE("a tampered binding is refused, whichever byte changed", "[tls][binding]") {
    const std::vector<BindingKey> keys = derive_binding_keys(std::vector<TicketKey>{ticket_key(1)});
    const std::vector<uint8_t> good = sealed(keys[0], "web1");
    for (size_t i = 0; i < good.size(); ++i) {
        std::vector<uint8_t> bad = good;
        bad[i] ^= 0x01;
        INFO("byte " << i);
        const Unsealed u = unseal_binding(keys, bad);
        CHECK(u.status != UnsealStatus::ok);
        CHECK(u.backend_key.empty());
    }
    // A back-end key swapped for another of the same length, tag kept: the tag no longer matches.
    std::vector<uint8_t> swapped = good;
    swapped[18 + 3] = '2';
    CHECK(unseal_binding(keys, swapped).status == UnsealStatus::bad_tag);
}

TEST_CASE("a binding sealed under a ticket key no longer configured, or another array's, is refused",
          "[tls][binding]") {
    const std::vector<BindingKey> old_keys = derive_binding_keys(std::vector<TicketKey>{ticket_key(1)});
    const std::vector<BindingKey> new_keys = derive_binding_keys(std::vector<TicketKey>{ticket_key(2)});
    const std::vector<uint8_t> s = sealed(old_keys[0], "web1");
    CHECK(unseal_binding(new_keys, s).status == UnsealStatus::unknown_key);
    // Same key name, other secret (another array that reused a name): the tag does not verify.
    TicketKey forged = ticket_key(1);
    forged.aes[0] ^= 0xff;
    const std::vector<BindingKey> other = derive_binding_keys(std::vector<TicketKey>{forged});
    CHECK(unseal_binding(other, s).status == UnsealStatus::bad_tag);
    CHECK(unseal_binding({}, s).status == UnsealStatus::unknown_key);
}

TEST_CASE("across a rotation a binding sealed under the previous key still unseals, and says to renew",
          "[tls][binding]") {
    const std::vector<BindingKey> before = derive_binding_keys(std::vector<TicketKey>{ticket_key(1)});
    const std::vector<BindingKey> rotated = derive_binding_keys(std::vector<TicketKey>{ticket_key(2), ticket_key(1)});
    const Unsealed u = unseal_binding(rotated, sealed(before[0], "web3"));
    CHECK(u.status == UnsealStatus::ok);
    CHECK(u.backend_key == "web3");
    CHECK(u.key_index == 1);  // not the current key: the ticket is renewed under the first
    const Unsealed fresh = unseal_binding(rotated, sealed(rotated[0], "web3"));
    CHECK(fresh.key_index == 0);
}

TEST_CASE("malformed bindings are refused without reading past their end", "[tls][binding]") {
    const std::vector<BindingKey> keys = derive_binding_keys(std::vector<TicketKey>{ticket_key(1)});
    const std::vector<uint8_t> good = sealed(keys[0], "web1");
    CHECK(unseal_binding(keys, {}).status == UnsealStatus::malformed);
    for (size_t n = 0; n < good.size(); ++n) {
        CHECK(unseal_binding(keys, std::span<const uint8_t>(good.data(), n)).status == UnsealStatus::malformed);
    }
    std::vector<uint8_t> longer = good;
    longer.push_back(0);
    CHECK(unseal_binding(keys, longer).status == UnsealStatus::malformed);
    std::vector<uint8_t> version = good;
    version[0] = 2;
    CHECK(unseal_binding(keys, version).status == UnsealStatus::malformed);
    std::vector<uint8_t> zero_len = good;
    zero_len[17] = 0;
    CHECK(unseal_binding(keys, zero_len).status == UnsealStatus::malformed);
    // Nothing to seal: an empty key or one longer than any back-end key.
    std::array<uint8_t, kSealedMax> buf{};
    CHECK(seal_binding(keys[0], "", buf) == 0);
    CHECK(seal_binding(keys[0], std::string(65, 'k'), buf) == 0);
}

TEST_CASE("a session binding remembers the key and that its ticket is stale", "[tls][binding]") {
    SessionBinding b;
    CHECK_FALSE(b.bound());
    b.bind("web2");
    CHECK(b.bound());
    CHECK(b.backend_key() == "web2");
    CHECK(b.ticket_stale);
    b.ticket_requested = true;
    b.bind("web3");  // rebound: a new ticket is due again
    CHECK(b.backend_key() == "web3");
    CHECK_FALSE(b.ticket_requested);
}
