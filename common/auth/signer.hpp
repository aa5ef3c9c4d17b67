// The sending side of peer authentication: seals a payload with the ring's first key, this sender's id, a counter
// that is the clock in microseconds but never repeats nor goes back within the process, and a nonce (random in a
// request, the request's own in an answer). Any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/envelope.hpp"
#include "auth/keys.hpp"

namespace dlba::auth {

uint64_t unix_us();  // the clock counters are taken from
uint64_t random_nonce();

class Signer {
public:
    Signer(KeyRing ring, uint16_t sender) : ring_(std::move(ring)), sender_(sender) {}

    std::string one_way(Kind kind, std::string_view payload);
    // *nonce receives the request's nonce, which its answer must carry.
    std::string request(Kind kind, std::string_view payload, uint64_t* nonce);
    std::string answer(Kind kind, std::string_view payload, const Header& request);

    uint16_t sender() const { return sender_; }
    // A reloaded configuration's keys. Only while no other thread seals with this signer.
    void set_ring(KeyRing ring) { ring_ = std::move(ring); }

private:
    uint64_t next_counter();
    std::string seal_with(Kind kind, uint64_t nonce, std::string_view payload);

    KeyRing ring_;
    const uint16_t sender_;
    std::atomic<uint64_t> last_counter_{0};
};

}  // namespace dlba::auth
