#!/usr/bin/python3
"""Address takeover of an offline node (issue 13, seed 004) on the namespace array: every node has a direct IP
(nodes[].direct_ip, 10.77.0.4N, on lo of every node). A request to a standby node's direct IP is served by that
node's DLBA server (its `requests` counter moves, no other's does). With every process of that node killed, the same
address is served by the other nodes through the bucket table (status: served by "buckets", counter
direct_taken_over). A rate-limited download started while the address is taken over keeps its node when the node
returns and completes intact; new connections after the return reach the node again.

TAP, one line per case; root.
"""
import hashlib
import os
import subprocess
import time

from dlbatest import array
from dlbatest.ctl import ctl_json, pairs, rows_by
from dlbatest.node_restart import kill_node, start_node
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import NODES, curl

suite = Suite("e2e-direct-ip")
state = {}


def direct_ip(n):
    return f"10.77.0.4{n}"


def target():
    """The node whose address is taken over: a standby (killing the active would move the scheduler too)."""
    if "target" not in state:
        active = state["array"].active_node()
        state["target"] = max(n for n in NODES if n != active)
    return state["target"]


def requests_by_node():
    """{node: its DLBA server's requests counter}; 0 for a node whose server does not answer (killed)."""
    out = {}
    for n in NODES:
        doc = ctl_json(state["array"].sock(n, "server"), "status", check_rc=False, timeout=3)
        out[n] = pairs(doc).get("requests", 0) if doc else 0
    return out


def served_by(n):
    """Who serves node n's direct IP according to the active scheduler's status table (None: no answer)."""
    arr = state["array"]
    doc = ctl_json(arr.sock(arr.active_node(), "sched"), "status", check_rc=False, timeout=3)
    if not doc:
        return None
    row = rows_by(doc).get(n) or rows_by(doc).get(str(n))
    return row and (row.get("direct_ip"), row.get("direct_served_by"))


def fetch_many(n, count, tag):
    """`count` new connections to node n's direct IP; the number that got a 200 from a back end."""
    ok = 0
    for i in range(count):
        rc, body = curl(state["array"], f"http://{direct_ip(n)}/{tag}/{i}", timeout=5)
        ok += rc == 0 and (body or "").startswith("web ")
    return ok


@suite.case("a request to a live node's direct IP is served by that node itself; status says so", timeout=30)
def direct_while_live():
    n = target()
    check(served_by(n) == (direct_ip(n), "self"), f"status for node {n}: {served_by(n)}")
    before = requests_by_node()
    check(fetch_many(n, 8, "live") == 8, "a request to the direct IP failed")
    after = requests_by_node()
    delta = {k: after[k] - before[k] for k in NODES}
    check(delta[n] >= 8 and all(delta[k] == 0 for k in NODES if k != n), f"requests by node: {delta}")


@suite.case("with every process of the node killed, its direct IP is taken over by the others", timeout=45)
def taken_over():
    arr = state["array"]
    n = target()
    kill_node(arr, n)
    wait_until(lambda: (served_by(n) or (None, None))[1] == "buckets", 15, 0.2,
               f"node {n}'s direct IP to be taken over ({served_by(n)})")
    # Bounded retry: the sweep may still be failing the node when the first request goes out.
    wait_until(lambda: fetch_many(n, 1, "takeover-probe") == 1, 15, 0.3, "the taken-over address to answer")
    before = requests_by_node()
    check(fetch_many(n, 8, "taken-over") == 8, "a request to the taken-over address failed")
    after = requests_by_node()
    others = sum(after[k] - before[k] for k in NODES if k != n)
    check(others >= 8, f"the other nodes served {others} of 8")
    taken = pairs(ctl_json(arr.sock(arr.active_node(), "sched"), "counters", timeout=5)).get("direct_taken_over", 0)
    check(taken > 0, f"direct_taken_over = {taken}")


@suite.case("a download started while taken over survives the node's return; new connections reach the node",
            timeout=90)
def download_survives_return():
    arr = state["array"]
    n = target()
    out = os.path.join(state["workdir"], "big")
    dl = subprocess.Popen(["ip", "netns", "exec", arr.ns("client"), "curl", "-sS", "--limit-rate", "1M",
                           "--max-time", "80", "-o", out, "-w", "%{http_code} %{size_download}",
                           f"http://{direct_ip(n)}/big"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state["procs"] = [dl]
    time.sleep(1.0)
    check(dl.poll() is None, "the download ended at once")
    start_node(arr, n)
    wait_until(lambda: (served_by(n) or (None, None))[1] in ("returning", "self"), 20, 0.2,
               f"node {n} to get its address back ({served_by(n)})")
    check(dl.poll() is None, "the download finished before the node returned: the test proves nothing")
    # New connections go to the node again (their buckets are idle or new), while the download goes on elsewhere.
    before = requests_by_node()
    ok = fetch_many(n, 6, "returned")
    after = requests_by_node()
    delta = {k: after[k] - before[k] for k in NODES}
    check(ok == 6, f"{6 - ok} of 6 requests after the return failed")
    check(delta[n] >= 5, f"requests after the return by node: {delta}")
    try:
        res, err = dl.communicate(timeout=80)
    except subprocess.TimeoutExpired:
        dl.kill()
        res, err = dl.communicate()
    check(dl.returncode == 0 and res.startswith("200 "), f"download: rc {dl.returncode} {res} {err}")
    with open(out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    check(digest == arr.big_sha256(), f"the downloaded /big differs ({res})")


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-e2e-direct-ip-"))
