#!/usr/bin/python3
"""dlba-scheduler in the namespace topology (issue 2), with the seed's "prototype": nginx on every node.

n1 runs the active scheduler, n2 and n3 standbys, all on the same PMD over sch0 (DLBA_PMD: af_packet, the
default, or af_xdp). Clients in the client
namespace reach the VIP through the router; frames are injected from the router's LAN port with AF_PACKET.
"""
import hashlib
import os
import re
import socket
import subprocess
import time

from dlbatest.config import example_variant
from dlbatest.netns import ns_socket, packet_socket, receive_frames
from dlbatest.paths import scheduler_binary
from dlbatest.procs import run
from dlbatest.scheduler import Scheduler
from dlbatest.tap import Suite, TestFailure, check, main, wait_until
from dlbatest.topo import (CLIENT_IP, NODES, ROUTER_LAN_IP, ROUTER_LAN_MAC, VIP, Topology, connect_from_ports, curl,
                           curl_nodes, keep_busy, sched_ip, sched_mac, wait_client_quiet, which_node)

from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment  # noqa: E402  (Debian's python3-scapy)
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

PMD = os.environ.get("DLBA_PMD", "af_packet")  # the scheduler port's DPDK driver: af_packet or af_xdp
IDLE_TIMEOUT = 2  # seconds: short, so idle reassignment can be watched within a test
suite = Suite("scheduler")
topo = Topology()
sched = {}      # node -> Scheduler
state = {"active": 1}
config = {}


def active():
    return sched[state["active"]]


def log_tails():
    lines = []
    for n, s in sorted(sched.items()):
        lines.append(f"--- scheduler n{n} ({s.proc.log_path}), alive={s.proc.alive()}")
        lines.append(s.proc.tail(8))
    return "\n".join(lines)


suite.diag_hooks.append(log_tails)


def start_scheduler(node, role, cfg):
    s = Scheduler(topo, node, cfg, role=role, pmd=PMD)
    sched[node] = s
    return s.wait_ready()


def setup():
    suite.diag(f"scheduler port PMD: {PMD}")
    check(PMD in ("af_packet", "af_xdp"), f"DLBA_PMD={PMD}: want af_packet or af_xdp")
    check(os.geteuid() == 0, "the integration tests need root (network namespaces, DPDK)")
    scheduler_binary()
    topo.__enter__()
    config["main"] = example_variant(os.path.join(topo.rundir, "dlba-test.conf"),
                                     control_socket=os.path.join(topo.rundir, "unused.sock"),
                                     idle_timeout=IDLE_TIMEOUT)
    config["n3_disabled"] = example_variant(os.path.join(topo.rundir, "dlba-n3-disabled.conf"),
                                            control_socket=os.path.join(topo.rundir, "unused.sock"),
                                            idle_timeout=IDLE_TIMEOUT, disabled=(3,))
    for n in NODES:
        start_scheduler(n, "active" if n == 1 else "standby", config["main"])


# ---- reaching the VIP and spreading -----------------------------------------------------------------------------

@suite.case("a client behind the router reaches the VIP through the active scheduler")
def reach_vip():
    def once():
        rc, body = curl(topo, f"http://{VIP}/", timeout=3)
        return which_node(body)
    node = wait_until(once, 15, 0.5, "an answer from the VIP")
    suite.diag(f"answered by node {node}")
    neigh = run(["ip", "neigh", "show", VIP], ns=topo.ns("router")).stdout
    check(sched_mac(1) in neigh, f"router's neighbour entry for the VIP is not n1's sch0: {neigh}")


@suite.case("new connections spread over all three nodes")
def spread():
    nodes = curl_nodes(topo, 30)
    check(None not in nodes, f"{nodes.count(None)} of 30 connections failed: {nodes}")
    per = {n: nodes.count(n) for n in NODES}
    suite.diag(f"answers per node: {per}")
    check(all(per[n] >= 5 for n in NODES), f"uneven spread over the nodes: {per}")
    buckets = active().buckets()
    check(all(buckets[n] > 0 for n in NODES), f"bucket counts: {buckets}")


@suite.case("dlbactl hash, status and counters answer in the dlba-table format (JSON and text)")
def table_format():
    for what, table in (("hash", "hash"), ("status", "status"), ("counters", "counters")):
        doc = active().json(what)
        check(doc.get("format") == "dlba-table" and doc.get("format_version") == 1, f"{what}: {str(doc)[:200]}")
        check(doc.get("table") == table, f"{what}: table is {doc.get('table')!r}")
        cols = doc.get("columns")
        check(isinstance(cols, list) and cols and all({"name", "type"} <= set(c) for c in cols), f"{what}: columns")
        check(all(len(r) == len(cols) for r in doc.get("rows", [])), f"{what}: a row does not match the columns")
    text = active().ctl("hash").stdout
    check(re.search(r"node\s+buckets", text), f"`dlbactl hash` text output has no header:\n{text}")
    text = active().ctl("status").stdout
    check(all(sched_ip(n) in text for n in NODES), f"`dlbactl status` misses nodes:\n{text}")


# ---- stickiness, failure, late enabling -------------------------------------------------------------------------

def access_log_nodes(path):
    out = []
    for n in NODES:
        with open(os.path.join(topo.rundir, f"n{n}", "access.log")) as f:
            if f'"GET {path} ' in f.read():
                out.append(n)
    return out


@suite.case("a long download stays on its node while the table changes around it", timeout=90)
def sticky_download():
    target = os.path.join(topo.rundir, "big.download")
    rate = "3M"  # 20 MiB at 3 MiB/s: about 7 s, several bucket idle timeouts
    p = subprocess.Popen(["ip", "netns", "exec", topo.ns("client"), "curl", "-sS", "--max-time", "60",
                          "--limit-rate", rate, "-o", target, "-w", "%{size_download}", f"http://{VIP}/big"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        # The download's bucket is the only one in use once the earlier ones have idled.
        def busy_buckets():
            doc = active().json("hash", "--all")
            busy = [r for r in doc["rows"] if r[2] <= 1]
            return busy if len(busy) == 1 else None
        busy = wait_until(busy_buckets, 2 * IDLE_TIMEOUT + 3, 0.3, "exactly one busy bucket (the download)")
        bucket, owner = busy[0][0], busy[0][1]
        suite.diag(f"download in bucket {bucket} on node {owner}")
        other = next(n for n in NODES if n != owner)
        # Change the table around it: fail another node, bring new connections, give it back.
        active().ctl("node", other, "fail")
        nodes = curl_nodes(topo, 9)
        check(None not in nodes and other not in nodes, f"while node {other} was failed: {nodes}")
        active().ctl("node", other, "live")
        active().ctl("node", other, "weight", 3)
        nodes = curl_nodes(topo, 6)
        check(None not in nodes, f"new connections failed: {nodes}")
        active().ctl("node", other, "weight", 1)
        doc = active().json("hash", "--all")
        now = {r[0]: r[1] for r in doc["rows"]}
        check(now.get(bucket) == owner, f"the download's bucket {bucket} moved to {now.get(bucket)}")
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    check(p.returncode == 0, f"download failed (curl {p.returncode}): {err}")
    check(out.strip() == str(20 * 1024 * 1024), f"downloaded {out} bytes")
    with open(target, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    os.unlink(target)
    check(digest == topo.big_sha256(), "downloaded /big differs from the original")
    servers = access_log_nodes("/big")
    check(servers == [owner], f"/big was served by {servers}, the table said node {owner}")


@suite.case("marking a node failed moves all its buckets at once; new connections go elsewhere")
def fail_node():
    s = active()
    before = s.buckets()
    check(before[2] > 0, f"node 2 has no buckets to lose: {before}")
    s.ctl("node", 2, "fail")
    rows = wait_until(lambda: (lambda r: r if r[2]["buckets"] == 0 else None)(s.status_rows()), 3, 0.1,
                      "node 2's bucket count to drop to 0")
    check(rows[2]["failed"] is True, f"status does not show node 2 failed: {rows[2]}")
    nodes = curl_nodes(topo, 15)
    check(None not in nodes, f"connections failed while node 2 was failed: {nodes}")
    check(2 not in nodes, f"a failed node answered: {nodes}")
    s.ctl("node", 2, "live")
    rows = s.status_rows()
    check(rows[2]["failed"] is False, f"node 2 not live again: {rows[2]}")
    nodes = curl_nodes(topo, 6)
    check(None not in nodes and 2 in nodes, f"node 2 gets no new connections after 'live': {nodes}")


@suite.case("a node enabled later gains buckets only as the others' buckets go idle", timeout=90)
def enable_later():
    # Restart the active scheduler on a configuration in which node 3 starts disabled. No earlier connection may
    # still be closing: a retransmitted FIN would land in an idle bucket and move it, which is allowed but
    # would blur what this case watches.
    wait_client_quiet(topo)
    sched[1].stop()
    start_scheduler(1, "active", config["n3_disabled"])
    s = active()
    rows = s.status_rows()
    check(rows[3]["state"] == "disabled" and rows[3]["buckets"] == 0, f"node 3 at start: {rows[3]}")
    ports = list(range(61001, 61009))
    conns = []
    try:
        conns = connect_from_ports(topo, ports, "persistent connections to the VIP")
        first = {c.port: which_node(c.get()) for c in conns}
        suite.diag(f"persistent connections: {first}")
        check(all(n in (1, 2) for n in first.values()), f"a disabled node or nobody answered: {first}")
        s.ctl("node", 3, "enable")
        check(s.status_rows()[3]["state"] == "enabled", "node 3 not enabled")
        # Busy buckets do not move, even long past the idle timeout.
        keep_busy(conns, first, IDLE_TIMEOUT * 2 + 0.5)
        b3 = s.buckets()[3]
        check(b3 == 0, f"node 3 took {b3} buckets while every bucket was busy")
        reassigned_before = s.json("hash")["meta"]["reassignments"]
        # Let those buckets idle out, then come back from the same client ports (the same buckets).
        for c in conns:
            c.abort()
        conns.clear()
        time.sleep(IDLE_TIMEOUT + 1.5)
        conns = connect_from_ports(topo, ports, "persistent connections to the VIP")
        again = {c.port: which_node(c.get()) for c in conns}
        suite.diag(f"after {IDLE_TIMEOUT + 1.5}s idle, the same ports: {again}")
        check(None not in again.values(), f"a connection got no answer: {again}")
        moved = [p for p in ports if again[p] == 3]
        check(moved, "no idle bucket moved to the newly enabled node 3")
        b3 = s.buckets()[3]
        check(b3 >= len(moved), f"node 3 bucket count {b3} < {len(moved)} moved")
        reassigned = s.json("hash")["meta"]["reassignments"] - reassigned_before
        check(reassigned >= len(moved), f"reassignments grew by {reassigned}, {len(moved)} buckets moved")
    finally:
        for c in conns:
            c.abort()


# ---- ARP ownership of the VIP -----------------------------------------------------------------------------------

def arp_answers_for_vip():
    s = packet_socket(topo.ns("router"), "eth1", 0x0806)
    try:
        req = Ether(dst="ff:ff:ff:ff:ff:ff", src=ROUTER_LAN_MAC) / ARP(
            op=1, hwsrc=ROUTER_LAN_MAC, psrc=ROUTER_LAN_IP, hwdst="00:00:00:00:00:00", pdst=VIP)
        s.send(bytes(req))

        def is_answer(frame):
            p = Ether(frame)
            return ARP in p and p[ARP].op == 2 and p[ARP].psrc == VIP and p[ARP].pdst == ROUTER_LAN_IP
        frames = receive_frames(s, 1.5, is_answer)
        return [Ether(f)[ARP].hwsrc for f in frames]
    finally:
        s.close()


def switch_active(to):
    old = state["active"]
    sched[old].ctl("role", "standby")
    sched[to].ctl("role", "active")
    state["active"] = to
    for n, want in ((old, "standby"), (to, "active")):
        wait_until(lambda: sched[n].json("status")["meta"]["role"] == want, 3, 0.1, f"n{n} to be {want}")


@suite.case("ARP for the VIP is answered once, by the active scheduler's sch0")
def arp_active_only():
    answers = arp_answers_for_vip()
    check(answers == [sched_mac(state["active"])], f"ARP answers {answers}, want one from {sched_mac(1)}")


@suite.case("after switching roles only the new active scheduler answers ARP, and traffic follows it")
def arp_after_switch():
    switch_active(2)
    answers = arp_answers_for_vip()
    check(answers == [sched_mac(2)], f"ARP answers {answers}, want one from {sched_mac(2)}")
    garp = sched[2].counters()["garp_sent"]
    check(garp >= 1, "the new active scheduler sent no gratuitous ARP")
    wait_until(lambda: sched_mac(2) in run(["ip", "neigh", "show", VIP], ns=topo.ns("router")).stdout, 5, 0.2,
               "the router to learn the VIP at n2's sch0 from the gratuitous ARP")
    fwd = sched[2].counters()["forwarded"]
    nodes = curl_nodes(topo, 6)
    check(None not in nodes, f"connections through the new scheduler failed: {nodes}")
    check(sched[2].counters()["forwarded"] > fwd, "n2 forwarded nothing")
    switch_active(1)
    answers = arp_answers_for_vip()
    check(answers == [sched_mac(1)], f"after switching back: ARP answers {answers}")
    wait_until(lambda: sched_mac(1) in run(["ip", "neigh", "show", VIP], ns=topo.ns("router")).stdout, 5, 0.2,
               "the router to learn the VIP back at n1's sch0")


@suite.case("ICMP echo to every scheduler-port IP is answered by that node's DPDK (active and standby)")
def echo_sched_ip():
    for n in NODES:
        before = sched[n].counters()["echo_replies"]
        sock = ns_socket(topo.ns("router"), socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        try:
            ident = (os.getpid() + n) & 0xFFFF
            got = False
            for seq in range(1, 4):  # up to 3 tries, 1 s each
                sock.sendto(bytes(ICMP(type=8, id=ident, seq=seq) / Raw(b"dlba-echo" * 4)), (sched_ip(n), 0))
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline and not got:
                    sock.settimeout(max(0.01, deadline - time.monotonic()))
                    try:
                        data, addr = sock.recvfrom(2048)
                    except socket.timeout:
                        break
                    ip = IP(data)
                    got = addr[0] == sched_ip(n) and ICMP in ip and ip[ICMP].type == 0 and ip[ICMP].id == ident
                if got:
                    break
        finally:
            sock.close()
        check(got, f"no echo reply from {sched_ip(n)} ({'active' if n == state['active'] else 'standby'})")
        neigh = run(["ip", "neigh", "show", sched_ip(n)], ns=topo.ns("router")).stdout
        check(sched_mac(n) in neigh, f"{sched_ip(n)} resolved to the wrong MAC: {neigh}")
        check(sched[n].counters()["echo_replies"] > before, f"n{n}'s echo_replies did not grow")


# ---- malformed and unusual frames -------------------------------------------------------------------------------

def to_vip(l4, **ip):
    return Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC) / IP(src=CLIENT_IP, dst=VIP, **ip) / l4


def inject(frames, copies=5):
    s = packet_socket(topo.ns("router"), "eth1")
    try:
        for _ in range(copies):
            for f in frames:
                s.send(f if isinstance(f, bytes) else bytes(f))
    finally:
        s.close()


def counted(frames, counter, copies=5):
    """Injects the frames and waits for `counter` of the active scheduler to grow by all of them."""
    s = active()
    before = s.counters()
    inject(frames, copies)
    want = len(frames) * copies

    def grown():
        c = s.counters()
        return c if c[counter] - before[counter] >= want else None
    try:
        after = wait_until(grown, 3, 0.1, f"{counter} to grow by {want}")
    except TestFailure:
        after = s.counters()
        delta = {k: after[k] - before[k] for k in after if isinstance(after[k], int) and after[k] != before[k]}
        raise TestFailure(f"{counter} grew by {after[counter] - before[counter]}, want {want}; changes: {delta}")
    return before, after


@suite.case("truncated IPv4 (header or payload cut short) is dropped as drop.truncated")
def bad_truncated():
    whole = bytes(to_vip(TCP(sport=40001, dport=80, flags="S"), len=1000))  # claims 1000 bytes, has 40
    header_cut = bytes(to_vip(TCP(sport=40002, dport=80, flags="S")))[:14 + 12]
    counted([whole, header_cut], "drop.truncated")


@suite.case("IPv4 with a bad IHL is dropped as drop.bad_ip_header")
def bad_ihl():
    counted([to_vip(TCP(sport=40003, dport=80, flags="S"), ihl=3)], "drop.bad_ip_header")


@suite.case("IPv6 is dropped as drop.non_ip")
def ipv6():
    f = Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC) / IPv6(src="fd00::2", dst="fd00::100") / TCP(
        sport=40004, dport=80, flags="S")
    counted([f], "drop.non_ip")


@suite.case("a protocol other than TCP/UDP/ICMP to the VIP is dropped as drop.vip_protocol")
def vip_protocol():
    counted([to_vip(Raw(b"\x00" * 24), proto=47)], "drop.vip_protocol")


@suite.case("TCP and UDP to VIP ports not configured are dropped as drop.vip_port")
def vip_port():
    counted([to_vip(TCP(sport=40005, dport=8081, flags="S")), to_vip(UDP(sport=40006, dport=53) / Raw(b"q" * 12))],
            "drop.vip_port")


if PMD == "af_xdp":
    @suite.case("a non-first fragment without its first fragment is dropped as drop.fragment_unmatched")
    def lone_fragment():
        counted([to_vip(Raw(b"f" * 48), proto=6, id=4242, frag=100, flags=0)], "drop.fragment_unmatched")
else:
    @suite.case("a non-first fragment without its first fragment is never forwarded (AF_PACKET: kernel defrag)")
    def lone_fragment():
        # DPDK's af_packet PMD joins a PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles
        # IPv4 fragments before the scheduler sees them, and holds a lone later fragment until ipfrag_time.
        s = active()
        before = s.counters()
        inject([to_vip(Raw(b"f" * 48), proto=6, id=4242, frag=100, flags=0)])
        time.sleep(1)
        after = s.counters()
        delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        suite.diag(f"counter changes: {delta}")
        check(after["forwarded"] == before["forwarded"], f"a lone later fragment was forwarded: {delta}")


@suite.case("stacked 802.1Q / QinQ tags are dropped as drop.vlan_stacked")
def vlan_stacked():
    inner = IP(src=CLIENT_IP, dst=VIP) / TCP(sport=40007, dport=80, flags="S")
    eth = Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC)
    counted([eth / Dot1Q(vlan=5) / Dot1Q(vlan=7) / inner, eth / Dot1AD(vlan=5) / Dot1Q(vlan=7) / inner],
            "drop.vlan_stacked")


@suite.case("a single 802.1Q-tagged frame to the VIP is received and accounted for")
def vlan_single():
    s = active()
    before = s.counters()
    inject([Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC) / Dot1Q(vlan=7) /
            IP(src=CLIENT_IP, dst=VIP) / TCP(sport=40008, dport=80, flags="S")])
    after = wait_until(lambda: (lambda c: c if c["rx"] - before["rx"] >= 5 else None)(s.counters()), 3, 0.1,
                       "rx to grow by 5")
    delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    suite.diag(f"counter changes: {delta}")
    handled = (after["forwarded"] - before["forwarded"]) + (after["dropped"] - before["dropped"])
    check(handled >= 5, f"tagged frames neither forwarded nor counted as dropped: {delta}")


@suite.case("a fragmented SYN follows its first fragment to one node, which answers the client")
def fragments_followed():
    s = active()
    before = s.counters()
    syn = IP(src=CLIENT_IP, dst=VIP, id=777, flags=0) / TCP(sport=40123, dport=80, flags="S", seq=1000)
    frags = fragment(syn, fragsize=8)  # 28 bytes of TCP in 8-byte pieces: the ports are in the first one
    check(len(frags) >= 2, "scapy did not fragment the SYN")
    sniff = packet_socket(topo.ns("client"), "eth0")
    try:
        inject([Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC) / f for f in frags], copies=1)

        def synack(frame):
            p = Ether(frame)
            return (TCP in p and p[IP].src == VIP and p[TCP].sport == 80 and p[TCP].dport == 40123
                    and p[TCP].flags.S and p[TCP].flags.A)
        got = receive_frames(sniff, 3, synack, limit=1)
    finally:
        sniff.close()
    after = s.counters()
    suite.diag(f"counter changes: { {k: after[k] - before[k] for k in after if after[k] != before[k]} }")
    check(got, "no SYN-ACK reached the client: the fragments did not reach one node together")
    if PMD == "af_xdp":  # with af_packet the kernel hands the scheduler the reassembled datagram instead
        check(after["fragments_first"] - before["fragments_first"] >= 1, "no first fragment counted")
        check(after["fragments_later"] - before["fragments_later"] >= len(frags) - 1, "later fragments not counted")


def big_fragmented_segment():
    seg = IP(src=CLIENT_IP, dst=VIP, id=999) / TCP(sport=40555, dport=80, flags="A", seq=1, ack=1) / Raw(b"x" * 3000)
    return [Ether(dst=sched_mac(state["active"]), src=ROUTER_LAN_MAC) / f for f in fragment(seg, fragsize=1400)]


if PMD == "af_xdp":
    @suite.case("a 3000-byte datagram in three fragments is forwarded fragment by fragment")
    def big_fragments():
        frames = big_fragmented_segment()
        before, after = counted(frames, "forwarded", copies=1)
        check(after["fragments_first"] - before["fragments_first"] >= 1, "no first fragment counted")
        check(after["fragments_later"] - before["fragments_later"] >= len(frames) - 1, "later fragments not counted")
else:
    @suite.case("a 3000-byte datagram in fragments is counted as drop.truncated (AF_PACKET: kernel reassembly)")
    def big_fragments():
        # The kernel reassembles it for the af_packet PMD (PACKET_FANOUT_FLAG_DEFRAG) and the result does not fit
        # one ring frame (framesz 2048): the scheduler sees a cut datagram. Counted, never forwarded half.
        s = active()
        before = s.counters()
        inject(big_fragmented_segment(), copies=1)
        after = wait_until(lambda: (lambda c: c if c["drop.truncated"] > before["drop.truncated"] else None)(
            s.counters()), 3, 0.1, "drop.truncated to grow")
        check(after["forwarded"] == before["forwarded"], "a cut datagram was forwarded")


@suite.case("forwarding still works after the malformed frames, and every received frame is accounted for")
def survives_malformed():
    nodes = curl_nodes(topo, 6)
    check(None not in nodes, f"connections failed after malformed frames: {nodes}")
    for n in NODES:
        wait_until(lambda: sched[n].json("counters")["meta"]["rx_accounted"] is True, 3, 0.2,
                   f"n{n}: rx == forwarded + replies + drops")
        check(sched[n].proc.alive(), f"the scheduler on n{n} died")


# ---- the scheduler port's kernel --------------------------------------------------------------------------------

NFT_SCH0 = """table netdev dlba_sch0 {
    chain ingress {
        type filter hook ingress device "sch0" priority -500; policy drop;
        counter drop comment "kernel must not see scheduler-port traffic"
    }
}
"""


def connect_vip(timeout=3):
    """A plain TCP connect from the client to VIP:80: True if it completes."""
    s = ns_socket(topo.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((VIP, 80))
        return True
    except OSError:
        return False
    finally:
        s.close()


@suite.case("with the scheduler stopped, the kernel behind sch0 does not take VIP traffic (nft drops counted)")
def sch0_kernel_refuses():
    sched[1].stop()
    router = topo.ns("router")
    run(["ip", "neigh", "replace", VIP, "lladdr", sched_mac(1), "dev", "eth1", "nud", "permanent"], ns=router)
    before = topo.sch0_drops(1)
    check(not connect_vip(3), "a TCP connection to the VIP completed through n1's sch0")
    after = topo.sch0_drops(1)
    suite.diag(f"n1 sch0 ingress drops {before} -> {after}")
    check(after > before, "the sch0 drop counter did not grow")


@suite.case("control: without that nft drop the sch0 kernel would have accepted the connection")
def sch0_control():
    n1 = topo.ns("n1")
    run(["nft", "delete", "table", "netdev", "dlba_sch0"], ns=n1)
    try:
        check(connect_vip(3), "even without the drop rule the connection failed: the previous case proves nothing")
    finally:
        run(["nft", "-f", "-"], ns=n1, input=NFT_SCH0)
        run(["ip", "neigh", "del", VIP, "dev", "eth1"], ns=topo.ns("router"), check_rc=False)


def teardown():
    for s in sched.values():
        rc = s.stop()
        if rc not in (0, None, -15):
            suite.diag(f"scheduler n{s.node} exited {rc}:\n{s.proc.tail(5)}")
    topo.down()


if __name__ == "__main__":
    main(suite, setup, teardown)
