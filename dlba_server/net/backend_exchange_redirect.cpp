// The redirect part of BackendExchange (seed 002's HTTP redirection): a request of a redirect service gets its
// back end from the service's policy exactly as a proxied one, and is answered at once with a redirect to that
// back end's URL (to its backup's when it is out of service). No back-end connection is opened; a request body is
// read and dropped; the client connection stays open unless the service says redirect_close.
#include <arpa/inet.h>

#include <charconv>

#include "net/backend_exchange.hpp"
#include "net/worker_context.hpp"
#include "rewrite/redirect_writer.hpp"

namespace dlba::server {

BackupTarget BackendExchange::backup_of(size_t backend, int64_t now_ms) const {
    const auto& states = gen_->backends;
    return follow_backup(gen_->backup_links, backend,
                         [&](size_t k) { return states[k]->out_of_service(now_ms); });
}

ExchangeStep BackendExchange::answer_redirect(const RequestOrigin& origin) {
    const std::optional<Choice> choice = choose_backend();
    if (!choice || !choice->index) {
        w_.stats.no_backend.add();
        return give_up(503);
    }
    take_choice(*choice);
    const std::vector<BackendConfig>& cfg = gen_->config.backends;
    const RedirectTemplate* url = cfg[backend_].redirect ? &*cfg[backend_].redirect : nullptr;
    const int64_t now = w_.now_ms();
    if (gen_->backends[backend_]->out_of_service(now)) {
        // Chosen while out of service: only because its backup chain leads somewhere (choose_backend).
        const BackupTarget to = backup_of(backend_, now);
        url = nullptr;
        if (to.backend && cfg[*to.backend].redirect) {
            backend_ = *to.backend;
            url = &*cfg[backend_].redirect;
        } else if (to.url_of) {
            backend_ = *to.url_of;
            url = &*cfg[backend_].backup_url;
        }
    }
    if (!url) {  // the loader refuses such back ends; never answer with an empty Location
        w_.stats.no_backend.add();
        return give_up(503);
    }

    // The macros' values: %h the Host without its port (the listener's address for an HTTP/1.0 request without
    // one), %s the port the client connected to, %d and %q from the target.
    char ip[INET_ADDRSTRLEN];
    RedirectRequest r;
    if (host_.empty()) {
        const in_addr a{htonl(origin.listener.address)};
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        r.host = ip;
    } else {
        r.host = host_;
    }
    char port[8];
    const auto [end, ec] = std::to_chars(port, port + sizeof port, origin.listener.port);
    r.port = std::string_view(port, ec == std::errc() ? static_cast<size_t>(end - port) : 0);
    split_target(target_, r.path, r.query);

    const ServiceConfig& svc = balancer_->service();
    bool& last = *client_.last_response;
    if (svc.redirect_close || w_.stopping()) last = true;
    RedirectAnswer a;
    a.code = svc.redirect_code;
    a.location = url;
    a.request = r;
    a.close = last;
    a.client_minor = client_minor_;
    // Cookie persistence: a request the cookie did not decide starts (or moves) its session on the back end the
    // policy chose, as a proxied answer would.
    if (svc.policy == BalancePolicy::cookie && reason_ != ChoiceReason::cookie) {
        a.cookie_name = svc.inject_cookie;
        a.cookie_value = balancer_->key(service_backend_);
        gen_->backends[balancer_->backend_index(service_backend_)]->counters(w_.id).cookie_groups.add();
    }
    std::string& o = out();
    const size_t before = o.size();
    write_redirect_response(a, o);
    bytes_to_client_ += o.size() - before;
    backend_counters().redirects.add();
    w_.stats.responses[a.code / 100].add();
    redirected_ = true;
    has_backend_ = true;
    status_ = a.code;
    response_started_ = true;
    phase_ = ResponsePhase::done;
    return ExchangeStep::progress;
}

}  // namespace dlba::server
