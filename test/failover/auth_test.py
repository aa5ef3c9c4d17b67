#!/usr/bin/python3
"""Peer authentication in the namespace topology (issue 10): three nodes, each with its own copy of the
configuration (conf/dlba.conf's prototype sections, which carry the fixed test key), its scheduler and its node
daemon. Every attack below comes from where an attacker would send it and must change nothing but a drop counter:

  * the client namespace reaches none of the peer ports (the topology's nftables rules);
  * forged heartbeats (unsigned, unknown key, stale) claiming the active role with a term 100 higher;
  * a captured sync answer replayed to a standby's later pulls (a man in the middle on the standby's own
    namespace: nftables DNAT of its pulls to a relay that forwards the first one and replays its answer);
  * an unsigned push and ADMIN, a push signed with an unknown key, a captured ADMIN replayed;
  * a node started with a wrong key is isolated (never takes the VIP) and reported by its peers;
  * key rotation in three pushes keeps the array working; a file that would lock the nodes out is refused.
"""
import os
import re
import socket
import threading
import time

from dlbatest import auth
from dlbatest.config import prototype_text
from dlbatest.ctl import ask
from dlbatest.dlbad import start_dlbad, wait_dlbad
from dlbatest.netns import ns_socket
from dlbatest.procs import run
from dlbatest.scheduler import Scheduler
from dlbatest.tap import Suite, check, main, wait_until
from dlbatest.topo import NODES, VIP, Topology, curl, eth0_ip, which_node

suite = Suite("failover auth")
state = {"dlbad_starts": 0}


def topo():
    return state["topo"]


def mon(n):
    return os.path.join(topo().rundir, f"dlbad-n{n}.sock")


def start_node_dlbad(n, conf=None):
    state["dlbad_starts"] += 1
    log = os.path.join(topo().rundir, f"dlbad-n{n}-{state['dlbad_starts']}.log")
    p = start_dlbad(topo(), n, conf or state["conf"][n], state["sched"][n].socket, mon(n), log)
    state["dlbad"][n] = p
    return wait_dlbad(p, n, mon(n), 10)


def failover(n):
    return ask(mon(n), "failover", timeout=2)


def drops(n, reason):
    doc = failover(n)
    return doc["meta"].get(f"auth.dropped.{reason}", 0) if doc else 0


def roles():
    return {n: state["sched"][n].json("status")["meta"]["role"] for n in NODES}


def one_active():
    r = roles()
    a = [n for n, role in r.items() if role == "active"]
    return a[0] if len(a) == 1 else None


def weight_of(n, node):
    return state["sched"][n].status_rows()[node]["weight"]


def write_variant(name, text):
    path = os.path.join(topo().rundir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def with_keys(keys, text=None):
    text = text or prototype_text()
    new, count = re.subn(r"peer_keys = \[[^\]]*\];", "peer_keys = [" + ", ".join(f'"{k}"' for k in keys) + "];",
                         text)
    check(count == 1, "conf/dlba.conf has no peer_keys line to replace")
    return new


def push(path):
    return run([os.environ["DLBA_DLBACTL"], "config", "push", path], ns=topo().ns("n1"), timeout=60,
               check_rc=False)


def config_id(data):
    h = 1469598103934665603
    for c in data:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def array_healthy(keys):
    """One active scheduler, every dlbad holds `keys` (the first signing) and hears every peer (heartbeats
    verify), the VIP answers."""
    ids = [auth.key_id(k) for k in keys]
    def healthy():
        a = one_active()
        if not a:
            return None
        for n in NODES:
            doc = failover(n)
            if not doc or doc["meta"].get("active") != a or doc["meta"].get("auth.key_ids") != ids:
                return None
            if not all(row[3] for row in doc["rows"]):  # alive
                return None
        return a
    a = wait_until(healthy, 15, 0.2, f"one active, every peer heard, keys {ids} on every dlbad")
    code, body = curl(topo(), f"http://{VIP}/")
    check(code == 0 and which_node(body), f"the VIP did not answer: {code} {body!r}")
    return a


def setup():
    t = Topology().__enter__()
    state["topo"] = t
    state["conf"], state["sched"], state["dlbad"] = {}, {}, {}
    for n in NODES:
        state["conf"][n] = write_variant(f"n{n}.conf", prototype_text())
        state["sched"][n] = Scheduler(t, n, state["conf"][n], role="standby")
    for n in NODES:
        state["sched"][n].wait_ready()
    for n in NODES:
        start_node_dlbad(n)
    wait_until(lambda: one_active() == 1, 10, 0.2, "node 1 elected active")
    suite.diag_hooks.append(lambda: "\n".join(f"dlbad n{n}: {state['dlbad'][n].tail(6)}" for n in NODES))


def teardown():
    for p in list(state.get("dlbad", {}).values()):
        p.stop()
    for s in list(state.get("sched", {}).values()):
        s.stop()
    if "topo" in state:
        state["topo"].__exit__(None, None, None)


def nft_dropped(n):
    out = run(["nft", "list", "table", "inet", "dlba_peers"], ns=topo().ns(f"n{n}")).stdout
    return sum(int(x) for x in re.findall(r"counter packets (\d+)", out))


@suite.case("the client namespace reaches none of the peer ports; the firewall counts what it drops")
def firewall():
    before = {n: nft_dropped(n) for n in NODES}
    for n in NODES:
        for port in (auth.SYNC_PORT, auth.STATUS_PORT, auth.CONFIG_PORT):
            check(not auth.tcp_reachable(topo().ns("client"), eth0_ip(n), port, timeout=0.5),
                  f"the client reached node {n}'s port {port}")
        auth.send_udp(topo().ns("client"), eth0_ip(n), auth.HEARTBEAT_PORT, auth.heartbeat(1, 999))
    for n in NODES:
        check(nft_dropped(n) >= before[n] + 4, f"node {n}'s firewall counted {nft_dropped(n) - before[n]} drops")
    # A node's own address still gets through (the peers talk).
    check(auth.tcp_reachable(topo().ns("n1"), eth0_ip(2), auth.CONFIG_PORT), "node 1 cannot reach node 2")


@suite.case("forged heartbeats claiming the active role with term +100 change nothing and are counted")
def forged_heartbeats():
    term = failover(2)["meta"]["term"]
    before = {r: drops(2, r) for r in ("unsigned", "bad_mac", "stale")}
    beat = auth.heartbeat(3, term + 100, active=True)
    stale = auth.now_us() - 60_000_000
    for _ in range(20):
        for data in (beat, auth.seal("heartbeat", 3, beat, key=auth.UNKNOWN_KEY),
                     auth.seal("heartbeat", 3, beat, counter=stale)):
            auth.send_udp(topo().ns("n3"), eth0_ip(2), auth.HEARTBEAT_PORT, data)
        time.sleep(0.03)
    time.sleep(0.3)
    after = {r: drops(2, r) for r in before}
    for r in before:
        check(after[r] >= before[r] + 20, f"{r}: {before[r]} -> {after[r]}")
    meta = failover(2)["meta"]
    check(meta["term"] == term and meta["active"] == 1, f"node 2's view changed: term {meta['term']} active "
                                                          f"{meta['active']} (was term {term}, active 1)")
    check(one_active() == 1, f"roles: {roles()}")
    check(eth0_ip(3) in (meta.get("auth.last_drop") or ""), f"last drop: {meta.get('auth.last_drop')}")


class Relay:
    """A man in the middle in the victim's namespace: the victim's pulls to the active are DNATed to it. The
    first pull is forwarded to the active (from a fixed source port the DNAT leaves alone) and its signed answer
    kept; every later pull gets that captured answer again."""
    PORT, SRC_PORT = 7201, 7301

    def __init__(self, victim, active):
        self.ns = topo().ns(f"n{victim}")
        self.victim_ip, self.active_ip = eth0_ip(victim), eth0_ip(active)
        self.captured = None
        self.replayed = 0
        self.stop = False
        self.sock = ns_socket(self.ns, socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.victim_ip, self.PORT))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        run(["nft", "-f", "-"], ns=self.ns, input=(
            "table ip dlba_mitm {\n chain out {\n  type nat hook output priority -100; policy accept;\n"
            f"  ip daddr {self.active_ip} tcp dport {auth.SYNC_PORT} tcp sport != {self.SRC_PORT} "
            f"dnat to {self.victim_ip}:{self.PORT}\n }}\n}}\n"))

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    request = auth.read_envelope(conn)
                    if self.captured is None:
                        self.captured = auth.exchange(self.ns, self.active_ip, auth.SYNC_PORT, request,
                                                      src_port=self.SRC_PORT)
                        conn.sendall(self.captured)
                    else:
                        conn.sendall(self.captured)
                        self.replayed += 1
                except OSError:
                    pass

    def close(self):
        run(["nft", "delete", "table", "ip", "dlba_mitm"], ns=self.ns, check_rc=False)
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def sync_working(n):
    """Over half a second this scheduler pulled and no pull failed."""
    r0 = sync_rows(n)[0]
    time.sleep(0.5)
    r1 = sync_rows(n)[0]
    return r1["errors"] == r0["errors"] and r1["pulls"] > r0["pulls"]


def sync_rows(n):
    doc = ask(state["sched"][n].socket, "sync")
    return {row[0]: row[1] for row in doc["rows"]}, doc["meta"]


@suite.case("a captured sync answer replayed to a standby's later pulls is dropped and counted")
def replayed_sync_answer():
    victim, active = 3, one_active()
    rows0, _ = sync_rows(victim)
    relay = Relay(victim, active)
    try:
        wait_until(lambda: relay.replayed >= 5, 10, 0.1, "five pulls answered with the captured answer")
        rows, meta = sync_rows(victim)
    finally:
        relay.close()
    check(relay.captured and auth.parse(relay.captured), "the relay captured no signed answer")
    check(rows["auth.dropped.replayed"] >= rows0["auth.dropped.replayed"] + 5, f"sync rows: {rows}")
    check("replayed" in (meta.get("last_error") or ""), f"last error: {meta.get('last_error')}")
    check(rows["local_version"] == rows0["local_version"], f"the table changed: {rows0} -> {rows}")
    # Without the relay the pulls succeed again.
    wait_until(lambda: sync_working(victim), 5, 0.1, "the standby's pulls to succeed again")


@suite.case("an unsigned push and an unsigned ADMIN are closed unanswered, counted, and change nothing")
def unsigned_push():
    before = drops(2, "unsigned")
    body = with_keys([auth.TEST_KEY], prototype_text().replace("weight = 1;", "weight = 3;")).encode()
    for data in (b"ADMIN node 3 disable\n", f"PREPARE {config_id(body)} {len(body)}\n".encode() + body):
        answer = auth.exchange(topo().ns("n1"), eth0_ip(2), auth.CONFIG_PORT, data)
        check(answer == b"", f"answered: {answer!r}")
    check(drops(2, "unsigned") == before + 2, f"unsigned: {before} -> {drops(2, 'unsigned')}")
    check(not os.path.exists(state["conf"][2] + ".staged"), "node 2 staged the unsigned file")
    rows = state["sched"][2].status_rows()
    check(rows[3]["state"] == "enabled" and rows[3]["weight"] == 1,
          f"node 3 changed on node 2's scheduler: {rows[3]}")


@suite.case("a captured ADMIN replayed is refused and counted; the original was applied once")
def replayed_admin():
    captured = auth.seal("config_request", auth.OPERATOR, b"ADMIN node 3 weight 2\n")
    answer = auth.exchange(topo().ns("n1"), eth0_ip(2), auth.CONFIG_PORT, captured)
    parsed = auth.parse(answer or b"")
    check(parsed and parsed[3] == auth.nonce_of(captured), f"the signed ADMIN got no bound answer: {answer!r}")
    check(weight_of(2, 3) == 2, "the signed ADMIN was not applied")
    cp = run([os.environ["DLBA_DLBACTL"], "--all-nodes", "--config", state["conf"][1], "node", "3", "weight", "1"],
             ns=topo().ns("n1"), timeout=20, check_rc=False)
    check(cp.returncode == 0, f"dlbactl --all-nodes: {cp.returncode} {cp.stdout} {cp.stderr}")
    check(weight_of(2, 3) == 1, "dlbactl --all-nodes did not set the weight back")
    before = drops(2, "replayed")
    check(auth.exchange(topo().ns("n1"), eth0_ip(2), auth.CONFIG_PORT, captured) == b"", "the replay was answered")
    check(drops(2, "replayed") == before + 1, "the replay was not counted")
    check(weight_of(2, 3) == 1, "the replayed ADMIN changed the weight")


@suite.case("a push signed with an unknown key is refused by every node and changes nothing")
def unknown_key_push():
    before = {n: drops(n, "bad_mac") for n in NODES}
    files = {n: open(state["conf"][n]).read() for n in NODES}
    path = write_variant("unknown-key.conf",
                         with_keys([auth.UNKNOWN_KEY], prototype_text().replace("weight = 1;", "weight = 2;")))
    cp = push(path)
    check(cp.returncode != 0, f"the push went through: {cp.stdout} {cp.stderr}")
    for n in NODES:
        check(open(state["conf"][n]).read() == files[n], f"node {n}'s file changed")
        check(drops(n, "bad_mac") >= before[n] + 1, f"node {n} did not count the push as bad_mac")
        check(weight_of(n, 1) == 1, f"node {n}'s weights changed")


@suite.case("a node started with a wrong key is isolated: it never takes the VIP and its peers report it")
def wrong_key_node():
    wrong = write_variant("n3-wrong.conf", with_keys([auth.UNKNOWN_KEY]))
    state["dlbad"][3].stop()
    start_node_dlbad(3, wrong)
    try:
        wait_until(lambda: failover(3)["meta"].get("auth.isolated"), 5, 0.1, "node 3 to see itself isolated")
        for n in (1, 2):
            wait_until(lambda n=n: failover(n)["meta"].get("auth.unverified_nodes") == [3], 5, 0.1,
                       f"node {n} to report node 3's heartbeats as unverified")
        # Node 3 hears nobody, yet must not take the VIP (2 s: many election rounds).
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            check(one_active() == 1, f"roles with node 3 isolated: {roles()}")
            time.sleep(0.2)
        events = " ".join(failover(3)["meta"]["events"])
        check("isolated" in events, f"node 3's events: {events}")
    finally:
        state["dlbad"][3].stop()
        start_node_dlbad(3)
    wait_until(lambda: not failover(1)["meta"].get("auth.unverified_nodes"), 5, 0.1, "node 3 heard again")
    array_healthy([auth.TEST_KEY])


@suite.case("key rotation in three pushes keeps the array working; a file that locks the nodes out is refused")
def rotation():
    for step, keys in enumerate(([auth.TEST_KEY, auth.TEST_KEY_2], [auth.TEST_KEY_2, auth.TEST_KEY],
                                 [auth.TEST_KEY_2]), 1):
        cp = push(write_variant(f"rotate-{step}.conf", with_keys(keys)))
        check(cp.returncode == 0, f"rotation step {step}: {cp.returncode} {cp.stdout} {cp.stderr}")
        a = array_healthy(keys)
        suite.diag(f"step {step}: {len(keys)} keys, node {a} active")
    # Tables still sync with the new key (the schedulers took it on reload).
    a = one_active()
    for n in NODES:
        if n != a:
            wait_until(lambda n=n: sync_working(n), 5, 0.1, f"node {n}'s scheduler to sync with the new key")
    # A file whose keys the running nodes do not hold, signed with a key they do hold, is refused by the node.
    body = with_keys([auth.TEST_KEY_3]).encode()
    request = auth.seal("config_request", auth.OPERATOR, f"PREPARE {config_id(body)} {len(body)}\n".encode() + body,
                        key=auth.TEST_KEY_2)
    answer = auth.parse(auth.exchange(topo().ns("n1"), eth0_ip(2), auth.CONFIG_PORT, request) or b"")
    check(answer and b"lock" in answer[4], f"node 2 took a file that locks it out: {answer}")
    check(not os.path.exists(state["conf"][2] + ".staged"), "the lock-out file was staged")


if __name__ == "__main__":
    main(suite, setup, teardown)
