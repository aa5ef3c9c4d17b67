// The Session's BindingChooser side: what the TLS ticket callbacks (tls/tls_context.cpp) ask of the connection's
// service while a handshake runs. Only TLS 1.2 needs it: its one ticket leaves inside the handshake, so the back end
// is chosen then (by the fallback's load rule) instead of at the first secure request.
#include "net/session.hpp"
#include "net/worker_context.hpp"

namespace dlba::server {

bool Session::binds_sessions() const {
    return gen().balancers[service_].service().policy == BalancePolicy::tls_session;
}

bool Session::usable(std::string_view key) const {
    const Balancer& bal = gen().balancers[service_];
    const auto index = bal.find_key(key);
    return index && gen().backends[bal.backend_index(*index)]->usable_for_sticky(w_.now_ms());
}

bool Session::choose(SessionBinding& b, bool rebind) {
    const Generation& g = gen();
    const Balancer& bal = g.balancers[service_];
    BalanceScratch& sc = w_.scratch;
    const int64_t now = w_.now_ms();
    const size_t n = bal.size();
    for (size_t i = 0; i < n; ++i) {
        const BackendState& st = *g.backends[bal.backend_index(i)];
        sc.usable_new[i] = st.usable_for_new(now);
        sc.usable_sticky[i] = st.usable_for_sticky(now);
        sc.active[i] = st.active();
        sc.weight[i] = st.effective_weight();  // the agent's percentage counts, as for every other policy
        sc.average_ms[i] = st.average_ms();
    }
    const Candidates c{{sc.usable_new.get(), n}, {sc.usable_sticky.get(), n}, {sc.active.data(), n},
                       {sc.weight.data(), n}, {sc.average_ms.data(), n}};
    const std::optional<size_t> index = bal.choose_unbound(c, w_.next_rotation());
    if (!index) return false;
    b.bind(bal.key(*index));
    BackendCounters& bc = g.backends[bal.backend_index(*index)]->counters(w_.id);
    (rebind ? bc.tls_rebound : bc.tls_bound).add();
    return true;
}

}  // namespace dlba::server
