#!/usr/bin/python3
"""The systemd notification protocol (issue 17), spoken by each daemon to a test datagram socket.

dlba-scheduler (DPDK on a net_null port), dlba-server and dlbad run one at a time in a network namespace of their
own (an eth0 with node 1's address, lo with the VIP 127.0.0.1), with NOTIFY_SOCKET naming a datagram socket
this test reads (a path for the scheduler and dlbad, an abstract '@' name, made inside the namespace, for the
server) and WATCHDOG_USEC set small. Each must send READY=1 with a STATUS= once it serves, RELOADING=1 then READY=1
around a SIGHUP reload and around a reload asked for on its socket (as a config push does), WATCHDOG=1 at half of
WATCHDOG_USEC, and STOPPING=1 on SIGTERM before it exits 0.
"""
import os
import signal
import socket
import threading
import time

from dlbatest import ctl
from dlbatest.netns import ns_socket
from dlbatest.paths import BUILD_ROOT, dlbad_binary, scheduler_binary
from dlbatest.procs import Proc, TempDir, on_exit, run
from dlbatest.server import config_text
from dlbatest.tap import Suite, TestFailure, check, main, wait_until

WATCHDOG_USEC = 1_000_000  # the daemons ping every 0.5 s
PERIOD = WATCHDOG_USEC / 2 / 1e6
WATCH_SECONDS = 5
NS = f"dlbanotify{os.getpid()}"
HTTP_PORT = 18080

suite = Suite("notify")
state = {}


class Manager:
    """The service manager's end: a datagram socket, every message kept with the time it arrived."""

    def __init__(self, name):
        self.name = name
        if name.startswith("@"):
            self.sock = ns_socket(NS, socket.AF_UNIX, socket.SOCK_DGRAM)  # abstract names live in a namespace
            self.sock.bind("\0" + name[1:])
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(name)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, {VAR: value})
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode(errors="replace").split("\n") if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()
        if not self.name.startswith("@"):
            try:
                os.unlink(self.name)
            except OSError:
                pass

    def all(self):
        with self.lock:
            return list(self.messages)

    def index_of(self, var, value="1", after=-1):
        for i, (_, f) in enumerate(self.all()):
            if i > after and f.get(var) == value:
                return i
        return None

    def wait_for(self, var, value="1", after=-1, timeout=20):
        def found():  # a tuple: index 0 is a find too
            i = self.index_of(var, value, after)
            return None if i is None else (i,)
        try:
            return wait_until(found, timeout, 0.05, f"{var}={value} on {self.name}")[0]
        except TestFailure as e:
            raise TestFailure(f"{e} (got {self.summary()})") from None

    def summary(self):
        return [sorted(f.items()) for _, f in self.all() if "WATCHDOG" not in f][-8:]


def setup():
    check(os.geteuid() == 0, "the integration tests need root (network namespaces, DPDK)")
    root = TempDir("dlba-notify-").path
    state["root"] = root
    run(["ip", "netns", "add", NS])
    on_exit(lambda: run(["ip", "netns", "del", NS], check_rc=False))
    # eth0 with node 1's address: one end of a veth pair whose other end stays in the namespace too (this kernel
    # may have no dummy interfaces).
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"],
                ["ip", "addr", "add", "10.77.0.11/24", "dev", "eth0"], ["ip", "link", "set", "eth0p", "up"],
                ["ip", "link", "set", "eth0", "up"]):
        run(cmd, ns=NS)
    state["config"] = os.path.join(root, "notify.conf")
    with open(state["config"], "w") as f:
        f.write(config_text([("1", "127.0.0.1", 9)], ['name = "web"; backends = ["1"];'],
                            [("127.0.0.1", HTTP_PORT, False, "web")]))


def start(name, cmd, notify_socket):
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    env.pop("JOURNAL_STREAM", None)
    manager = Manager(notify_socket)
    on_exit(manager.close)
    proc = Proc(cmd, os.path.join(state["root"], f"{name}.log"), ns=NS, name=name, env=env)
    state[name] = (proc, manager)
    return proc, manager


def ready_then_reload(name, reload_on_socket, socket_path):
    """READY with a STATUS; then a SIGHUP and a socket reload, each RELOADING=1 followed by READY=1."""
    proc, m = state[name]
    try:
        first = m.wait_for("READY")
    except TestFailure as e:
        raise TestFailure(f"{e}\n{proc.tail()}") from None
    status = m.all()[first][1].get("STATUS", "")
    suite.diag(f"{name}: READY=1 with STATUS={status!r}")
    check(status.startswith("node 1:"), f"{name}: READY=1 without a STATUS naming the node: {m.all()[first][1]}")
    at = first
    for how in ("SIGHUP", "socket"):
        if how == "SIGHUP":
            os.kill(proc.pid, signal.SIGHUP)
        else:
            answer = reload_on_socket(socket_path)
            check(answer is not None, f"{name}: no answer to a reload on {socket_path}")
        reloading = m.wait_for("RELOADING", after=at)
        ready = m.wait_for("READY", after=reloading)
        check(proc.alive(), f"{name} exited during a reload:\n{proc.tail()}")
        suite.diag(f"{name}: {how} reload: RELOADING=1 (message {reloading}), READY=1 (message {ready}) "
                   f"STATUS={m.all()[ready][1].get('STATUS')!r}")
        at = ready
    return at


def watchdog(name):
    """WATCHDOG=1 at half of WATCHDOG_USEC: the count over WATCH_SECONDS and no gap systemd would punish."""
    proc, m = state[name]
    start_at = time.monotonic()
    time.sleep(WATCH_SECONDS)
    pings = [t for t, f in m.all() if f.get("WATCHDOG") == "1" and t >= start_at]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    expected = WATCH_SECONDS / PERIOD
    suite.diag(f"{name}: {len(pings)} watchdog pings in {WATCH_SECONDS} s (period {PERIOD} s: about {expected:.0f}), "
               f"gaps {min(gaps, default=0):.3f}..{max(gaps, default=0):.3f} s")
    check(proc.alive(), f"{name} exited:\n{proc.tail()}")
    check(0.7 * expected <= len(pings) <= 1.3 * expected + 1,
          f"{name}: {len(pings)} pings in {WATCH_SECONDS} s, want about {expected:.0f}")
    check(max(gaps, default=99) < 2 * PERIOD, f"{name}: a gap of {max(gaps):.3f} s reaches WATCHDOG_USEC")


def stop(name, after):
    proc, m = state[name]
    proc.send_signal(signal.SIGTERM)
    stopping = m.wait_for("STOPPING", after=after, timeout=15)
    rc = proc.wait(15)
    check(rc == 0, f"{name} exited {rc}:\n{proc.tail()}")
    last_ready = max(i for i, (_, f) in enumerate(m.all()) if f.get("READY") == "1")
    check(stopping > last_ready, f"{name}: STOPPING=1 came before the last READY=1")
    suite.diag(f"{name}: STOPPING=1 with STATUS={m.all()[stopping][1].get('STATUS')!r}, exit 0")


def socket_reload(path):
    return ctl.ask(path, "reload")


@suite.case("dlba-scheduler: READY, STATUS, reloads (SIGHUP and control socket), watchdog, STOPPING", timeout=90)
def scheduler():
    sock = os.path.join(state["root"], "scheduler.sock")
    cmd = [scheduler_binary(), "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
           "--file-prefix", f"dlbanotify{os.getpid()}", "--log-level", "lib.eal:warning", "--vdev=net_null0",
           "--", "--config", state["config"], "--node", "1", "--control-socket", sock]
    start("dlba-scheduler", cmd, os.path.join(state["root"], "scheduler.notify"))
    at = ready_then_reload("dlba-scheduler", socket_reload, sock)
    proc, m = state["dlba-scheduler"]
    # A role change shows in STATUS= (dlbad or dlbactl role switches it).
    check(ctl.ask(sock, "role active lease 60000") is not None, "no answer to `role active`")
    m.wait_for("STATUS", "node 1: active (answers ARP for the VIP)", after=at)
    watchdog("dlba-scheduler")
    stop("dlba-scheduler", at)


@suite.case("dlba-server: READY, STATUS, reloads (SIGHUP and monitor socket), watchdog, STOPPING (abstract socket)",
            timeout=90)
def server():
    sock = os.path.join(state["root"], "server.sock")
    cmd = [os.path.join(BUILD_ROOT, "dlba_server", "dlba-server"), "--config", state["config"], "--node", "1",
           "--monitor-socket", sock, "--workers", "1"]
    start("dlba-server", cmd, f"@dlba-notify-{os.getpid()}-server")
    at = ready_then_reload("dlba-server", socket_reload, sock)
    status = state["dlba-server"][1].all()[at][1].get("STATUS", "")
    check(f"127.0.0.1:{HTTP_PORT}" in status and "generation" in status,
          f"after the reloads STATUS names the listener and the configuration generation: {status!r}")
    watchdog("dlba-server")
    stop("dlba-server", at)


@suite.case("dlbad: READY, STATUS, restart on SIGHUP (RELOADING, READY from the new image), watchdog, STOPPING",
            timeout=90)
def dlbad():
    mon = os.path.join(state["root"], "dlbad.sock")
    cmd = [dlbad_binary(), "--config", state["config"], "--node", "1",
           "--scheduler-socket", os.path.join(state["root"], "absent-scheduler.sock"),
           "--server-socket", os.path.join(state["root"], "absent-server.sock"),
           "--monitor-socket", mon, "--admin-state", os.path.join(state["root"], "admin.state")]
    proc, m = start("dlbad", cmd, os.path.join(state["root"], "dlbad.notify"))
    first = m.wait_for("READY")
    check(m.all()[first][1].get("STATUS", "").startswith("node 1: "), f"READY without STATUS: {m.summary()}")
    os.kill(proc.pid, signal.SIGHUP)
    reloading = m.wait_for("RELOADING", after=first)
    ready = m.wait_for("READY", after=reloading)
    check(proc.alive(), f"dlbad exited on SIGHUP:\n{proc.tail()}")
    check("restarting on the new configuration" in (open(proc.log_path).read()), "dlbad did not re-execute itself")
    suite.diag(f"dlbad: SIGHUP: RELOADING=1, READY=1 from the new image, STATUS={m.all()[ready][1].get('STATUS')!r}")
    watchdog("dlbad")
    stop("dlbad", ready)


if __name__ == "__main__":
    main(suite, setup)
