// The listening sockets of a listener: one per worker on the same address:port (SO_REUSEPORT, the kernel spreads
// new connections over them). Bound by the control thread, at start and on a reload, before anything is published,
// so an address that cannot be bound refuses the start or the reload as a whole; then handed to the workers.
#pragma once

#include <string>

#include "io/fd.hpp"
#include "net/event_handle.hpp"
#include "reload/reload_plan.hpp"

namespace dlba::server {

// One worker's listening socket of a listener.
struct Listener {
    EventHandle handle{HandleKind::listener, this};
    io::Fd fd;
    ListenerKey key;
    bool tls = false;    // per the worker's current generation
    bool http2 = false;  // offer h2 (ALPN) or take h2c with prior knowledge
    size_t service = 0;  // index of the service in the worker's current generation
};

// A listening socket the control thread bound for one worker, for the generation it is about to publish.
struct NewListener {
    ListenerKey key;
    io::Fd fd;
};

// A non-blocking socket bound to `key` with SO_REUSEADDR, SO_REUSEPORT and IP_FREEBIND (the VIP may be added to
// lo after the server starts). Not listening yet: see start_listening(). On failure "address:port: reason" in *err.
io::Fd bind_listener(const ListenerKey& key, std::string* err);
bool start_listening(int fd, const ListenerKey& key, std::string* err);

}  // namespace dlba::server
