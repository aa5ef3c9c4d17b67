#!/usr/bin/python3
"""Load in the heartbeat and two-threshold steering (issue 13, seed 004), on the namespace array (scripts/array:
scheduler, DLBA server and dlbad on every node, nginx back ends).

Every node's copy of the configuration gets `failover.load = { source = "connections"; high_pct = 50;
margin_pct = 20; hysteresis_pct = 10; }`; node 2's server takes `max_connections = 20`, nodes 1 and 3 take 24 (so
that all three can be made high too). The node's load is its server's open connections over that maximum.

  1. Connections held open on node 2 until its load is above the threshold (11/20 = 55 %, the others 0 %): the
     active's dlbad steers node 2 away; 60 new connections from distinct client ports get no node-2 bucket, and the
     hash table's `load_steered` counts them.
  2. Released: node 2's load falls to 0, it is no longer steered and takes new buckets again.
  3. Every node high and within the margin (13/24 = 54 % on nodes 1 and 3, 11/20 = 55 % on node 2): nobody is
     steered, the normal rule applies (no assignment passes over a steered node).

TAP, one line per case; root.
"""
from dlbatest import array, conf_edit
from dlbatest.ctl import ctl_json, rows_by
from dlbatest.failover import DEFAULT_HASH_SEED, bucket_of_mix
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import CLIENT_IP, NODES, HttpConn

EDITS = {
    "all": [["failover = {\n", "failover = {\n  load = { source = \"connections\"; high_pct = 50; margin_pct = 20; "
                               "hysteresis_pct = 10; };\n"],
            ["max_connections = 10000;", "max_connections = 24;"]],
    "2": [["max_connections = 24;", "max_connections = 20;"]],
}

suite = Suite("failover-load-steering")
state = {"held": [], "node_of": {}}


def setup():
    conf_edit.bring_up(state, "dlba-load-steering-", EDITS)


def active():
    return state["array"].active_node()


def sched(n, *args):
    return ctl_json(state["array"].sock(n, "sched"), *args, timeout=10)


def bucket_nodes():
    """{bucket: node} of every assigned bucket on the active scheduler."""
    doc = sched(active(), "hash", "--all")
    return {r[0]: r[1] for r in doc["rows"]}


def bucket_of(port):
    meta = sched(active(), "hash")["meta"]
    return bucket_of_mix(meta["table_size"], DEFAULT_HASH_SEED, CLIENT_IP, port)


def steering():
    """{node: (load_pct, steered)} in the active scheduler's status table."""
    return {n: (r["load_pct"], r["steered"]) for n, r in rows_by(sched(active(), "status")).items()}


def load_steered():
    return sched(active(), "hash")["meta"]["load_steered"]


def release():
    for c in state["held"]:
        c.abort()
    state["held"] = []


def hold(targets):
    """Keep open connections until node n holds targets[n] of them ({node: count}); the others are closed."""
    arr = state["array"]
    held = {n: 0 for n in NODES}
    for c in state["held"]:
        held[state["node_of"][c.port]] += 1
    for _ in range(400):
        if all(held[n] >= targets.get(n, 0) for n in NODES):
            return
        c = HttpConn(arr)
        c.get("/")  # served: the server counts it open until we close it
        node = bucket_nodes().get(bucket_of(c.port))
        if node in held and held[node] < targets.get(node, 0):
            state["node_of"][c.port] = node
            state["held"].append(c)
            held[node] += 1
        else:
            c.abort()
    check(False, f"could not place the connections: held {held}, wanted {targets}")


def new_connection_nodes(count):
    """`count` new connections from distinct client ports whose buckets were unassigned: the node of each."""
    out = []
    for _ in range(count * 3):
        if len(out) == count:
            break
        before = bucket_nodes()
        c = HttpConn(state["array"])
        b = bucket_of(c.port)
        try:
            c.get("/")
            node = bucket_nodes().get(b)
        finally:
            c.abort()
        if b not in before:  # a new bucket, not one a connection of an earlier case keeps busy
            out.append(node)
    check(len(out) == count, f"only {len(out)} connections hit new buckets")
    return out


@suite.case("node 2 above the threshold with peers 20 points lower is steered away: 60 new connections get no "
            "node-2 bucket", timeout=60)
def steered_away():
    wait_until(lambda: all(l is not None for l, _ in steering().values()), 10, 0.3, "every node's load to be known")
    # 11 of 20 = 55 %: above 50 (at 11 it is steered, so a twelfth would not land on it anyway).
    hold({2: 11})
    wait_until(lambda: steering()[2] == (55, True), 10, 0.2, f"node 2 to be steered ({steering()})")
    check(not steering()[1][1] and not steering()[3][1], f"only node 2 is steered: {steering()}")
    fo = rows_by(ctl_json(state["array"].sock(active(), "dlbad"), "failover", timeout=5))
    check(fo[2]["load_pct"] == 55 and fo[2]["steered"] is True, f"dlbactl failover: {fo[2]}")
    before = load_steered()
    nodes = new_connection_nodes(60)
    check(2 not in nodes and None not in nodes, f"new connections reached {nodes}")
    check(load_steered() >= before + 60, f"load_steered {before} -> {load_steered()}")


@suite.case("released below the threshold, node 2 takes new buckets again", timeout=40)
def takes_again():
    release()
    wait_until(lambda: steering()[2] == (0, False), 10, 0.2, f"node 2 to be released ({steering()})")
    # Node 2 has the fewest buckets now: the normal rule gives it the new ones.
    nodes = new_connection_nodes(10)
    check(nodes.count(2) >= 5, f"new connections reached {nodes}")


@suite.case("every node high and within the margin: nobody is steered, the normal rule applies", timeout=60)
def all_high():
    hold({1: 13, 2: 11, 3: 13})  # 54 %, 55 %, 54 %
    wait_until(lambda: all(l is not None and l > 50 for l, _ in steering().values()), 10, 0.2,
               f"every node above the threshold ({steering()})")
    check(not any(s for _, s in steering().values()), f"nobody steered: {steering()}")
    before = load_steered()
    nodes = new_connection_nodes(10)
    check(None not in nodes, f"new connections: {nodes}")
    check(load_steered() == before, f"no assignment passed over a steered node: {before} -> {load_steered()}")
    check(not any(s for _, s in steering().values()), f"nobody steered: {steering()}")
    release()


if __name__ == "__main__":
    array.main(suite, state, setup)
