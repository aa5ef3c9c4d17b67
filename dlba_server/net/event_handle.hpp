// What an epoll event of a worker points at: the worker reads the kind and hands the event to the owner.
#pragma once

#include <cstdint>

namespace dlba::server {

enum class HandleKind : uint8_t { listener, client, backend, wakeup };

struct EventHandle {
    HandleKind kind;
    void* owner;  // Listener, Session, BackendConn or Worker, per kind
};

}  // namespace dlba::server
