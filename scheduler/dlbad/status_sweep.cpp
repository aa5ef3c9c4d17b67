#include "status_sweep.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/table_format.hpp"
#include "io/envelope_stream.hpp"
#include "io/tcp.hpp"

namespace dlba::dlbad {

namespace {

constexpr size_t kMaxAnswerBytes = 1 << 20;
constexpr std::string_view kSweepRequest = "status\n";  // the request's content; what matters is its seal
constexpr uint32_t kIdleCheckMs = 100;  // how often an idle sweep looks whether it became active
constexpr uint32_t kStopCheckMs = 50;   // the pause between sweeps is cut this fine to stop quickly

}  // namespace

std::optional<SweepAnswer> parse_sweep_answer(const std::string& text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    std::string err;
    const auto table = doc.is_discarded() ? std::nullopt : io::Table::from_json(doc, &err);
    auto status = table ? proto::NodeStatus::from_table(*table, &err) : std::nullopt;
    if (!status) return std::nullopt;
    SweepAnswer a;
    if (!status->backends.empty()) a.totals = proto::summarise(*status);
    a.status = std::move(*status);
    return a;
}

std::optional<std::string> TcpStatusFetcher::fetch(const NodeConfig& node, int timeout_ms, std::string* err) {
    const io::Deadline deadline = io::deadline_in(timeout_ms);
    io::Fd fd = io::tcp_connect(node.eth0_ip, port_, deadline, err);
    if (!fd) return std::nullopt;
    uint64_t nonce = 0;
    if (!io::write_all(fd.get(), auth_.signer.request(auth::Kind::sweep_request, kSweepRequest, &nonce), deadline)) {
        *err = "send failed";
        return std::nullopt;
    }
    std::string sealed;
    const io::EnvelopeRead read = io::read_envelope(fd.get(), kMaxAnswerBytes, deadline, &sealed);
    if (read == io::EnvelopeRead::short_read) {
        *err = "no answer in time (or our request was refused)";
        return std::nullopt;
    }
    auth::PeerGuard& guard = auth_.sweep_answers;
    if (read != io::EnvelopeRead::ok) {
        guard.drop(auth::Drop::unsigned_message, node.eth0_ip, auth::unix_us(), "a sweep answer");
        *err = "answer not signed";
        return std::nullopt;
    }
    const auto answer =
        guard.answer(sealed, auth::Kind::sweep_answer, node.number, nonce, node.eth0_ip, auth::unix_us());
    if (!answer) {
        *err = std::string("answer dropped by peer authentication: ") + auth::drop_name(*guard.last_verdict());
        return std::nullopt;
    }
    return std::string(answer->payload);  // empty: the node says it cannot serve
}

StatusSweep::StatusSweep(const ArrayConfig& config, uint16_t node, LocalLink& link, StatusFetcher& fetcher,
                         const TimeSource& time)
    : config_(config), node_(node), link_(link), fetcher_(fetcher), time_(time) {}

StatusSweep::~StatusSweep() {
    request_stop();
    join();
}

void StatusSweep::start() { thread_ = std::thread([this] { loop(); }); }

void StatusSweep::request_stop() { stop_.store(true); }

void StatusSweep::join() {
    if (thread_.joinable()) thread_.join();
}

void StatusSweep::loop() {
    while (!stop_.load(std::memory_order_relaxed)) {
        if (!active_.load(std::memory_order_relaxed)) {
            time_.sleep_ms(kIdleCheckMs);
            continue;
        }
        sweep_once();
        for (uint32_t waited = 0; waited < config_.failover.sweep_delay_ms && !stop_.load(); waited += kStopCheckMs) {
            time_.sleep_ms(kStopCheckMs);
        }
    }
}

void StatusSweep::sweep_once() {
    // What the scheduler holds now decides whether a verdict needs a command (this daemon may have restarted,
    // or an operator may have changed a flag by hand).
    std::map<uint16_t, bool> failed_now = link_.status();
    for (const NodeConfig& n : config_.nodes) {
        if (!active_.load(std::memory_order_relaxed)) return;  // stepped down mid-sweep
        SweepResult r;
        {
            std::lock_guard<std::mutex> lock(results_mutex_);
            r = results_[n.number];
        }
        r = visit(n, std::move(r), failed_now[n.number]);
        std::lock_guard<std::mutex> lock(results_mutex_);
        results_[n.number] = std::move(r);
    }
    const uint64_t t = time_.unix_s();
    link_.sweep_done(t);
    std::lock_guard<std::mutex> lock(results_mutex_);
    last_sweep_unix_ = t;
    ++sweeps_;
}

SweepResult StatusSweep::visit(const NodeConfig& n, SweepResult r, bool failed_now) {
    const FailoverConfig& f = config_.failover;
    std::optional<SweepAnswer> answer;
    uint32_t attempts = 0;
    std::string err;
    while (!answer && attempts <= f.sweep_retries) {
        if (attempts > 0) {
            // Space the attempts a timeout apart even when a refusal comes back at once, so the retries span
            // a daemon restart rather than failing a node in a few milliseconds.
            time_.sleep_ms(f.sweep_timeout_ms);
        }
        ++attempts;
        const auto text = fetcher_.fetch(n, static_cast<int>(f.sweep_timeout_ms), &err);
        if (text && text->empty()) {
            err = "closed without an answer (the node reports itself unable to serve)";
        } else if (text) {
            answer = parse_sweep_answer(*text);
            if (!answer) {
                err = "malformed answer";
            } else if (!answer->status.healthy) {
                // Self-diagnosis: the node answers that it cannot serve. The same verdict as no answer.
                err = "reports itself unhealthy: " +
                      (answer->status.reason.empty() ? std::string("no reason given") : answer->status.reason);
                answer.reset();
            }
        }
    }
    r.attempts = attempts;
    if (answer) {
        r.answered = true;
        r.last_answer_unix = time_.unix_s();
        r.last_error.clear();
        if (failed_now && link_.node_failed(n.number, false).answered()) {
            std::fprintf(stderr, "<5>dlbad[node %u]: node %u answers the sweep again: live\n", node_, n.number);
        }
        r.failed_by_sweep = false;
        link_.node_stats(n.number, answer->totals);
        r.answer = std::move(answer);
    } else {
        r.answered = false;
        r.last_error = err;
        r.answer.reset();
        if (!failed_now && link_.node_failed(n.number, true).answered()) {
            std::fprintf(stderr, "<4>dlbad[node %u]: node %u did not answer the sweep (%s): marked failed\n", node_,
                         n.number, err.c_str());
        }
        r.failed_by_sweep = true;
    }
    return r;
}

SweepSnapshot StatusSweep::snapshot() const {
    SweepSnapshot s;
    s.sweeping = active_.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(results_mutex_);
    s.last_sweep_unix = last_sweep_unix_;
    s.sweeps = sweeps_;
    s.results = results_;
    return s;
}

}  // namespace dlba::dlbad
