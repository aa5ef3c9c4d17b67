#!/usr/bin/python3
"""Self-diagnosis (issue 13): a node whose DLBA server has no usable back end in any listener's service answers the
status sweep `healthy: false`, and the active's sweep fails it as if it had not answered; healthy again, it is live
again.

On scripts/array with an active check on every back end (each node's copy of the configuration; the check is the
server's own view, without waiting for a client), node 3 alone is cut from every back end by a firewall in its
namespace (nft: TCP to the back ends rejected). Node 3 becomes failed with the reason in the sweep table, loses its
buckets, and new connections through the VIP are all served, by nodes 1 and 2 only. The firewall removed, node 3
is live again.

TAP, one line per case; root.
"""
import time

from dlbatest import array, conf_edit, tap
from dlbatest.ctl import ctl_json, rows_by
from dlbatest.procs import run
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import VIP, curl

BACKENDS = "10.77.0.31, 10.77.0.32, 10.77.0.33"
CHECK = 'check = { path = "/"; interval_ms = 300; timeout_ms = 200; rise = 2; fall = 2; }; '
EDITS = {"all": [["enabled = true; }", "enabled = true; " + CHECK + "}"]]}
TABLE = "dlba_selfdiag"

suite = Suite("e2e-self-diagnosis")
state = {}


def setup():
    conf_edit.bring_up(state, "dlba-e2e-selfdiag-", EDITS)


def active():
    return state["array"].active_node()


def sched_status():
    return rows_by(ctl_json(state["array"].sock(active(), "sched"), "status", timeout=5))


def sweep_rows():
    return rows_by(ctl_json(state["array"].sock(active(), "dlbad"), "sweep", timeout=5))


def node3_ns():
    return state["array"].ns("n3")


def firewall(on):
    if on:
        run(["nft", "-f", "-"], ns=node3_ns(), input=(
            f"table inet {TABLE} {{\n  chain out {{\n    type filter hook output priority 0;\n"
            f"    ip daddr {{ {BACKENDS} }} tcp dport 80 reject with tcp reset\n  }}\n}}\n"))
    else:
        run(["nft", "delete", "table", "inet", TABLE], ns=node3_ns(), check_rc=False)


def node3_requests():
    return state["array"].server_counters(3).get("requests", 0)


@suite.case("all three nodes live at the start", timeout=20)
def all_live():
    wait_until(lambda: all(not r["failed"] for r in sched_status().values()), 10, 0.3,
               f"every node live ({sched_status()})")


@suite.case("node 3 cut from every back end reports itself unhealthy and is failed; its buckets move", timeout=30)
def node3_failed():
    try:
        firewall(True)
        wait_until(lambda: sched_status()[3]["failed"], 15, 0.2, "node 3 to be failed by the sweep")
    except BaseException:
        firewall(False)
        raise
    err = sweep_rows()[3]["last_error"] or ""
    check(err.startswith("reports itself unhealthy: no usable back end"), f"sweep last_error for node 3: {err!r}")
    check(sched_status()[3]["buckets"] == 0, f"node 3 keeps buckets: {sched_status()[3]}")
    check(not sched_status()[1]["failed"] and not sched_status()[2]["failed"], f"{sched_status()}")
    state["node3_failed"] = True


@suite.case("clients keep being served, by nodes 1 and 2 only: 40 new connections, zero errors", timeout=60)
def served_by_others():
    check(state.get("node3_failed"), "node 3 was not failed (the case before)")
    before = node3_requests()
    errors = []
    for i in range(40):
        rc, body = curl(state["array"], f"http://{VIP}/sd{i}", timeout=5, extra=["-o", "/dev/null", "-w",
                                                                               "%{http_code}"])
        if rc != 0 or body != "200":
            errors.append((i, rc, body))
    check(not errors, f"failed requests: {errors}")
    check(node3_requests() == before, f"node 3 served {node3_requests() - before} of them")
    check(sched_status()[3]["failed"], "node 3 stayed failed throughout")


@suite.case("the firewall removed, node 3 reports healthy and is live again", timeout=30)
def node3_back():
    check(state.get("node3_failed"), "node 3 was not failed (the case before)")
    firewall(False)
    t0 = time.monotonic()
    wait_until(lambda: not sched_status()[3]["failed"], 15, 0.2, "node 3 to be live again")
    tap.diag(f"node 3 live again {time.monotonic() - t0:.1f} s after the firewall went")
    check(sweep_rows()[3]["answered"], f"sweep: {sweep_rows()[3]}")


if __name__ == "__main__":
    array.main(suite, state, setup)
