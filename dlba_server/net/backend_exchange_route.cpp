// The route of a request (config/routes_section.hpp): chosen per request, so one keep-alive connection (or one
// HTTP/2 connection's streams) reaches several services. Allocation-free: a listener look-up, the matcher's
// string-view compares, and a pass over the route's service's back-end states.
#include "net/backend_exchange.hpp"
#include "net/worker_context.hpp"

namespace dlba::server {

// Whether some back end of `service` could take a new request now: usable (not down, out of service or failed by
// its check or agent) and below its max_inflight.
bool BackendExchange::service_has_room(size_t service) const {
    const Balancer& bal = gen_->balancers[service];
    const int64_t now = w_.now_ms();
    for (size_t i = 0; i < bal.size(); ++i) {
        const BackendState& st = *gen_->backends[bal.backend_index(i)];
        if (st.usable_for_new(now) && st.has_room()) return true;
    }
    return false;
}

size_t BackendExchange::route_request(const http::RequestHead& head, const RequestOrigin& origin,
                                      size_t listener_service) {
    const std::optional<size_t> li = gen_->listener(origin.listener.address, origin.listener.port);
    if (!li) return listener_service;
    const std::vector<RouteConfig>& routes = gen_->server().listeners[*li].routes;
    if (routes.empty()) return listener_service;
    listener_routed_ = true;
    const std::optional<size_t> r = match_route(routes, head.host, head.target);
    if (!r) return listener_service;
    route_ = static_cast<int16_t>(*r);
    RouteCounters& rc = gen_->route_counter(w_.id, *li, *r);
    rc.hits.add();
    const RouteConfig& route = routes[*r];
    // A dedicated service with no back end able to take it: its overflow when it has one, else the service
    // answers 503 itself (never the listener's default service).
    if (route.overflow_index && !service_has_room(route.service_index)) {
        overflowed_ = true;
        rc.overflows.add();
        return *route.overflow_index;
    }
    return route.service_index;
}

}  // namespace dlba::server
