"""The namespace topology of scripts/topo (DESIGN §7): its addresses, bringing it up and always down again, and
clients in its client namespace.

A Topology is `scripts/topo up PREFIX` (prefix dt<pid> unless given) on enter and `scripts/topo down PREFIX` on exit,
at interpreter exit and on SIGTERM/SIGINT (procs.on_exit).
"""
import contextlib
import os
import re
import socket
import subprocess
import time

from dlbatest import procs
from dlbatest.http_client import Connection
from dlbatest.netns import ns_socket
from dlbatest.paths import TOPO
from dlbatest.procs import run
from dlbatest.tap import check, wait_until

VIP = "10.77.0.100"
CLIENT_IP = "10.77.1.2"
ROUTER_LAN_IP = "10.77.0.1"
ROUTER_LAN_MAC = "02:77:00:00:00:01"
NODES = (1, 2, 3)


def eth0_ip(n):
    return f"10.77.0.1{n}"


def eth0_mac(n):
    return f"02:77:00:00:01:0{n}"


def sched_ip(n):
    return f"10.77.0.2{n}"


def sched_mac(n):
    return f"02:77:00:00:02:0{n}"


def node_of_mac(mac):
    """The node whose scheduler port has MAC `mac` (None for any other)."""
    for n in NODES:
        if sched_mac(n) == mac:
            return n
    return None


class Topology:
    """scripts/topo up PREFIX on enter (with the nodes' nginx unless nginx=False), down on exit, at exit of the
    interpreter and on SIGTERM/SIGINT."""

    def __init__(self, prefix=None, nginx=True):
        self.prefix = prefix or f"dt{os.getpid()}"
        self.nginx = nginx
        self.rundir = f"/tmp/dlba-{self.prefix}"
        self.up = False
        self._registered = False

    def ns(self, role):
        return f"{self.prefix}-{role}"

    def __enter__(self):
        if not self._registered:
            procs.on_exit(self.down, self._down_detached)
            self._registered = True
        self._bring_up()
        return self

    def __exit__(self, *exc):
        self.down()  # and the exception, if any, goes on

    def _bring_up(self):
        run([TOPO, "up", self.prefix], timeout=120)
        self.up = True
        if self.nginx:
            run([TOPO, "nginx-up", self.prefix], timeout=60)

    def down(self):
        if self.up or os.path.exists(self.rundir) or any(
                os.path.exists(f"/run/netns/{self.ns(r)}") for r in ("client", "router", "sw")):
            self._take_down()
        self.up = False

    def _take_down(self):
        run([TOPO, "down", self.prefix], timeout=120, check_rc=False)

    def _down_detached(self):
        # On a signal: meson sends SIGKILL 0.5 s after SIGTERM, so the teardown goes to a process of its own
        # session, which survives the kill.
        subprocess.Popen([TOPO, "down", self.prefix], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.up = False

    def sch0_drops(self, node):
        out = run(["nft", "list", "chain", "netdev", "dlba_sch0", "ingress"], ns=self.ns(f"n{node}")).stdout
        m = re.search(r"counter packets (\d+) bytes", out)
        check(m, f"no counter in the sch0 ingress chain of n{node}:\n{out}")
        return int(m.group(1))

    def big_sha256(self):
        with open(os.path.join(self.rundir, "www", "big.sha256")) as f:
            return f.read().split()[0]


# ---- from the client and the router ---------------------------------------------------------------------------

def curl(topo, url, timeout=5, extra=(), ns="client"):
    """curl in the client namespace; returns (exit code, body)."""
    cp = run(["curl", "-sS", "--max-time", timeout, "--connect-timeout", min(timeout, 3)] + list(extra) + [url],
             ns=topo.ns(ns), timeout=timeout + 5, check_rc=False)
    return cp.returncode, cp.stdout


def which_node(body):
    m = re.fullmatch(r"node (\d)\n", body or "")
    return int(m.group(1)) if m else None


def curl_nodes(topo, count, timeout=5):
    """`count` new connections (curl, one each) to the VIP; returns the node that answered each (None = failed)."""
    out = []
    for _ in range(count):
        rc, body = curl(topo, f"http://{VIP}/", timeout=timeout)
        out.append(which_node(body) if rc == 0 else None)
    return out


def wait_client_quiet(topo, timeout=10):
    """Waits until the client has no TCP connection to the VIP other than in TIME-WAIT, so no retransmission of an
    earlier test's closing handshake arrives later and claims a bucket."""
    def quiet():
        out = run(["ss", "-Htan", "dst", VIP], ns=topo.ns("client")).stdout
        busy = [line for line in out.splitlines() if line.strip() and not line.startswith("TIME-WAIT")]
        return not busy
    wait_until(quiet, timeout, 0.2, "the client's connections to the VIP to close")


def client_established(topo):
    """Client TCP connections to VIP:80 in ESTABLISHED."""
    out = run(["ss", "-Htn", "state", "established", "dst", VIP], ns=topo.ns("client")).stdout
    return len([line for line in out.splitlines() if line.strip()])


def router_neigh_mac(topo):
    """The MAC the router's neighbour table holds for the VIP (None when it has none)."""
    out = run(["ip", "neigh", "show", VIP, "dev", "eth1"], ns=topo.ns("router")).stdout
    parts = out.split()
    return parts[parts.index("lladdr") + 1] if "lladdr" in parts else None


class HttpConn:
    """One persistent HTTP/1.1 connection from the client namespace to the VIP (optionally from a fixed port)."""

    def __init__(self, topo, port=None, timeout=5, dst=VIP):
        self.sock = ns_socket(topo.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if port:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((CLIENT_IP, port))
        self.sock.connect((dst, 80))
        self.port = self.sock.getsockname()[1]
        self.conn = Connection(self.sock, f"connection from port {self.port}")

    def send_get(self, path="/", close=False):
        req = f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
        self.sock.sendall(req.encode())

    def read(self):
        """(head, body text) of the next answer."""
        head, body = self.conn.read_response()
        return head, body.decode(errors="replace")

    def get(self, path="/", close=False):
        self.send_get(path, close)
        return self.read()[1]

    def abort(self):
        """Close with RST (SO_LINGER 0): no TIME_WAIT, so the same client port can be used again at once."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()


def connect_from_ports(topo, ports, what="connections from fixed client ports"):
    """Persistent connections (HttpConn) to the VIP from each of `ports`, all made again until every one connects
    (every 0.5 s, up to 10 s: a port may still be held by an earlier connection's close)."""
    conns = []

    def connect_all():
        for c in conns:
            c.abort()
        conns.clear()
        for p in ports:
            conns.append(HttpConn(topo, port=p))
        return True
    try:
        wait_until(connect_all, 10, 0.5, what)
    except BaseException:
        for c in conns:
            c.abort()
        raise
    return conns


def same_nodes(conns, first):
    """One request on every connection; each must be answered by the node that first answered it ({port: node})."""
    for c in conns:
        n = which_node(c.get())
        check(n == first[c.port], f"connection from port {c.port} answered by {n}, was {first[c.port]}")


def keep_busy(conns, first, seconds, pause=0.3):
    """same_nodes() every `pause` seconds for `seconds`, so that the connections' buckets stay busy; returns the
    rounds made."""
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        same_nodes(conns, first)
        rounds += 1
        time.sleep(pause)
    return rounds
