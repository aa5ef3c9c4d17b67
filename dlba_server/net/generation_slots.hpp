// The configuration generations one worker holds: the one in force for it (the current slot) and older ones still
// used by a request that started on them. A session holds the slot of its generation while it uses it; the
// sessions of a slot are counted here, by the worker's thread alone (no atomic per connection), and a slot is let go
// once it is neither the current one nor used by a session. Pure bookkeeping over shared_ptrs: unit-tested.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/shared.hpp"

namespace dlba::server {

// A configuration generation in use by this worker, and how many of its sessions use it.
struct GenerationSlot {
    std::shared_ptr<const Generation> gen;
    uint32_t users = 0;
};

class GenerationSlots {
public:
    GenerationSlot* current() const { return current_; }
    const Generation& generation() const { return *current_->gen; }  // the current one (after the first install)
    size_t size() const { return slots_.size(); }

    // A session starts using the current generation.
    GenerationSlot* hold() {
        ++current_->users;
        return current_;
    }
    // A session stops using `slot`; an old slot nobody uses any more is let go.
    void release(GenerationSlot* slot);

    // `next` becomes the current generation. Returns the previous current slot held once more (nullptr the first
    // time): the worker lets its sessions switch, then releases it, so it goes with its last session.
    GenerationSlot* install(std::shared_ptr<const Generation> next);

private:
    std::vector<std::unique_ptr<GenerationSlot>> slots_;  // the current one and older ones still in use
    GenerationSlot* current_ = nullptr;
};

}  // namespace dlba::server
