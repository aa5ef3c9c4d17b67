#!/usr/bin/python3
"""The operator's admin state lasts over a whole node's restart (issue 12, seed 002): on the namespace array,
`dlbactl --all-nodes` sets back end 2 out of service (maintenance), back end 3's weight and node 3's weight on every
node; each node's dlbad keeps them in its admin state file. Then every process of a standby node is killed with
kill -9 (scheduler, DLBA server, dlbad: the whole node) and started again as scripts/array starts them: the new
dlbad reads its file and replays it, so the node's server and scheduler have the operator's state again and new
requests never reach back end 2.

TAP, one line per case; root.
"""
import os
import re

from dlbatest import array
from dlbatest.ctl import ctl_json, rows_by
from dlbatest.node_restart import kill_node, start_node
from dlbatest.procs import run
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import NODES, VIP, curl

suite = Suite("e2e-admin-state")
state = {}


def all_nodes(*args):
    arr = state["array"]
    cmd = [os.environ["DLBA_DLBACTL"], "--config", os.path.join(arr.rundir, "n1.conf"), "--all-nodes", *map(str, args)]
    cp = run(cmd, ns=arr.ns("n1"), timeout=30, check_rc=False)
    check(cp.returncode == 0, f"--all-nodes {' '.join(map(str, args))}: exit {cp.returncode}: {cp.stdout} {cp.stderr}")


def server_rows(n):
    return rows_by(ctl_json(state["array"].sock(n, "server"), "backends", timeout=5))


def backend_view(n):
    """{key: (admin, weight)} of node n's DLBA server; None while it does not answer."""
    doc = ctl_json(state["array"].sock(n, "server"), "backends", check_rc=False, timeout=3)
    if not doc:
        return None
    return {k: (v["admin"], v["weight"]) for k, v in rows_by(doc).items()}


def node_weights(n):
    """{node: weight} in node n's scheduler status table; None while it does not answer."""
    doc = ctl_json(state["array"].sock(n, "sched"), "status", check_rc=False, timeout=3)
    return {k: v["weight"] for k, v in rows_by(doc).items()} if doc else None


WANT = {"1": ("in-service", 1), "2": ("maintenance", 1), "3": ("in-service", 3)}


def web_of(body):
    m = re.match(r"web ([123])\b", body or "")
    return m.group(1) if m else None


def restart_node(n):
    """kill -9 of every process in node n's namespace, then its three daemons again, as scripts/array starts them."""
    arr = state["array"]
    kill_node(arr, n)
    start_node(arr, n)
    wait_until(lambda: node_weights(n) is not None and backend_view(n) is not None, 15, 0.2, f"node {n} to answer")


@suite.case("--all-nodes out-of-service maintenance and weights are applied and kept by every node's dlbad; the "
            "summary table shows the reason", timeout=60)
def set_everywhere():
    arr = state["array"]
    all_nodes("backend", 2, "out-of-service", "maintenance")
    all_nodes("backend", 3, "weight", 3)
    all_nodes("node", 3, "weight", 2)
    for n in NODES:
        check(backend_view(n) == WANT, f"node {n}'s server: {backend_view(n)}")
        check(node_weights(n)[3] == 2, f"node {n}'s scheduler: {node_weights(n)}")
        with open(os.path.join(arr.rundir, f"n{n}.admin.state")) as f:
            text = f.read()
        check(text == "dlba-admin-state 1\nbackend 2 out-of-service maintenance\nbackend 3 weight 3\n"
                      "node 3 weight 2\nend 3\n", f"node {n}'s state file: {text!r}")
    def summary():
        doc = ctl_json(arr.sock(arr.active_node(), "dlbad"), "summary", timeout=5)
        return {k: v["admin"] for k, v in rows_by(doc).items()}
    wait_until(lambda: summary().get("2") == "maintenance", 10, 0.3, "the summary table to show back end 2's reason")
    check(summary() == {"1": "in-service", "2": "maintenance", "3": "in-service"}, f"summary: {summary()}")


@suite.case("a whole standby node killed with kill -9 and started again keeps them; back end 2 takes nothing",
            timeout=90)
def whole_node_restart():
    arr = state["array"]
    active = arr.active_node()
    n = max(x for x in NODES if x != active)
    restart_node(n)
    wait_until(lambda: backend_view(n) == WANT, 10, 0.2,
               f"node {n}'s restarted server to get the operator's state back ({backend_view(n)})")
    wait_until(lambda: (node_weights(n) or {}).get(3) == 2, 10, 0.2,
               f"node {n}'s restarted scheduler to get node 3's weight back ({node_weights(n)})")
    with open(os.path.join(arr.rundir, f"n{n}.dlbad.log")) as f:
        log = f.read()
    check(re.search(r"replayed 2 of 2 settings to the server", log) and
          re.search(r"replayed 1 of 1 settings to the scheduler", log), f"node {n}'s dlbad log: {log[-1500:]}")
    # New requests through the VIP (every node serves some of them) never reach back end 2.
    seen = []
    for i in range(15):
        rc, body = curl(arr, f"http://{VIP}/p{i}", timeout=5)
        seen.append(web_of(body) if rc == 0 else None)
    check(None not in seen and "2" not in seen, f"requests reached {seen}")


@suite.case("in-service and the configured weights again, on every node", timeout=60)
def back_to_normal():
    all_nodes("backend", 2, "in-service")
    all_nodes("backend", 3, "weight", 1)
    all_nodes("node", 3, "weight", 1)
    for n in NODES:
        view = backend_view(n)
        check(view == {k: ("in-service", 1) for k in ("1", "2", "3")}, f"node {n}'s server: {view}")


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-e2e-admin-"))
