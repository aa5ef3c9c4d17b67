// The envelope: sealed and opened, the tag checked against every key of the ring in constant time; any change to
// any byte is caught.
#include <catch2/catch.hpp>

#include "auth/envelope.hpp"

using namespace dlba::auth;

namespace {

const PeerKey kA = *generate_key();
const PeerKey kB = *generate_key();

}  // namespace

TEST_CASE("a sealed message opens with its header and payload and verifies with its key", "[auth]") {
    const std::string bytes = seal({Kind::sync_answer, 3, 1234567, 42}, "DLBS payload", kA);
    CHECK(bytes.size() == kOverheadBytes + 12);
    CHECK(payload_length(bytes) == 12u);
    const auto e = open(bytes);
    REQUIRE(e);
    CHECK(e->header.kind == Kind::sync_answer);
    CHECK(e->header.sender == 3);
    CHECK(e->header.counter == 1234567);
    CHECK(e->header.nonce == 42);
    CHECK(e->payload == "DLBS payload");
    CHECK(verify(*e, KeyRing({kA})));
}

TEST_CASE("the first key signs and every key verifies: a ring mid-rotation reads both", "[auth]") {
    const std::string by_a = seal({Kind::heartbeat, 1, 1, 0}, "x", kA);
    const std::string by_b = seal({Kind::heartbeat, 1, 1, 0}, "x", kB);
    const KeyRing both({kB, kA});
    CHECK(verify(*open(by_a), both));
    CHECK(verify(*open(by_b), both));
    CHECK_FALSE(verify(*open(by_b), KeyRing({kA})));
    CHECK_FALSE(verify(*open(by_a), KeyRing()));
}

TEST_CASE("flipping any bit of an envelope makes it unopenable or unverifiable", "[auth]") {
    const std::string good = seal({Kind::config_request, 0, 99, 7}, "ADMIN node 2 disable\n", kA);
    const KeyRing ring({kA});
    for (size_t i = 0; i < good.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            const auto e = open(bad);
            INFO("byte " << i << " bit " << bit);
            CHECK((!e || !verify(*e, ring)));
        }
    }
}

TEST_CASE("truncated, extended and foreign bytes do not open", "[auth]") {
    const std::string good = seal({Kind::heartbeat, 1, 1, 0}, std::string(40, 'h'), kA);
    CHECK_FALSE(open(good.substr(0, good.size() - 1)));
    CHECK_FALSE(open(good + "x"));
    CHECK_FALSE(open(""));
    CHECK_FALSE(open(good.substr(0, kHeaderBytes)));
    CHECK_FALSE(open("PULL 1234 0\n"));
    std::string unknown_kind = good;
    unknown_kind[5] = 9;
    CHECK_FALSE(open(unknown_kind));
    std::string reserved = good;
    reserved[31] = 1;
    CHECK_FALSE(open(reserved));
    CHECK_FALSE(payload_length("short"));
}
