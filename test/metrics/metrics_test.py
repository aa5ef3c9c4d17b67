#!/usr/bin/python3
"""Prometheus metrics (issue 17) on the namespace array of scripts/array (its demo config has metrics.listen =
":9100", each node's eth0 IP): every node is scraped from the router's LAN namespace and the text is parsed with
python3-prometheus-client.

1. every node answers GET /metrics in format 0.0.4 (each family with HELP and TYPE), exactly one node's scheduler
   is active (dlba_scheduler_role is one-hot), anything else is 404/405;
2. under wrk: the counters rise, every back end's histogram is cumulative with _count equal to its +Inf bucket,
   and the histograms' counts rise by exactly the back-end responses counted (dlba_backend_requests_total), which is
   at least wrk's requests;
3. an IPv6 frame injected to the active scheduler shows as dlba_scheduler_dropped_packets_total{reason="non_ip"};
4. kill -9 of the active scheduler: the role flips to another node (and its takeovers count rises), the dead one's
   node reports its scheduler down.

TAP, one line per case; root.
"""
import os
import signal
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from dlbatest import array
from dlbatest.loadgen import parse_wrk, wrk_cmd, wrk_script
from dlbatest.netns import packet_socket
from dlbatest.procs import run
from dlbatest.tap import Suite, TestFailure, check, wait_until
from dlbatest.topo import NODES, ROUTER_LAN_MAC, VIP, eth0_ip, sched_mac

suite = Suite("metrics")
state = {}
PORT = 9100


def fetch(n, path="/metrics", method="GET"):
    """(HTTP status, headers text, body) of a request to node n's metrics endpoint, from the router."""
    cp = run(["curl", "-s", "-m", "5", "-X", method, "-D", "-", f"http://{eth0_ip(n)}:{PORT}{path}"],
             ns=state["array"].ns("router"), check_rc=False, timeout=10)
    # text mode turns CRLF into LF: the head ends at the first empty line.
    head, _, body = cp.stdout.replace("\r\n", "\n").partition("\n\n")
    status = int(head.split(" ", 2)[1]) if head.startswith("HTTP/") else 0
    return status, head, body


def scrape(n):
    """{(sample name, frozenset(labels)): value} and {family name: type} of node n."""
    status, head, body = fetch(n)
    check(status == 200, f"n{n}: GET /metrics answered {status}: {head[:200]}")
    check("text/plain; version=0.0.4" in head, f"n{n}: not the 0.0.4 text format: {head}")
    samples, types = {}, {}
    for fam in text_string_to_metric_families(body):
        types[fam.name] = fam.type
        for s in fam.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, types, body


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def total(samples, name, **match):
    """The sum of every sample `name` whose labels include `match`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and all((k, val) in ls for k, val in match.items()))


def active_by_metrics(scrapes):
    return [n for n in sorted(scrapes) if value(scrapes[n][0], "dlba_scheduler_role", role="active") == 1]


@suite.case("every node serves /metrics (format 0.0.4, HELP and TYPE); exactly one scheduler role is active; "
            "other paths 404, other methods 405")
def case_format():
    scrapes = {n: scrape(n) for n in NODES}
    for n in NODES:
        samples, types, body = scrapes[n]
        helps = {line.split()[2] for line in body.splitlines() if line.startswith("# HELP ")}
        typed = {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}
        check(helps == typed and len(typed) > 60, f"n{n}: {len(helps)} HELP lines, {len(typed)} TYPE lines")
        for name in ("dlba_scheduler_rx_packets", "dlba_scheduler_dropped_packets", "dlba_takeovers",
                     "dlba_backend_requests", "dlba_tls_handshakes"):
            check(types.get(name) == "counter", f"n{n}: {name}_total is not a counter: {types.get(name)}")
        check(types.get("dlba_backend_response_seconds") == "histogram", f"n{n}: no response-time histogram")
        for comp in ("dlbad", "scheduler", "server"):
            check(value(samples, "dlba_component_up", component=comp) == 1, f"n{n}: {comp} is not up")
        roles = [value(samples, "dlba_scheduler_role", role=r) for r in ("active", "standby")]
        check(sorted(roles) == [0, 1], f"n{n}: dlba_scheduler_role is not one-hot: {roles}")
        for m in NODES:
            check(value(samples, "dlba_node_up", node=str(m)) == 1, f"n{n} does not see n{m} up")
        check(value(samples, "dlba_bucket_table_size") == 65536 or value(samples, "dlba_bucket_table_size"),
              f"n{n}: no bucket table size")
    active = active_by_metrics(scrapes)
    check(active == [state["array"].active_node()], f"active by metrics {active}, by dlbactl "
                                                     f"{state['array'].active_node()}")
    status, _, _ = fetch(NODES[0], "/")
    check(status == 404, f"GET / answered {status}")
    status, head, _ = fetch(NODES[0], "/metrics", "POST")
    check(status == 405 and "Allow: GET" in head, f"POST /metrics answered {status}: {head}")
    Suite.diag(f"{len(scrapes[NODES[0]][1])} families; n{active[0]} active")


@suite.case("under wrk: counters rise; histograms cumulative, _count = +Inf bucket; the histograms count exactly "
            "the back-end responses, at least wrk's requests", timeout=60)
def case_traffic():
    arr = state["array"]
    active = arr.active_node()
    before = {n: scrape(n)[0] for n in NODES}
    script = wrk_script(state["workdir"], "metrics")
    cp = run(wrk_cmd(f"http://{VIP}", script, 3, 4), ns=arr.ns("client"), timeout=40)
    w = parse_wrk(cp.stdout)
    time.sleep(0.3)  # the last responses' heads were counted before wrk read them; nothing is in flight now
    after = {n: scrape(n)[0] for n in NODES}
    check(w["requests"] > 100, f"wrk made only {w['requests']} requests")
    rx = after[active].get(("dlba_scheduler_rx_packets_total", frozenset())) - \
        before[active].get(("dlba_scheduler_rx_packets_total", frozenset()))
    check(rx >= w["requests"], f"the active n{active}'s rx rose by {rx} for {w['requests']} requests")
    served = sum(total(after[n], "dlba_server_requests_total") - total(before[n], "dlba_server_requests_total")
                 for n in NODES)
    check(served >= w["requests"], f"dlba_server_requests_total rose by {served} for wrk's {w['requests']}")
    counted = hist = 0
    for n in NODES:
        s = after[n]
        backends = {dict(ls)["backend"] for (name, ls) in s if name == "dlba_backend_response_seconds_count"}
        check(backends, f"n{n}: no back end has a histogram")
        for b in backends:
            buckets = sorted(((float(dict(ls)["le"]), v) for (name, ls), v in s.items()
                              if name == "dlba_backend_response_seconds_bucket" and dict(ls)["backend"] == b))
            counts = [v for _, v in buckets]
            check(counts == sorted(counts), f"n{n} {b}: buckets not cumulative: {buckets}")
            check(buckets[-1][0] == float("inf"), f"n{n} {b}: no +Inf bucket")
            c = value(s, "dlba_backend_response_seconds_count", backend=b)
            check(c == counts[-1], f"n{n} {b}: _count {c} != +Inf bucket {counts[-1]}")
            check(value(s, "dlba_backend_response_seconds_sum", backend=b) >= 0, f"n{n} {b}: no _sum")
        hist += total(after[n], "dlba_backend_response_seconds_count") - \
            total(before[n], "dlba_backend_response_seconds_count")
        counted += total(after[n], "dlba_backend_requests_total") - total(before[n], "dlba_backend_requests_total")
    check(hist == counted, f"the histograms counted {hist} responses, dlba_backend_requests_total {counted}")
    check(hist >= w["requests"], f"the histograms counted {hist} responses for wrk's {w['requests']} requests")
    Suite.diag(f"wrk {w['requests']} requests; active n{active} rx +{rx:.0f}; servers +{served:.0f} requests; "
               f"histograms +{hist:.0f}")


@suite.case("an IPv6 frame injected to the active scheduler appears as drop reason non_ip")
def case_drop_reason():
    arr = state["array"]
    active = arr.active_node()
    name = "dlba_scheduler_dropped_packets_total"
    before = value(scrape(active)[0], name, reason="non_ip") or 0
    # Ethernet to the active scheduler's port, type IPv6, from the router's LAN port (as the scheduler test does).
    frame = bytes.fromhex(sched_mac(active).replace(":", "")) + bytes.fromhex(ROUTER_LAN_MAC.replace(":", "")) + \
        b"\x86\xdd" + bytes(60)
    s = packet_socket(arr.ns("router"), "eth1")
    try:
        for _ in range(5):
            s.send(frame)
    finally:
        s.close()
    after = wait_until(lambda: (lambda v: v if v is not None and v >= before + 5 else None)(
        value(scrape(active)[0], name, reason="non_ip")), 5, 0.2, "drop reason non_ip to rise by 5")
    Suite.diag(f"n{active}: {name}{{reason=\"non_ip\"}} {before:.0f} -> {after:.0f}")


@suite.case("kill -9 of the active scheduler: dlba_scheduler_role flips to another node, its takeovers rise; the "
            "dead scheduler's node reports it down", timeout=60)
def case_failover():
    arr = state["array"]
    old = arr.active_node()
    before = {n: scrape(n)[0] for n in NODES}
    pids = arr.scheduler_pids(old)
    check(len(pids) == 1, f"expected one dlba-scheduler of n{old}, found {pids}")
    os.kill(pids[0], signal.SIGKILL)
    new = wait_until(lambda: (lambda a: a[0] if len(a) == 1 and a[0] != old else None)(
        active_by_metrics({n: scrape(n) for n in NODES if n != old})), 15, 0.2, "another node's role to be active")
    after = {n: scrape(n)[0] for n in NODES}
    check(value(before[new], "dlba_scheduler_role", role="standby") == 1, f"n{new} was not standby before")
    check(value(after[new], "dlba_scheduler_role", role="active") == 1, f"n{new} is not active after")
    check(value(after[new], "dlba_takeovers_total") == (value(before[new], "dlba_takeovers_total") or 0) + 1,
          f"n{new}'s takeovers went {value(before[new], 'dlba_takeovers_total')} -> "
          f"{value(after[new], 'dlba_takeovers_total')}")
    check(value(after[old], "dlba_component_up", component="scheduler") == 0, f"n{old}'s scheduler is still up")
    check(value(after[old], "dlba_scheduler_role", role="active") is None,
          f"n{old}'s dead scheduler still has a role")
    Suite.diag(f"active n{old} killed; n{new} took over")


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-metrics-", [("wrk", "wrk"), ("curl", "curl")]))
