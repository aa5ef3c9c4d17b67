#!/usr/bin/python3
"""scripts/topo: the namespace topology of DESIGN §7 is built as specified, isolated, and removed completely."""
import os
import re
import subprocess
import time

from dlbatest.paths import TOPO
from dlbatest.procs import run
from dlbatest.tap import Suite, check, main
from dlbatest.topo import NODES, VIP, Topology, curl, eth0_ip, eth0_mac, sched_mac

suite = Suite("topology")
topo = Topology()  # dt<pid>
other = Topology(prefix=f"{topo.prefix}b", nginx=False)  # a second topology beside it
ROLES = ["client", "router", "sw"] + [f"n{i}" for i in NODES] + [f"web{i}" for i in NODES]
root_links_before = None


# Every interface name the topology creates (in its namespaces). Other software may add links to the root
# namespace meanwhile, so only these names are compared.
OUR_NAMES = {"eth0", "eth1", "sch0", "br0", "rt"} | {f"n{i}e" for i in NODES} | {f"n{i}s" for i in NODES} | {
    f"w{i}" for i in NODES}


def root_links():
    names = set(re.findall(r"^\d+: ([^:@]+)", run(["ip", "-o", "link"]).stdout, re.M))
    return names & OUR_NAMES


def setup():
    global root_links_before
    check(os.geteuid() == 0, "the integration tests need root (network namespaces)")
    root_links_before = root_links()
    topo.__enter__()


@suite.case("topo up creates every namespace of the prefix")
def every_namespace():
    for r in ROLES:
        check(os.path.exists(f"/run/netns/{topo.ns(r)}"), f"namespace {topo.ns(r)} is missing")


@suite.case("nothing of the topology appears in the root namespace")
def root_untouched():
    check(root_links() == root_links_before,
          f"root namespace links changed: {sorted(root_links() ^ root_links_before)}")


@suite.case("node addresses, MACs, VIP on lo and ARP sysctls as specified")
def node_addressing():
    for i in NODES:
        ns = topo.ns(f"n{i}")
        eth0 = run(["ip", "-o", "addr", "show", "dev", "eth0"], ns=ns).stdout
        check(f"inet {eth0_ip(i)}/24" in eth0, f"n{i} eth0 has no {eth0_ip(i)}/24: {eth0}")
        link = run(["ip", "-o", "link", "show", "dev", "eth0"], ns=ns).stdout
        check(eth0_mac(i) in link and "state UP" in link, f"n{i} eth0 MAC/state wrong: {link}")
        lo = run(["ip", "-o", "addr", "show", "dev", "lo"], ns=ns).stdout
        check(f"inet {VIP}/32" in lo, f"n{i}: VIP not on lo: {lo}")
        route = run(["ip", "route", "show", "default"], ns=ns).stdout
        check("via 10.77.0.1 dev eth0" in route, f"n{i} default route: {route}")
        for key, want in (("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"),
                          ("net.ipv4.conf.eth0.arp_ignore", "1"), ("net.ipv4.conf.eth0.arp_announce", "2")):
            got = run(["sysctl", "-n", key], ns=ns).stdout.strip()
            check(got == want, f"n{i}: {key} = {got}, want {want}")


@suite.case("sch0: UP, scheduler MAC, no IPv4, IPv6 disabled, nft ingress drop with a counter")
def sch0_port():
    for i in NODES:
        ns = topo.ns(f"n{i}")
        link = run(["ip", "-o", "link", "show", "dev", "sch0"], ns=ns).stdout
        check(sched_mac(i) in link and "state UP" in link, f"n{i} sch0 MAC/state wrong: {link}")
        addrs = run(["ip", "-o", "addr", "show", "dev", "sch0"], ns=ns).stdout
        check("inet" not in addrs, f"n{i} sch0 has addresses: {addrs}")
        v6 = run(["sysctl", "-n", "net.ipv6.conf.sch0.disable_ipv6"], ns=ns).stdout.strip()
        check(v6 == "1", f"n{i}: IPv6 not disabled on sch0")
        chain = run(["nft", "list", "chain", "netdev", "dlba_sch0", "ingress"], ns=ns).stdout
        check('hook ingress device "sch0"' in chain and "policy drop" in chain and "counter packets" in chain,
              f"n{i}: sch0 ingress chain wrong:\n{chain}")


@suite.case("offloads are off on every veth end")
def offloads_off():
    for r in ROLES:
        ns = topo.ns(r)
        for dev in re.findall(r"^\d+: ([^:@]+)@", run(["ip", "-o", "link"], ns=ns).stdout, re.M):
            feats = run(["ethtool", "-k", dev], ns=ns).stdout
            for f in ("tx-checksumming", "rx-checksumming", "tcp-segmentation-offload",
                      "generic-segmentation-offload", "generic-receive-offload"):
                m = re.search(rf"^{f}: (\w+)", feats, re.M)
                check(m and m.group(1) == "off", f"{ns} {dev}: {f} is {m.group(1) if m else 'missing'}")


@suite.case("client reaches the web servers and the nodes' eth0 through the router")
def client_reaches_lan():
    for i in NODES:
        rc, body = curl(topo, f"http://10.77.0.3{i}/")
        check(rc == 0 and body == f"web {i}\n", f"web{i}: rc={rc} body={body!r}")
        rc, body = curl(topo, f"http://{eth0_ip(i)}/")
        check(rc == 0 and body == f"node {i}\n", f"n{i} eth0: rc={rc} body={body!r}")


@suite.case("node nginx serves /big (20 MiB) and answers on the VIP locally")
def nginx_big_and_vip():
    rc, out = curl(topo, f"http://{eth0_ip(2)}/big", timeout=30, extra=["-o", "/dev/null", "-w", "%{size_download}"])
    check(rc == 0 and out == str(20 * 1024 * 1024), f"/big: rc={rc} size={out}")
    for i in NODES:
        cp = run(["curl", "-sS", "--max-time", "3", f"http://{VIP}/"], ns=topo.ns(f"n{i}"), check_rc=False)
        check(cp.stdout == f"node {i}\n", f"n{i} local VIP: {cp.stdout!r} {cp.stderr}")


@suite.case("without a scheduler nobody answers ARP for the VIP (client cannot reach it)")
def vip_dark_without_scheduler():
    rc, body = curl(topo, f"http://{VIP}/", timeout=3)
    check(rc != 0, f"the VIP answered without a scheduler: {body!r}")
    neigh = run(["ip", "neigh", "show", VIP], ns=topo.ns("router")).stdout
    check("lladdr" not in neigh, f"router resolved the VIP: {neigh}")


@suite.case("topo up is idempotent and a second prefix coexists")
def idempotent_and_coexisting():
    ino = os.stat(f"/run/netns/{topo.ns('n1')}").st_ino
    run([TOPO, "up", topo.prefix])
    check(os.stat(f"/run/netns/{topo.ns('n1')}").st_ino == ino, "a second 'up' rebuilt the topology")
    other.__enter__()
    rc, body = curl(other, "http://10.77.0.31/", timeout=3)  # no nginx there: connection refused, not 'web 1'
    check(body == "", f"the second topology reached the first one's web server: {body!r}")
    rc, body = curl(topo, "http://10.77.0.31/")
    check(rc == 0 and body == "web 1\n", f"first topology broken by the second: rc={rc} {body!r}")
    other.down()
    check(not os.path.exists(f"/run/netns/{other.ns('client')}"), "second topology not removed")


@suite.case("topo down kills processes in the namespaces, removes everything, and is safe twice")
def down_complete():
    p = subprocess.Popen(["ip", "netns", "exec", topo.ns("web2"), "sleep", "300"], stdin=subprocess.DEVNULL)
    time.sleep(0.3)
    run([TOPO, "down", topo.prefix], timeout=60)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    for r in ROLES:
        check(not os.path.exists(f"/run/netns/{topo.ns(r)}"), f"{topo.ns(r)} still exists")
    check(not os.path.exists(topo.rundir), f"{topo.rundir} still exists")
    nginx = run(["pgrep", "-f", f"nginx.*{topo.rundir}/"], check_rc=False).stdout.strip()
    check(nginx == "", f"nginx processes survived: {nginx}")
    cp = run([TOPO, "down", topo.prefix], check_rc=False)
    check(cp.returncode == 0, f"second down failed: {cp.stderr}")
    topo.up = False


@suite.case("a bad prefix is refused")
def bad_prefix():
    cp = run([TOPO, "up", "Bad-Prefix"], check_rc=False)
    check(cp.returncode != 0, "topo up accepted 'Bad-Prefix'")
    check(not any(n.startswith("Bad-Prefix") for n in os.listdir("/run/netns")), "namespaces made anyway")


def teardown():
    other.down()
    topo.down()


if __name__ == "__main__":
    main(suite, setup, teardown)
