#!/usr/bin/python3
"""End to end under load (issue 5), through the whole Pentaflow brought up by scripts/array:

1. wrk over HTTP and h2load --h1 over HTTPS from the client namespace, bounded in time and connections, with no
   error and no non-2xx answer; and the response bytes leave from the DLBA nodes, not through the scheduler
   (direct server return): the active scheduler's port (sch0) transmits a small fraction of what the client
   receives, while the nodes' eth0 ports transmit all of it. Every figure is printed.
2. Failover under load: kill -9 of the active scheduler while keep-alive connections made before the kill carry
   requests (our own client, HTTP and HTTPS, plus wrk throttled); none of them may see a failed request. New
   connections opened during the takeover may need a retry: how many is reported.

TAP, one line per case; root.
"""
import os
import signal
import subprocess
import time

from dlbatest import array
from dlbatest.array import Traffic, human
from dlbatest.clients import KeepAlive, NewConnections, client_context
from dlbatest.ctl import ctl_json
from dlbatest.loadgen import parse_h2load, parse_wrk, wrk_cmd, wrk_script
from dlbatest.procs import run
from dlbatest.tap import Suite, TestFailure, check, wait_until
from dlbatest.topo import NODES, VIP

suite = Suite("e2e-load")
state = {}
LOAD_SECONDS = 5
CONNECTIONS = 4
BIG_EVERY = 10          # one request in ten fetches /big (20 MiB): the bytes that make the DSR comparison clear
SCHED_SHARE_MAX = 0.05  # the scheduler port may transmit at most 5% of the bytes the client receives


def non_2xx(delta_server):
    keys = ("responses_1xx", "responses_3xx", "responses_4xx", "responses_5xx", "no_backend", "local_errors")
    return {f"n{n}.{k}": delta_server[n].get(k, 0) for n in NODES for k in keys if delta_server[n].get(k, 0)}


def check_direct_return(before, after, active, app_bytes, what):
    """The client received app_bytes of HTTP (as its load generator counted them): the kernel counters must show
    they came from the nodes' eth0, and the active scheduler's port sent only a small fraction of that."""
    d = Traffic.delta(before, after)
    sched = d["sched"][active]
    client_rx = d["client_rx"]
    sch0 = d["sch0_tx"][active]
    nodes_eth0 = sum(d["eth0_tx"].values())
    server_out = sum(d["server"][n].get("bytes_out", 0) for n in NODES)
    Suite.diag(f"{what}: load generator read {human(app_bytes)} ({app_bytes} B); client eth0 received "
               f"{human(client_rx)} ({client_rx} B), sent {human(d['client_tx'])}")
    Suite.diag(f"{what}: active scheduler n{active}: sch0 transmitted {human(sch0)} ({sch0} B) = "
               f"{100.0 * sch0 / max(client_rx, 1):.2f}% of the client's received bytes; its counters: "
               f"forwarded {sched.get('forwarded', 0)} frames / {human(sched.get('forwarded_bytes', 0))} "
               f"({sched.get('forwarded_bytes', 0)} B), tx {sched.get('tx', 0)} frames, rx "
               f"{human(sched.get('rx_bytes', 0))}")
    Suite.diag(f"{what}: nodes' eth0 transmitted {human(nodes_eth0)} in all ("
               + ", ".join(f"n{n} {human(d['eth0_tx'][n])}" for n in NODES)
               + f"); DLBA servers' bytes_out {human(server_out)} ("
               + ", ".join(f"n{n} {human(d['server'][n].get('bytes_out', 0))}" for n in NODES) + ")")
    check(sched.get("forwarded", 0) > 0, f"{what}: the active scheduler n{active} forwarded nothing: the requests "
                                         "did not take the Pentaflow's first leg")
    check(client_rx >= app_bytes, f"{what}: the client's eth0 received {client_rx} B, less than the "
                                  f"{app_bytes} B its load generator read")
    check(sch0 <= SCHED_SHARE_MAX * client_rx,
          f"{what}: the scheduler port of n{active} transmitted {sch0} B, more than {SCHED_SHARE_MAX:.0%} of the "
          f"{client_rx} B the client received: responses go through the scheduler")
    check(sched.get("forwarded_bytes", 0) <= SCHED_SHARE_MAX * client_rx,
          f"{what}: the scheduler counted {sched.get('forwarded_bytes')} B forwarded, more than "
          f"{SCHED_SHARE_MAX:.0%} of the client's {client_rx} B")
    check(nodes_eth0 >= 0.95 * client_rx, f"{what}: the nodes' eth0 ports sent {nodes_eth0} B, less than the "
                                          f"{client_rx} B the client received")
    return d


@suite.case("wrk over HTTP for 5 s (4 keep-alive connections, small pages and /big): no error, only 2xx; "
            "replies leave from the nodes, not the scheduler", timeout=60)
def case_wrk_http():
    arr = state["array"]
    active = arr.active_node()
    script = wrk_script(state["workdir"], "wrk-http", big_every=BIG_EVERY)
    before = Traffic(arr)
    cp = run(wrk_cmd(f"http://{VIP}", script, LOAD_SECONDS, CONNECTIONS), ns=arr.ns("client"),
             timeout=LOAD_SECONDS + 30)
    after = Traffic(arr)
    w = parse_wrk(cp.stdout)
    Suite.diag(f"wrk: {w['requests']} requests in {w['duration_us'] / 1e6:.2f} s "
               f"({w['requests'] / max(w['duration_us'] / 1e6, 1e-6):.0f}/s), {human(w['bytes'])}, latency max "
               f"{w['latency_max_us'] / 1000:.0f} ms p99 {w['latency_p99_us'] / 1000:.0f} ms; errors connect "
               f"{w['connect']} read {w['read']} write {w['write']} timeout {w['timeout']} status {w['status']}")
    d = check_direct_return(before, after, active, w["bytes"], "HTTP")
    check(w["requests"] > 0, "wrk completed no request")
    errors = {k: w[k] for k in ("connect", "read", "write", "timeout", "status") if w[k]}
    check(not errors, f"wrk saw errors: {errors}")
    bad = non_2xx(d["server"])
    check(not bad, f"the DLBA servers answered something else than 2xx: {bad}")
    twoxx = sum(d["server"][n].get("responses_2xx", 0) for n in NODES)
    check(twoxx >= w["requests"], f"the DLBA servers counted {twoxx} 2xx answers for wrk's {w['requests']}")


@suite.case("h2load --h1 over HTTPS for 5 s (4 keep-alive connections, small pages and /big): no failure, only "
            "2xx; replies leave from the nodes, not the scheduler", timeout=60)
def case_h2load_https():
    arr = state["array"]
    active = arr.active_node()
    uris = [f"https://{VIP}/h2load-https/{i}" for i in range(1, BIG_EVERY)] + [f"https://{VIP}/big"]
    before = Traffic(arr)
    cp = run(["h2load", "--h1", "-c", str(CONNECTIONS), "-D", str(LOAD_SECONDS), "-T", "10"] + uris,
             ns=arr.ns("client"), timeout=LOAD_SECONDS + 30, check_rc=False)
    after = Traffic(arr)
    h = parse_h2load(cp.stdout)
    Suite.diag(f"h2load: {h['done']} done, {h['succeeded']} succeeded, {h['failed']} failed, {h['errored']} "
               f"errored, {h['timeout']} timed out ({h['started'] - h['done']} in flight at the end); status "
               f"{h['2xx']} 2xx {h['3xx']} 3xx {h['4xx']} 4xx {h['5xx']} 5xx; {human(h['bytes'])}")
    for line in cp.stdout.splitlines():
        if line.startswith(("finished in", "time for request", "time for connect")):
            Suite.diag(f"h2load: {line.strip()}")
    # h2load's traffic total counts what it read of the connections, TLS records included.
    d = check_direct_return(before, after, active, h["bytes"], "HTTPS")
    check(cp.returncode == 0, f"h2load exited {cp.returncode}:\n{cp.stdout[-800:]}{cp.stderr[-400:]}")
    check(h["succeeded"] > 0 and h["succeeded"] == h["done"], f"h2load: {h}")
    check(h["failed"] == 0 and h["errored"] == 0 and h["timeout"] == 0, f"h2load saw failures: {h}")
    check(h["3xx"] == 0 and h["4xx"] == 0 and h["5xx"] == 0, f"h2load saw non-2xx answers: {h}")
    bad = non_2xx(d["server"])
    check(not bad, f"the DLBA servers answered something else than 2xx: {bad}")
    check(sum(d["server"][n].get("tls_handshakes", 0) for n in NODES) >= CONNECTIONS,
          "the DLBA servers counted fewer TLS handshakes than h2load's connections")


def table_versions(arr, active):
    """{node: bucket table version} as the active node's daemon sees them (None when unreadable)."""
    doc = ctl_json(arr.sock(active, "dlbad"), "failover", check_rc=False, timeout=3)
    if not doc:
        return None
    rows = [dict(zip([c["name"] for c in doc["columns"]], r)) for r in doc["rows"]]
    return {r["node"]: r.get("table_version") for r in rows}


def standbys_reach(arr, active, version):
    """The versions when every node's table has reached `version` (the new-connection prober keeps assigning
    buckets, so the versions need not be equal at any one moment; what matters is that the standbys hold every
    assignment made up to the time the keep-alive connections existed)."""
    v = table_versions(arr, active)
    return v if v and all(isinstance(x, int) and x >= version for x in v.values()) else None


@suite.case("failover under load: kill -9 of the active scheduler; no failed request on keep-alive connections "
            "made before the kill (HTTP, HTTPS, wrk); new connections' retries during the takeover reported",
            timeout=120)
def case_failover():
    arr = state["array"]
    active = arr.active_node()
    pids = arr.scheduler_pids(active)
    check(len(pids) == 1, f"expected one dlba-scheduler process of n{active}, found {pids}")
    ctx = client_context(arr.ca())

    # Keep-alive connections first, then wrk (its connections are made at its start), then the new-connection
    # prober. Everything has a hard end.
    clients = [KeepAlive(arr, f"ka-http-{i}", pause=0.02) for i in range(6)]
    clients += [KeepAlive(arr, f"ka-https-{i}", tls=True, ctx=ctx, pause=0.02) for i in range(3)]
    wrk_max_seconds = 40   # an upper bound: wrk is stopped with SIGINT (it then prints its totals) once done
    script = wrk_script(state["workdir"], "wrk-fo", delay_ms=20)
    wrk = subprocess.Popen(["ip", "netns", "exec", arr.ns("client")]
                           + wrk_cmd(f"http://{VIP}", script, wrk_max_seconds, CONNECTIONS),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state["wrk"] = wrk
    prober = NewConnections(arr)
    state["threads"] = clients + [prober]
    t_wrk = time.monotonic()
    for c in clients:
        c.start()
    prober.start()
    t = {}               # moments: kill, takeover
    before = {}
    wrk_early = None     # wrk's exit code if it ended before we stopped it
    try:
        wait_until(lambda: all(len(c.done) >= 3 or c.error for c in clients), 15, 0.05,
                   "every keep-alive connection to answer three requests")
        check(not any(c.error for c in clients),
              "a keep-alive connection failed before the kill: " + "; ".join(
                  f"{c.name}: {c.error[1]}" for c in clients if c.error))
        # The table sync runs every 100 ms: let every standby hold the buckets of these connections, and give wrk
        # time to connect.
        time.sleep(max(0.0, t_wrk + 2.0 - time.monotonic()))
        v0 = wait_until(lambda: (table_versions(arr, active) or {}).get(active), 5, 0.1, "the active's table version")
        versions = wait_until(lambda: standbys_reach(arr, active, v0), 10, 0.05,
                              f"the standbys' tables to reach version {v0}")
        Suite.diag(f"active scheduler n{active} (pid {pids[0]}); table version {v0} when every connection was up, "
                   f"then {versions}; client ports: "
                   + ", ".join(f"{c.name}:{c.port}" for c in clients))
        before.update({c.name: len(c.done) for c in clients})
        if wrk.poll() is not None:
            raise TestFailure(f"wrk ended before the kill (exit {wrk.returncode}):\n{wrk.communicate()[0][-500:]}")

        # kill -9 the active scheduler: its DPDK process, by the id found through its --file-prefix.
        t["kill"] = time.monotonic()
        os.kill(pids[0], signal.SIGKILL)
        new = wait_until(lambda: arr.active(exclude=(active,)), 15, 0.05, "another scheduler to become active")
        t["new"] = time.monotonic()
        Suite.diag(f"n{new} became the active scheduler {1000 * (t['new'] - t['kill']):.0f} ms after the kill")

        # Keep the load up for 3 s after the takeover.
        deadline = t["new"] + 3.0
        while time.monotonic() < deadline and not any(c.error for c in clients) and wrk.poll() is None:
            time.sleep(0.1)
        wrk_early = wrk.poll()
    finally:
        t_stop = time.monotonic()
        for c in clients:
            c.stop()
        prober.stop()
        if wrk.poll() is None:
            wrk.send_signal(signal.SIGINT)
        try:
            wrk_stdout = wrk.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            wrk.kill()
            wrk_stdout = wrk.communicate(timeout=5)[0]
        if "kill" in t:
            failover_report(clients, prober, wrk, wrk_stdout, t, before, t_wrk, t_stop)

    failed = [c for c in clients if c.error]
    check(not failed, f"{len(failed)} keep-alive connection(s) made before the kill saw a failed request: "
          + "; ".join(f"{c.name}: {c.error[1]}" for c in failed))
    stalled = [c.name for c in clients if not any(d[0] >= t["new"] for d in c.done)]
    check(not stalled, f"keep-alive connections that served nothing after the takeover: {stalled}")

    # wrk: its connections were made at its start, 2 s before the kill; it reconnects after a failure, counting it.
    check(wrk_early is None, f"wrk ended by itself (exit {wrk.returncode}) {t_stop - t['kill']:.1f} s after the kill, "
                             f"before it was stopped:\n{wrk_stdout[-1500:]}")
    w = parse_wrk(wrk_stdout)
    errors = {k: w[k] for k in ("connect", "read", "write", "timeout", "status") if w[k]}
    check(not errors, f"wrk's connections saw errors across the failover: {errors}")

    res = prober.results
    failed_new = [r for r in res if not r[3]]
    check(not failed_new, f"{len(failed_new)} new connection(s) failed even after {prober.max_attempts} attempts")
    after_new = [r for r in res if r[0] >= t["new"] + 1.0]
    check(after_new and all(r[2] == 1 for r in after_new),
          "new connections more than 1 s after the takeover still needed retries (or none was made)")


def failover_report(clients, prober, wrk, wrk_stdout, t, before, t_wrk, t_stop):
    """Prints what every client saw across the kill (also when the case fails)."""
    t_kill, t_new = t["kill"], t.get("new", t_stop)
    lines = []
    for c in clients:
        after_kill = [d for d in c.done if d[0] >= t_kill]
        after_takeover = [d for d in c.done if d[0] >= t_new]
        slow = max((e - s for s, e in c.done if e >= t_kill), default=0.0)
        lines.append(f"{c.name} (port {c.port}): {before.get(c.name, '?')} before the kill, {len(after_kill)} after "
                     f"({len(after_takeover)} after the takeover), slowest across the kill {1000 * slow:.0f} ms"
                     + (f", FAILED {1000 * (c.error[0] - t_kill):+.0f} ms from the kill: {c.error[1]}"
                        if c.error else ""))
    Suite.diag("\n".join(lines))
    m = "E2E-WRK" in wrk_stdout
    if m:
        w = parse_wrk(wrk_stdout)
        Suite.diag(f"wrk ({CONNECTIONS} connections, 20 ms between requests, {w['duration_us'] / 1e6:.1f} s, "
                   f"started {t_kill - t_wrk:.1f} s before the kill, exit {wrk.returncode}): {w['requests']} requests, "
                   f"latency max {w['latency_max_us'] / 1000:.0f} ms p99 {w['latency_p99_us'] / 1000:.0f} ms; "
                   f"errors connect {w['connect']} read {w['read']} write {w['write']} timeout {w['timeout']} "
                   f"status {w['status']}")
    else:
        Suite.diag(f"wrk exited {wrk.returncode} without its totals:\n{wrk_stdout[-1500:]}")
    # New connections: informational (they may need a retry while the router still sends to the dead MAC).
    res = prober.results
    window = [r for r in res if r[1] >= t_kill and r[0] <= t_new + 1.0]
    retried = [r for r in res if r[2] > 1]
    failed_new = [r for r in res if not r[3]]
    Suite.diag(f"new connections: {len(res)} opened (one every 100 ms, 0.8 s connect timeout), {len(window)} "
               f"during the takeover window (kill .. takeover + 1 s); {len(retried)} needed a retry "
               f"({sum(r[2] - 1 for r in retried)} retries in all, at most {max((r[2] for r in res), default=0)} "
               f"attempts); {len(failed_new)} never succeeded")
    for r in retried[:10]:
        Suite.diag(f"  new connection at {1000 * (r[0] - t_kill):+.0f} ms from the kill: {r[2]} attempts, "
                   f"done after {1000 * (r[1] - r[0]):.0f} ms; last error {r[4]}")


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-e2e-load-",
                                                    [("wrk", "wrk"), ("h2load", "nghttp2-client")]))
