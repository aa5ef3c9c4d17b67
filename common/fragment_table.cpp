#include "fragment_table.hpp"

namespace dlba {

namespace {
uint32_t round_up_pow2(uint32_t n) {
    uint32_t p = 1;
    while (p < n) p <<= 1;
    return p;
}
}  // namespace

FragmentTable::FragmentTable(uint32_t size, uint32_t timeout_ms)
    : mask_(round_up_pow2(size < 2 ? 2 : size) - 1), timeout_ms_(timeout_ms), slots_(new Slot[mask_ + 1]) {}

}  // namespace dlba
