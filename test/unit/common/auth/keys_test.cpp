// Peer keys: 64 hex digits, refused otherwise; generated at random; the ring's first key signs.
#include <catch2/catch.hpp>

#include "auth/keys.hpp"

using namespace dlba::auth;

namespace {
const std::string kHex = "6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94";
}

TEST_CASE("a 64-hex-digit key parses and formats back the same", "[auth]") {
    std::string why;
    const auto k = parse_key(kHex, &why);
    REQUIRE(k);
    CHECK(k->bytes[0] == 0x6b);
    CHECK(k->bytes[31] == 0x94);
    CHECK(format_key(*k) == kHex);
    std::string upper = kHex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(parse_key(upper, &why) == k);
}

TEST_CASE("short, long, non-hex and constant keys are refused with a reason", "[auth]") {
    std::string why;
    CHECK_FALSE(parse_key(kHex.substr(0, 63), &why));
    CHECK(why.find("64 hex digits") != std::string::npos);
    CHECK_FALSE(parse_key(kHex + "0", &why));
    CHECK_FALSE(parse_key("", &why));
    CHECK_FALSE(parse_key(kHex.substr(0, 10) + "x" + kHex.substr(11), &why));
    CHECK(why.find("character 11") != std::string::npos);
    CHECK_FALSE(parse_key(std::string(64, '0'), &why));
    CHECK(why.find("random") != std::string::npos);
}

TEST_CASE("generated keys are fresh and parse back", "[auth]") {
    const auto a = generate_key();
    const auto b = generate_key();
    REQUIRE(a);
    REQUIRE(b);
    CHECK_FALSE(*a == *b);
    std::string why;
    CHECK(parse_key(format_key(*a), &why) == a);
}

TEST_CASE("two rings that share a key still verify each other's signatures", "[auth]") {
    const PeerKey a = *generate_key(), b = *generate_key(), c = *generate_key();
    const KeyRing old_ring({a}), rotating({b, a}), foreign({c});
    CHECK(rotating.signing() == b);
    CHECK(old_ring.shares_key_with(rotating));
    CHECK(rotating.shares_key_with(old_ring));
    CHECK_FALSE(foreign.shares_key_with(old_ring));
    CHECK_FALSE(insecure_ring().shares_key_with(old_ring));
}
