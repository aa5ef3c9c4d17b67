#!/usr/bin/python3
"""DPDK telemetry (issue 17): a dlba-scheduler registers /dlba/counters, /dlba/table and /dlba/role beside DPDK's
own commands; Debian's dpdk-telemetry.py (package dpdk) reads them through the socket EAL opens in the runtime
directory of the scheduler's --file-prefix, and the values agree with what dlbactl reads on the control socket.

One topology (scripts/topo, no back ends), one scheduler (active, node 1); TAP, one line per case; root.
"""
import json
import os
import shutil
import subprocess

from dlbatest import ctl
from dlbatest.config import example_variant
from dlbatest.scheduler import Scheduler
from dlbatest.tap import Suite, check, main
from dlbatest.topo import VIP, Topology, curl

TELEMETRY = "/usr/bin/dpdk-telemetry.py"
suite = Suite("telemetry")
topo = Topology(nginx=False)
state = {}


def telemetry(*commands):
    """{command: answer} from dpdk-telemetry.py -f PREFIX, the commands fed on its stdin (not a tty: no prompt)."""
    cp = subprocess.run(["/usr/bin/python3", TELEMETRY, "-f", state["sched"].file_prefix],
                        input="".join(c + "\n" for c in commands), capture_output=True, text=True, timeout=20)
    check(cp.returncode == 0, f"dpdk-telemetry.py exited {cp.returncode}: {cp.stdout[-500:]} {cp.stderr[-500:]}")
    out = {}
    dec = json.JSONDecoder()
    text = cp.stdout
    i = 0
    while i < len(text):
        j = text.find("{", i)
        if j < 0:
            break
        doc, i = dec.raw_decode(text, j)
        out.update(doc)
    for c in commands:
        check(c in out, f"dpdk-telemetry.py gave no answer to {c}: {text[-800:]}")
    return out


def setup():
    check(os.geteuid() == 0, "the integration tests need root (network namespaces, DPDK)")
    check(shutil.which(TELEMETRY) or os.path.exists(TELEMETRY), f"{TELEMETRY} missing (Debian package dpdk)")
    topo.__enter__()
    cfg = example_variant(os.path.join(topo.rundir, "dlba-telemetry.conf"),
                          control_socket=os.path.join(topo.rundir, "unused.sock"))
    state["sched"] = Scheduler(topo, 1, cfg, role="active").wait_ready()
    curl(topo, f"http://{VIP}/", timeout=2)  # a little traffic (no back end answers; the frames count)


def teardown():
    if state.get("sched"):
        state["sched"].stop()
    topo.down()


@suite.case("dpdk-telemetry.py lists the three /dlba commands beside DPDK's own")
def case_listed():
    out = telemetry("/")
    listed = out["/"]
    for c in ("/dlba/counters", "/dlba/table", "/dlba/role", "/ethdev/list"):
        check(c in listed, f"{c} not among the commands: {listed}")


@suite.case("/dlba/counters agrees with dlbactl counters (constant rows exactly, rising ones within the gap)")
def case_counters():
    before = ctl.pairs(state["sched"].json("counters"))
    tel = telemetry("/dlba/counters")["/dlba/counters"]
    after = ctl.pairs(state["sched"].json("counters"))
    for name, v0 in before.items():
        key = name.replace(".", "_")
        check(key in tel, f"{key} missing from /dlba/counters: {sorted(tel)}")
        check(v0 <= tel[key] <= after[name], f"{key}: telemetry {tel[key]}, dlbactl {v0} .. {after[name]}")
    check(tel["rx"] > 0, "no frame received")


@suite.case("/dlba/table and /dlba/role agree with dlbactl hash and status")
def case_table_role():
    hash_doc = state["sched"].json("hash")
    status = state["sched"].json("status")
    out = telemetry("/dlba/table", "/dlba/role")
    table, role = out["/dlba/table"], out["/dlba/role"]
    for k in ("table_size", "assigned", "unassigned", "idle_timeout_s"):
        check(table[k] == hash_doc["meta"][k], f"/dlba/table {k} = {table[k]}, dlbactl hash {hash_doc['meta'][k]}")
    check(table["version"] == hash_doc["version"], f"version {table['version']} vs {hash_doc['version']}")
    for row in ctl.rows_by(hash_doc).items():
        n, r = row
        check(table[f"node_{n}_buckets"] == r["buckets"], f"node {n} buckets {table[f'node_{n}_buckets']} vs "
                                                          f"{r['buckets']}")
    check(role["role"] == status["meta"]["role"] == "active", f"role {role['role']} vs {status['meta']['role']}")
    check(role["node"] == status["meta"]["node"] == 1, f"node {role['node']} vs {status['meta']['node']}")
    check(role["vip"] == status["meta"]["vip"], f"vip {role['vip']} vs {status['meta']['vip']}")
    check(role["table_version"] == status["version"], f"table_version {role['table_version']} vs {status['version']}")
    # A role change shows at once.
    state["sched"].ctl("role", "standby")
    check(telemetry("/dlba/role")["/dlba/role"]["role"] == "standby", "the role change does not show")
    state["sched"].ctl("role", "active")


if __name__ == "__main__":
    main(suite, setup, teardown)
