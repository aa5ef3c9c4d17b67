#!/usr/bin/python3
"""`dlbactl config push` across a running array (three nodes, each with its own copy of the configuration, its
scheduler and its node daemon): an invalid file or one a running scheduler cannot take changes nothing anywhere;
a valid one is applied everywhere without breaking a connection that runs through the VIP meanwhile.
"""
import hashlib
import json
import os

from dlbatest.config import prototype_text
from dlbatest.dlbad import start_dlbad
from dlbatest.procs import Proc, run
from dlbatest.scheduler import Scheduler
from dlbatest.tap import Suite, check, main, wait_until
from dlbatest.topo import NODES, VIP, Topology, curl, which_node

suite = Suite("config push")
state = {}


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def node_files():
    return {n: file_sha(state["conf"][n]) for n in NODES}


def push(path):
    return run([os.environ["DLBA_DLBACTL"], "config", "push", path], ns=state["topo"].ns("n1"), timeout=60,
               check_rc=False)


def variant(name, old, new):
    text = prototype_text()
    check(old in text, f"conf/dlba.conf has no '{old}'")
    path = os.path.join(state["topo"].rundir, name)
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    return path


def setup():
    topo = Topology().__enter__()
    state["topo"] = topo
    state["conf"], state["sched"], state["dlbad"] = {}, {}, {}
    for n in NODES:
        conf = os.path.join(topo.rundir, f"n{n}.conf")
        with open(conf, "w") as f:
            f.write(prototype_text())
        state["conf"][n] = conf
        state["sched"][n] = Scheduler(topo, n, conf, role="standby")
    for n in NODES:
        state["sched"][n].wait_ready()
    for n in NODES:
        state["dlbad"][n] = start_dlbad(topo, n, state["conf"][n], state["sched"][n].socket,
                                        os.path.join(topo.rundir, f"dlbad-n{n}.sock"),
                                        os.path.join(topo.rundir, f"dlbad-n{n}.log"))
    wait_until(lambda: state["sched"][1].json("status")["meta"]["role"] == "active", 10, 0.2,
               "node 1 elected active")
    suite.diag_hooks.append(lambda: "\n".join(f"dlbad n{n}: {state['dlbad'][n].tail(5)}" for n in NODES))


def teardown():
    for p in list(state.get("dlbad", {}).values()):
        p.stop()
    for s in list(state.get("sched", {}).values()):
        s.stop()
    if "topo" in state:
        state["topo"].__exit__(None, None, None)


@suite.case("a file with a syntax error is refused by dlbactl with file:line and nothing is sent")
def broken_file():
    before = node_files()
    bad = variant("broken.conf", "weight = 1;", "weight = = 1;")
    cp = push(bad)
    check(cp.returncode == 2, f"exit {cp.returncode}: {cp.stderr}")
    check(bad + ":" in cp.stderr, f"no file:line in: {cp.stderr}")
    check(node_files() == before, "a node's configuration file changed")


@suite.case("a file the running schedulers cannot take is refused by every node and changes nothing")
def immutable_change():
    before = node_files()
    cp = push(variant("bigger.conf", "table_size = 65536;", "table_size = 131072;"))
    check(cp.returncode == 1, f"exit {cp.returncode}: {cp.stdout} {cp.stderr}")
    check(cp.stderr.count("table_size") == 3, f"each node should give the reason: {cp.stderr}")
    check(node_files() == before, "a node's configuration file changed")
    check(all(not os.path.exists(state["conf"][n] + ".staged") for n in NODES), "a staged file was left behind")
    rows = state["sched"][1].status_rows()
    check(all(r["weight"] == 1 for r in rows.values()), f"weights changed: {rows}")


@suite.case("a valid file is applied on every node while a download through the VIP goes on unbroken")
def valid_push():
    topo = state["topo"]
    out = os.path.join(topo.rundir, "big.out")
    dl = Proc(["curl", "-sS", "--max-time", "40", "--limit-rate", "4M", "-o", out,
               "-w", "%{http_code} %{size_download}", f"http://{VIP}/big"],
              os.path.join(topo.rundir, "download.log"), ns=topo.ns("client"), name="download")
    new = variant("weights.conf", "weight = 1;", "weight = 2;")
    cp = push(new)
    check(cp.returncode == 0, f"exit {cp.returncode}: {cp.stdout} {cp.stderr}")
    check(all(file_sha(state["conf"][n]) == file_sha(new) for n in NODES), "not every node has the new file")
    for n in NODES:
        rows = state["sched"][n].status_rows()
        check(all(r["weight"] == 2 for r in rows.values()), f"scheduler n{n} did not take the new weights: {rows}")
    wait_until(lambda: not dl.alive(), 30, 0.2, "the download to finish")
    check(dl.returncode == 0, f"download failed: {dl.tail()}")
    check(dl.tail(1).strip() == "200 20971520", f"download result: {dl.tail(1)}")
    with open(out, "rb") as f:
        check(hashlib.sha256(f.read()).hexdigest() == topo.big_sha256(), "downloaded /big differs")
    # The daemons restarted on the new file and the array still has exactly one active scheduler.
    wait_until(lambda: all(state["dlbad"][n].alive() for n in NODES), 5, 0.2, "the daemons to run")
    roles = [state["sched"][n].json("status")["meta"]["role"] for n in NODES]
    check(roles.count("active") == 1, f"roles after the push: {roles}")
    code, body = curl(topo, f"http://{VIP}/")
    check(code == 0 and which_node(body), f"a new connection after the push failed: {code} {body!r}")


@suite.case("dlbactl --node N reads any node's tables through its daemon")
def remote_tables():
    exe = os.environ["DLBA_DLBACTL"]
    for node, what, table in ((3, "status", "status"), (2, "failover", "failover"), (1, "sweep", "sweep")):
        cp = run([exe, "--node", node, "--config", state["conf"][1], "--json", what], ns=state["topo"].ns("n1"),
                 timeout=20, check_rc=False)
        check(cp.returncode == 0, f"--node {node} {what}: exit {cp.returncode}: {cp.stderr}")
        doc = json.loads(cp.stdout)
        check(doc.get("table") == table and doc["meta"].get("node") == node, f"--node {node} {what}: {cp.stdout[:300]}")
    # The whole bucket listing through the daemon (paged like the local one: see test/pcap/hash_pages_test.py).
    cp = run([exe, "--node", 2, "--config", state["conf"][1], "--json", "hash", "--all"], ns=state["topo"].ns("n1"),
             timeout=20, check_rc=False)
    check(cp.returncode == 0, f"--node 2 hash --all: exit {cp.returncode}: {cp.stderr}")
    doc = json.loads(cp.stdout)
    check(doc["rows"] and len(doc["rows"]) == doc["meta"]["assigned"] and doc["meta"].get("next_bucket") is None,
          f"--node 2 hash --all: {len(doc['rows'])} rows, meta {doc['meta']}")
    cp = run([exe, "--node", 2, "--config", state["conf"][1], "role", "active"], ns=state["topo"].ns("n1"),
             timeout=20, check_rc=False)
    check(cp.returncode != 0, "a remote write was accepted")


if __name__ == "__main__":
    main(suite, setup, teardown)
