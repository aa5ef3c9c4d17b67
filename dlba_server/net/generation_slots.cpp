#include "net/generation_slots.hpp"

namespace dlba::server {

void GenerationSlots::release(GenerationSlot* slot) {
    if (--slot->users > 0 || slot == current_) return;
    for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].get() == slot) {
            slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
    }
}

GenerationSlot* GenerationSlots::install(std::shared_ptr<const Generation> next) {
    GenerationSlot* previous = current_;
    slots_.push_back(std::make_unique<GenerationSlot>(GenerationSlot{std::move(next), 0}));
    current_ = slots_.back().get();
    if (previous) ++previous->users;  // held across the switch: the sessions that switch let go of it one by one
    return previous;
}

}  // namespace dlba::server
