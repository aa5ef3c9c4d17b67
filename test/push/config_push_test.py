#!/usr/bin/python3
"""`dlbactl config push` across a running array (three nodes, each with its own copy of the configuration, its
scheduler and its node daemon): an invalid file or one a running scheduler cannot take changes nothing anywhere;
a valid one is applied everywhere without breaking a connection that runs through the VIP meanwhile.
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import dlbatest as t  # noqa: E402

suite = t.Suite("config push")
state = {}


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def node_files():
    return {n: file_sha(state["conf"][n]) for n in t.NODES}


def push(path):
    return t.run([os.environ["DLBA_DLBACTL"], "config", "push", path], ns=state["topo"].ns("n1"), timeout=60,
                 check_rc=False)


def variant(name, old, new):
    text = t.prototype_config_text()
    t.check(old in text, f"conf/dlba.conf has no '{old}'")
    path = os.path.join(state["topo"].rundir, name)
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    return path


def setup():
    topo = t.Topology().__enter__()
    state["topo"] = topo
    state["conf"], state["sched"], state["dlbad"] = {}, {}, {}
    for n in t.NODES:
        conf = os.path.join(topo.rundir, f"n{n}.conf")
        with open(conf, "w") as f:
            f.write(t.prototype_config_text())
        state["conf"][n] = conf
        state["sched"][n] = t.Scheduler(topo, n, conf, role="standby")
    for n in t.NODES:
        state["sched"][n].wait_ready()
    for n in t.NODES:
        sock = os.path.join(topo.rundir, f"dlbad-n{n}.sock")
        cmd = [os.environ["DLBA_DLBAD"], "--config", state["conf"][n], "--node", n,
               "--scheduler-socket", state["sched"][n].socket, "--monitor-socket", sock]
        state["dlbad"][n] = t.Proc(f"dlbad n{n}", cmd, topo.ns(f"n{n}"), os.path.join(topo.rundir, f"dlbad-n{n}.log"))
    t.wait_until(lambda: state["sched"][1].json("status")["meta"]["role"] == "active", 10, 0.2,
                 "node 1 elected active")
    suite.diag_hooks.append(lambda: "\n".join(f"dlbad n{n}: {state['dlbad'][n].tail(5)}" for n in t.NODES))


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
    t.check(cp.returncode == 2, f"exit {cp.returncode}: {cp.stderr}")
    t.check(bad + ":" in cp.stderr, f"no file:line in: {cp.stderr}")
    t.check(node_files() == before, "a node's configuration file changed")


@suite.case("a file the running schedulers cannot take is refused by every node and changes nothing")
def immutable_change():
    before = node_files()
    cp = push(variant("bigger.conf", "table_size = 65536;", "table_size = 131072;"))
    t.check(cp.returncode == 1, f"exit {cp.returncode}: {cp.stdout} {cp.stderr}")
    t.check(cp.stderr.count("table_size") == 3, f"each node should give the reason: {cp.stderr}")
    t.check(node_files() == before, "a node's configuration file changed")
    t.check(all(not os.path.exists(state["conf"][n] + ".staged") for n in t.NODES), "a staged file was left behind")
    rows = state["sched"][1].status_rows()
    t.check(all(r["weight"] == 1 for r in rows.values()), f"weights changed: {rows}")


@suite.case("a valid file is applied on every node while a download through the VIP goes on unbroken")
def valid_push():
    topo = state["topo"]
    out = os.path.join(topo.rundir, "big.out")
    dl = t.Proc("download", ["curl", "-sS", "--max-time", "40", "--limit-rate", "4M", "-o", out,
                             "-w", "%{http_code} %{size_download}", f"http://{t.VIP}/big"],
                topo.ns("client"), os.path.join(topo.rundir, "download.log"))
    new = variant("weights.conf", "weight = 1;", "weight = 2;")
    cp = push(new)
    t.check(cp.returncode == 0, f"exit {cp.returncode}: {cp.stdout} {cp.stderr}")
    t.check(all(file_sha(state["conf"][n]) == file_sha(new) for n in t.NODES), "not every node has the new file")
    for n in t.NODES:
        rows = state["sched"][n].status_rows()
        t.check(all(r["weight"] == 2 for r in rows.values()), f"scheduler n{n} did not take the new weights: {rows}")
    t.wait_until(lambda: not dl.alive(), 30, 0.2, "the download to finish")
    t.check(dl.p.returncode == 0, f"download failed: {dl.tail()}")
    t.check(dl.tail(1).strip() == "200 20971520", f"download result: {dl.tail(1)}")
    with open(out, "rb") as f:
        t.check(hashlib.sha256(f.read()).hexdigest() == topo.big_sha256(), "downloaded /big differs")
    # The daemons restarted on the new file and the array still has exactly one active scheduler.
    t.wait_until(lambda: all(state["dlbad"][n].alive() for n in t.NODES), 5, 0.2, "the daemons to run")
    roles = [state["sched"][n].json("status")["meta"]["role"] for n in t.NODES]
    t.check(roles.count("active") == 1, f"roles after the push: {roles}")
    code, body = t.curl(topo, f"http://{t.VIP}/")
    t.check(code == 0 and t.which_node(body), f"a new connection after the push failed: {code} {body!r}")


@suite.case("dlbactl --node N reads any node's tables through its daemon")
def remote_tables():
    exe = os.environ["DLBA_DLBACTL"]
    for node, what, table in ((3, "status", "status"), (2, "failover", "failover"), (1, "sweep", "sweep")):
        cp = t.run([exe, "--node", node, "--config", state["conf"][1], "--json", what], ns=state["topo"].ns("n1"),
                   timeout=20, check_rc=False)
        t.check(cp.returncode == 0, f"--node {node} {what}: exit {cp.returncode}: {cp.stderr}")
        doc = __import__("json").loads(cp.stdout)
        t.check(doc.get("table") == table and doc["meta"].get("node") == node, f"--node {node} {what}: {cp.stdout[:300]}")
    # The whole bucket listing through the daemon (paged like the local one: see test/pcap/hash_pages_test.py).
    cp = t.run([exe, "--node", 2, "--config", state["conf"][1], "--json", "hash", "--all"], ns=state["topo"].ns("n1"),
               timeout=20, check_rc=False)
    t.check(cp.returncode == 0, f"--node 2 hash --all: exit {cp.returncode}: {cp.stderr}")
    doc = __import__("json").loads(cp.stdout)
    t.check(doc["rows"] and len(doc["rows"]) == doc["meta"]["assigned"] and doc["meta"].get("next_bucket") is None,
            f"--node 2 hash --all: {len(doc['rows'])} rows, meta {doc['meta']}")
    cp = t.run([exe, "--node", 2, "--config", state["conf"][1], "role", "active"], ns=state["topo"].ns("n1"),
               timeout=20, check_rc=False)
    t.check(cp.returncode != 0, "a remote write was accepted")


if __name__ == "__main__":
    sys.exit(suite.run(setup, teardown))
