// The stateful-URI pin part of BackendExchange (net/backend_exchange.hpp; policy/pin.hpp): what the request's
// target and cookies say when it begins, and the Set-Cookie its answer carries. The choice itself is the
// Balancer's (RequestKeys::pinned), so a retry after a failed connect re-pins like any other choice.
#include "net/backend_exchange.hpp"

#include "net/worker_context.hpp"

namespace dlba::server {

void BackendExchange::read_pin(const RequestOrigin& origin) {
    const PinTable& pins = gen_->pins[service_];
    pin_match_ = pins.match(target_);
    pin_ = pin_match_.applies() ? pins.lookup(cookies_) : PinLookup{};
    client_tls_ = origin.tls;
}

// Counted here, once per answer (a 1xx is not one: the pin goes with the final head or the 101).
std::string_view BackendExchange::pin_answer() {
    if (!pin_match_.applies()) return {};
    const PinTable& pins = gen_->pins[service_];
    WorkerStats& st = w_.stats;
    const bool had_pin = pin_.found != PinFound::none;
    const bool followed = pin_.found == PinFound::valid && pin_.index == service_backend_;
    if (pin_.found == PinFound::invalid) st.pins_invalid.add();
    if (followed) st.pins_followed.add();
    if (pin_.found == PinFound::valid && !followed) st.pins_broken.add();
    if (pin_match_.exit) {
        // The exit request went where its pin said (or where the policy re-pinned it); its answer ends the pin.
        pins.write_unpin(pin_match_, client_tls_, pin_cookie_);
        if (had_pin) st.pins_cleared.add();
    } else {
        pins.write_pin(pin_match_, service_backend_, client_tls_, pin_cookie_);  // new, moved, or refreshed
        if (!followed) st.pins_set.add();
    }
    return pin_cookie_;
}

}  // namespace dlba::server
