#include "auth/signer.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstring>

namespace dlba::auth {

uint64_t unix_us() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

uint64_t random_nonce() {
    uint64_t n = 0;
    uint8_t b[8];
    if (RAND_bytes(b, sizeof b) == 1) std::memcpy(&n, b, sizeof n);
    return n ? n : unix_us();  // never 0: heartbeats carry 0
}

uint64_t Signer::next_counter() {
    uint64_t last = last_counter_.load(std::memory_order_relaxed);
    for (;;) {
        const uint64_t now = unix_us();
        const uint64_t next = now > last ? now : last + 1;
        if (last_counter_.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
    }
}

std::string Signer::seal_with(Kind kind, uint64_t nonce, std::string_view payload) {
    return seal({kind, sender_, next_counter(), nonce}, payload, ring_.signing());
}

std::string Signer::one_way(Kind kind, std::string_view payload) { return seal_with(kind, 0, payload); }

std::string Signer::request(Kind kind, std::string_view payload, uint64_t* nonce) {
    *nonce = random_nonce();
    return seal_with(kind, *nonce, payload);
}

std::string Signer::answer(Kind kind, std::string_view payload, const Header& request) {
    return seal_with(kind, request.nonce, payload);
}

}  // namespace dlba::auth
