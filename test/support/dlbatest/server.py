"""dlba-server processes for the DLBA server tests: started from a generated configuration (listeners on
loopback, back ends, services, TLS), stopped with SIGTERM (then SIGKILL) within bounds, and read through their
monitor socket."""
import json
import os

from dlbatest import ctl
from dlbatest.http_client import port_open
from dlbatest.procs import Proc, read_log, rss_kb
from dlbatest.tap import check, wait_until

# The array and node sections every test configuration starts with (the proxy is node 1 unless told otherwise).
ARRAY = """array = { name = "test"; vip = "127.0.0.1"; tcp_ports = [80, 443]; };
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11"; sched_mac = "02:77:00:00:02:01";
    sched_ip = "10.77.0.21"; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12"; sched_mac = "02:77:00:00:02:02";
    sched_ip = "10.77.0.22"; }
);
failover = { peer_keys = ["6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94"]; };  # a fixed test key (dlbactl keygen makes real ones)
"""


def stop_env(env):
    """The usual end of a server suite: its DLBA server (env["server"]), its nginx back ends (env["nginx"]) and its
    work directory (env["root"]) go, whichever of them setup got to."""
    if "server" in env:
        env["server"].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "root" in env:
        env["root"].remove()


def config_text(backends, services, listeners, server_extra="", tls=""):
    """backends: [(key, address, port)], services: [str groups], listeners: [(address, port, tls, service)]."""
    b = ",\n".join(f'  {{ key = "{k}"; address = "{a}"; port = {p}; }}' for k, a, p in backends)
    s = ",\n".join(f"  {{ {x} }}" for x in services)
    l = ",\n".join(f'    {{ address = "{a}"; port = {p}; tls = {"true" if t else "false"}; service = "{sv}"; }}'
                   for a, p, t, sv in listeners)
    return (ARRAY + f"backends = (\n{b}\n);\nservices = (\n{s}\n);\n" +
            f"server = {{\n  listeners = (\n{l}\n  );\n{server_extra}\n}};\n" + tls)


class DlbaServer:
    """One dlba-server with its configuration, log and monitor socket in `root`, all named after `name`."""

    def __init__(self, binary, root, name, config_text, node=1):
        self.binary = binary
        self.root = root
        self.name = name
        self.config = os.path.join(root, f"{name}.conf")
        self.log = os.path.join(root, f"{name}.log")
        self.socket = os.path.join(root, f"{name}.sock")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.node = node
        self.proc = None

    def start(self, wait_for=(), netns=None):
        """Starts it (in network namespace `netns` if given) and waits for its monitor socket and for every
        (address, port) in wait_for to accept."""
        cmd = [self.binary, "--config", self.config, "--node", self.node, "--monitor-socket", self.socket]
        self.proc = Proc(cmd, self.log, ns=netns, name=self.name)
        wait_until(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, 10,
                   what=f"{self.name} to start")
        check(self.proc.poll() is None, f"{self.name} exited at start:\n{self.log_text()}")
        for address, port in wait_for:
            wait_until(lambda: port_open(address, port), 10, what=f"{self.name} to listen on {port}")
        return self

    def stop(self):
        if self.proc:
            return self.proc.stop()
        return None

    def log_text(self):
        return (read_log(self.log) or "")[-4000:]

    def rss_kb(self):
        return rss_kb(self.proc.pid)

    def monitor(self, line, timeout=15):
        """The JSON answer to one request line on the monitor socket."""
        return json.loads(ctl.request(self.socket, line, timeout))

    def status_meta(self):
        return self.monitor("status")["meta"]

    def counters(self):
        """The status table's figures (requests, responses_2xx, tls_resumed, connections_open, ...)."""
        return ctl.pairs(self.monitor("status"))

    def backends(self):
        """{back-end key: {column: value}} of the back-end status table."""
        return ctl.rows_by(self.monitor("backends"))
