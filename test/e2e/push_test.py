#!/usr/bin/python3
"""Operator changes through the whole Pentaflow (issue 4): `dlbactl config push` reaches every node's scheduler,
DLBA server and node daemon, and nothing in flight breaks; a back end drained on every node keeps its sessions and
takes no new ones.

1. A file that only the DLBA servers can refuse (a TLS certificate path that does not exist: the schedulers accept
   it) is refused by every node in the prepare phase, with the servers' reason; no file and no server changes.
2. A valid file that takes back end 3 out of the "web" service is applied everywhere while keep-alive HTTP and
   HTTPS connections carry requests and a rate-limited download of /big runs: every server's configuration
   generation advances, no request fails, the download completes with the right bytes, and new connections to the
   web service no longer reach back end 3.

TAP, one line per case; root.
"""
import contextlib
import hashlib
import os
import re
import subprocess
import time

from dlbatest import array
from dlbatest.clients import KeepAlive, client_context
from dlbatest.ctl import ctl_json
from dlbatest.paths import BUILD_ROOT
from dlbatest.procs import run
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import NODES, VIP, curl

suite = Suite("e2e-push")
state = {}


def node_conf(n):
    return os.path.join(state["array"].rundir, f"n{n}.conf")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def generations():
    arr = state["array"]
    return {n: ctl_json(arr.sock(n, "server"), "status", timeout=5)["meta"].get("config_generation")
            for n in NODES}


def variant(name, pattern, replacement):
    """A copy of the running file with one change (the pattern must match exactly once)."""
    with open(node_conf(1)) as f:
        text = f.read()
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    check(count == 1, f"{name}: pattern {pattern!r} not found in the array's file")
    path = os.path.join(state["workdir"], name)
    with open(path, "w") as f:
        f.write(new)
    os.chmod(path, 0o644)
    return path


def push(path):
    """dlbactl config push from node 1's namespace (it reaches every node's daemon on its eth0)."""
    return run([os.environ["DLBA_DLBACTL"], "config", "push", path], ns=state["array"].ns("n1"), timeout=60,
               check_rc=False)


@suite.case("a file only the DLBA servers refuse (missing TLS certificate) is refused by every node; nothing changes")
def refused_by_servers():
    before = {n: sha(node_conf(n)) for n in NODES}
    gen0 = generations()
    path = variant("bad-cert.conf", r'^(\s*certificate\s*=\s*)"[^"]*"', r'\1"/nonexistent/dlba-server.pem"')
    cp = push(path)
    suite.diag(f"push exit {cp.returncode}; stderr: {cp.stderr.strip()[:600]}")
    check(cp.returncode != 0, f"the push was accepted: {cp.stdout}")
    check(cp.stderr.count("server:") >= len(NODES), f"not every node gave the server's reason: {cp.stderr}")
    check({n: sha(node_conf(n)) for n in NODES} == before, "a node's file changed")
    check(generations() == gen0, f"a server reloaded: {gen0} -> {generations()}")


def web_of(body):
    m = re.match(r"web ([123])\b", body or "")   # "web N\n" (/login) or "web N /path\n"
    return int(m.group(1)) if m else None


def cookie_groups():
    """{back-end key: cookie groups} summed over every node's DLBA server."""
    out = {}
    for n in NODES:
        doc = ctl_json(state["array"].sock(n, "server"), "backends", timeout=5)
        col = [c["name"] for c in doc["columns"]].index("cookie_groups")
        for r in doc["rows"]:
            out[r[0]] = out.get(r[0], 0) + r[col]
    return out


def session_get(jar, path):
    """One request on a new connection with the cookie jar `jar` (read and written); returns the back end."""
    arr = state["array"]
    rc, body = curl(arr, f"http://{VIP}{path}", timeout=5, extra=["-c", jar, "-b", jar])
    return web_of(body) if rc == 0 else None


@suite.case("backend drain on every node (dlbactl --all-nodes backend 2 drain): cookie sessions on back end 2 go on there; no "
            "new session goes to it; enable brings it back", timeout=90)
def backend_drain():
    arr = state["array"]
    groups0 = cookie_groups()
    jars = {}   # jar path -> back end of its login
    for i in range(30):   # bounded: logins until one session sits on back end 2 (least connections spreads them)
        jar = os.path.join(state["workdir"], f"jar{i}")
        jars[jar] = session_get(jar, f"/login?u={i}")
        if i >= 5 and 2 in jars.values():
            break
    check(None not in jars.values(), f"a login failed: {jars}")
    on2 = [j for j, b in jars.items() if b == 2]
    check(on2, f"no login session landed on back end 2: {sorted(jars.values())}")
    # Through every node's daemon at once (dlbactl --all-nodes), as an operator would from any host.
    all_nodes = [os.environ["DLBA_DLBACTL"], "--config", node_conf(1), "--all-nodes"]
    try:
        cp = run(all_nodes + ["backend", "2", "drain"], ns=arr.ns("n1"), timeout=30, check_rc=False)
        suite.diag(f"--all-nodes backend 2 drain: exit {cp.returncode}: {cp.stdout.strip()}")
        check(cp.returncode == 0, f"--all-nodes backend 2 drain: {cp.stdout} {cp.stderr}")
        states = {n: {r[0]: r[3] for r in ctl_json(arr.sock(n, "server"), "backends", timeout=5)["rows"]}["2"]
                  for n in NODES}
        check(all(v == "drain" for v in states.values()), f"back end 2's state per node: {states}")
        # Existing sessions (their SpServer cookie names back end 2) continue there, on whichever node.
        pinned = [session_get(j, f"/account/{k}") for j in on2 for k in range(4)]
        # New sessions never go to a draining back end.
        fresh = [session_get(os.path.join(state["workdir"], f"new{i}"), f"/login?n={i}") for i in range(12)]
        suite.diag(f"{len(on2)} sessions on back end 2 after the drain answered by {sorted(set(pinned), key=str)}; "
                   f"12 new logins by {sorted(fresh, key=str)}")
        check(pinned and all(b == 2 for b in pinned), f"sessions pinned to back end 2 answered by: {pinned}")
        check(None not in fresh and 2 not in fresh, f"new logins during the drain: {fresh}")
        # Every login started one cookie group (the back end set JSESSIONID, the server added SpServer), counted on
        # the back end that answered it, over all nodes' servers; the active's summary table (from the sweep) too.
        logins = list(jars.values()) + fresh
        groups = cookie_groups()
        added = {k: groups.get(k, 0) - groups0.get(k, 0) for k in groups}
        want = {str(b): logins.count(b) for b in (1, 2, 3)}
        suite.diag(f"cookie groups started per back end: {added} (logins: {want})")
        check(added == want, f"cookie groups per back end {added}, logins {want}")
        time.sleep(1.5)  # one status sweep
        summary = {r[0]: r[2] for r in ctl_json(arr.sock(arr.active(), "dlbad"), "summary", timeout=5)["rows"]}
        check(summary == groups, f"the summary's cookie groups {summary} differ from the servers' {groups}")
    finally:
        run(all_nodes + ["backend", "2", "enable"], ns=arr.ns("n1"), timeout=30, check_rc=False)
    states = {n: {r[0]: r[3] for r in ctl_json(arr.sock(n, "server"), "backends", timeout=5)["rows"]}["2"]
              for n in NODES}
    check(all(v == "up" for v in states.values()), f"back end 2 after enable: {states}")


def pids_of(pattern):
    return [int(x) for x in run(["pgrep", "-f", pattern], check_rc=False).stdout.split()]


def start_in_node(n, argv, log_name):
    """Starts a daemon in node n's namespace the way scripts/array does (own session, log in the run dir)."""
    arr = state["array"]
    log = open(os.path.join(arr.rundir, log_name), "ab")
    try:
        subprocess.Popen(["ip", "netns", "exec", arr.ns(f"n{n}"), "setsid"] + argv, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def sweep_row(active, n):
    doc = ctl_json(state["array"].sock(active, "dlbad"), "sweep", timeout=5)
    return dict(zip([c["name"] for c in doc["columns"]], next(r for r in doc["rows"] if r[0] == n)))


def node_failed(active, n):
    rows = ctl_json(state["array"].sock(active, "sched"), "status", timeout=5)["rows"]
    return next(r for r in rows if r[0] == n)[6]


@suite.case("the sweep asks the DLBA server: a standby node whose dlbad dies stays live and its connections go on; "
            "the same node is failed when its server dies, and live again when the server is back", timeout=120)
def sweep_witness():
    arr = state["array"]
    active = arr.active_node()
    n = max(x for x in NODES if x != active)
    conf = os.path.join(arr.rundir, f"n{n}.conf")
    clients = [KeepAlive(arr, f"sweep-http-{i}", pause=0.05) for i in range(9)]
    state["threads"] = clients
    for c in clients:
        c.start()
    dlbad = [os.path.join(BUILD_ROOT, "scheduler", "dlbad"), "--config", conf, "--node", str(n),
             "--scheduler-socket", arr.sock(n, "sched"), "--server-socket", arr.sock(n, "server"),
             "--monitor-socket", arr.sock(n, "dlbad"), "--admin-state", os.path.join(arr.rundir, f"n{n}.admin.state")]
    server = [os.path.join(BUILD_ROOT, "dlba_server", "dlba-server"), "--config", conf, "--node", str(n),
              "--monitor-socket", arr.sock(n, "server")]
    try:
        # 1. dlbad dies: the node's server still answers the sweep, so the node stays live.
        pids = pids_of(f"dlbad --config {conf} ")
        check(len(pids) == 1, f"dlbad of node {n}: pids {pids}")
        os.kill(pids[0], 9)
        time.sleep(2.5)   # more than a sweep cycle: delay 1 s + 3 attempts 0.3 s apart
        row = sweep_row(active, n)
        suite.diag(f"node {n}'s dlbad killed; 2.5 s later the active's sweep row: {row}")
        check(row["answered"] and row["server"] == "dlba-server", f"the sweep did not get the server's answer: {row}")
        check(not node_failed(active, n), f"node {n} was failed although its server serves")
        start_in_node(n, dlbad, f"n{n}.dlbad.log")
        wait_until(lambda: ctl_json(arr.sock(n, "dlbad"), "failover", check_rc=False, timeout=2), 10, 0.2,
                   f"dlbad of node {n} back")
        errors = {c.name: c.error for c in clients if c.error}
        check(not errors, f"keep-alive connections broke while node {n}'s dlbad was dead: {errors}")
        check(arr.active() == active, f"the active changed: {arr.active()}")
        # 2. the server dies: now the node is silent to the sweep and is failed.
        for c in clients:
            c.stop()
        pids = pids_of(f"dlba-server --config {conf} ")
        check(len(pids) == 1, f"dlba-server of node {n}: pids {pids}")
        os.kill(pids[0], 9)
        wait_until(lambda: node_failed(active, n), 10, 0.1, f"node {n} failed after its server died")
        suite.diag(f"node {n}'s server killed: failed; sweep row {sweep_row(active, n)}")
        # 3. the server comes back: live again.
        with contextlib.suppress(OSError):
            os.unlink(arr.sock(n, "server"))
        start_in_node(n, server, f"n{n}.server.log")
        wait_until(lambda: not node_failed(active, n), 15, 0.2, f"node {n} live again with its server back")
    finally:
        for c in clients:
            c.stop()


@suite.case("a valid push (back end 3 out of the web service) applies everywhere under keep-alive traffic and a "
            "download: generations advance, no request fails, the download is intact, new requests avoid web 3",
            timeout=120)
def applied_under_traffic():
    arr = state["array"]
    ctx = client_context(arr.ca())
    gen0 = generations()
    out = os.path.join(state["workdir"], "big")
    dl = subprocess.Popen(["ip", "netns", "exec", arr.ns("client"), "curl", "-sS", "--limit-rate", "4M",
                           "--max-time", "60", "-o", out, "-w", "%{http_code} %{size_download}", f"http://{VIP}/big"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state["procs"] = [dl]
    clients = [KeepAlive(arr, f"push-http-{i}", pause=0.02) for i in range(4)]
    clients += [KeepAlive(arr, f"push-https-{i}", tls=True, ctx=ctx, pause=0.02) for i in range(2)]
    state["threads"] = clients
    for c in clients:
        c.start()
    try:
        time.sleep(1.0)
        path = variant("no-web3.conf", r'^(\s*name = "web";\s*\n\s*backends = )\["1", "2", "3"\]', r'\1["1", "2"]')
        cp = push(path)
        suite.diag(f"push exit {cp.returncode}: {cp.stdout.strip()[:800]} {cp.stderr.strip()[:300]}")
        check(cp.returncode == 0, f"the push failed: {cp.stdout} {cp.stderr}")
        check(all(sha(node_conf(n)) == sha(path) for n in NODES), "not every node has the new file")
        gens = wait_until(lambda: (lambda g: g if all(g[n] > gen0[n] for n in NODES) else None)(generations()), 10,
                          0.2, "every server's configuration generation to advance")
        suite.diag(f"server generations {gen0} -> {gens}")
        time.sleep(1.0)  # the keep-alive clients go on after the reload
    finally:
        for c in clients:
            c.stop()
    errors = {c.name: c.error for c in clients if c.error}
    suite.diag("keep-alive: " + ", ".join(f"{c.name} {len(c.done)}" for c in clients))
    check(not errors, f"keep-alive requests failed: {errors}")
    check(all(len(c.done) > 10 for c in clients), "a keep-alive client made almost no requests")
    try:
        res, err = dl.communicate(timeout=70)
    except subprocess.TimeoutExpired:
        dl.kill()
        res, err = dl.communicate()
    check(dl.returncode == 0 and res.startswith("200 "), f"download: rc {dl.returncode} {res} {err}")
    check(sha(out) == arr.big_sha256(), "the downloaded /big differs")
    # New connections to the web service (least connections among 1 and 2 now): never web 3.
    seen = []
    for i in range(12):
        rc, body = curl(arr, f"http://{VIP}/after-push/{i}", timeout=5)
        seen.append(web_of(body) if rc == 0 else None)
    suite.diag(f"back ends of 12 new requests after the push: {seen}")
    check(None not in seen and 3 not in seen, f"back ends after the push: {seen}")
    check(arr.active() is not None, "no active scheduler after the push")


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-e2e-push-"))
