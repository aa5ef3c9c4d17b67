"""Shared helpers for the DLBA integration tests (run by meson with Debian's /usr/bin/python3, as root).

- TAP output: one line per test case, diagnostics as '# ' lines after it; a case that cannot run is 'not ok'.
- Topology: scripts/topo up/down with a unique prefix (dt<pid>), always torn down (finally, atexit, SIGTERM).
- Processes: started inside a namespace, stopped (TERM, then KILL) with bounded waits.
- netns(): enter a namespace for the current thread, so sockets (TCP clients, AF_PACKET, raw ICMP) can be
  created there from this process; every wait and loop here is bounded in count and time.

Environment (set by test/integration/meson.build): DLBA_SOURCE_ROOT, DLBA_BUILD_ROOT, and when built,
DLBA_SCHEDULER (dlba-scheduler) and DLBA_DLBACTL (dlbactl).
"""
import atexit
import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

SOURCE_ROOT = os.environ.get("DLBA_SOURCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_ROOT = os.environ.get("DLBA_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
TOPO = os.path.join(SOURCE_ROOT, "scripts", "topo")
CONF = os.path.join(SOURCE_ROOT, "conf", "dlba.conf")

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


class TestFailure(Exception):
    pass


class CaseTimeout(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def wait_until(fn, timeout, interval=0.1, what="condition"):
    """Calls fn() until it returns something truthy (returned) or timeout seconds pass (TestFailure)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline, reported then
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise TestFailure(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


# ---- commands -------------------------------------------------------------------------------------------------

def run(cmd, ns=None, timeout=20, check_rc=True, input=None):
    """Runs cmd (a list), inside namespace ns if given; returns CompletedProcess (text)."""
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    try:
        cp = subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input,
                            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"command timed out after {timeout}s: {' '.join(full)}") from e
    if check_rc and cp.returncode != 0:
        raise TestFailure(f"command failed ({cp.returncode}): {' '.join(full)}\n{cp.stdout}{cp.stderr}")
    return cp


# ---- namespaces from inside this process ----------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def netns(name):
    """The calling thread is in namespace `name` inside the block; sockets made there stay there."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
        yield
    finally:
        if _libc.setns(orig, CLONE_NEWNET) != 0:
            os._exit(99)  # never continue in the wrong namespace
        os.close(orig)
        os.close(target)


def ns_socket(ns, family, kind, proto=0):
    with netns(ns):
        return socket.socket(family, kind, proto)


# ---- TAP ------------------------------------------------------------------------------------------------------

class Suite:
    """Test cases run in order, one TAP line each. A setup failure makes every case 'not ok'."""

    def __init__(self, name):
        self.name = name
        self.cases = []
        self.failed = 0
        self.diag_hooks = []  # called on a failing case; return lines of diagnostics

    def case(self, title, timeout=60):
        def register(fn):
            self.cases.append((title, fn, timeout))
            return fn
        return register

    @staticmethod
    def diag(text):
        for line in str(text).rstrip().splitlines():
            print(f"# {line}", flush=True)

    def _on_alarm(self, signum, frame):
        raise CaseTimeout("test case took too long")

    def run(self, setup=None, teardown=None):
        print(f"1..{len(self.cases)}", flush=True)
        signal.signal(signal.SIGALRM, self._on_alarm)
        setup_error = None
        try:
            if setup:
                try:
                    signal.alarm(180)
                    setup()
                except BaseException as e:  # noqa: BLE001 - reported as TAP, then every case fails
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    setup_error = f"setup failed: {e}"
                    self.diag(traceback.format_exc())
                    self._diagnostics()
                finally:
                    signal.alarm(0)
            for i, (title, fn, timeout) in enumerate(self.cases, 1):
                if setup_error:
                    print(f"not ok {i} - {title}", flush=True)
                    self.diag(setup_error)
                    self.failed += 1
                    continue
                start = time.monotonic()
                try:
                    signal.alarm(timeout)
                    fn()
                    signal.alarm(0)
                    print(f"ok {i} - {title}", flush=True)
                    self.diag(f"{time.monotonic() - start:.1f}s")
                except BaseException as e:  # noqa: BLE001
                    signal.alarm(0)
                    if isinstance(e, (KeyboardInterrupt, SystemExit)):
                        raise
                    self.failed += 1
                    print(f"not ok {i} - {title}", flush=True)
                    if isinstance(e, (TestFailure, CaseTimeout)):
                        self.diag(f"{type(e).__name__}: {e}")
                        tb = traceback.extract_tb(e.__traceback__)
                        frames = [f for f in tb if f.filename != __file__] or tb
                        self.diag(f"at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}")
                    else:
                        self.diag(traceback.format_exc())
                    self._diagnostics()
        finally:
            signal.alarm(0)
            if teardown:
                try:
                    teardown()
                except Exception:  # noqa: BLE001
                    self.diag("teardown: " + traceback.format_exc())
        return 1 if self.failed or setup_error else 0

    def _diagnostics(self):
        for hook in self.diag_hooks:
            try:
                self.diag(hook())
            except Exception as e:  # noqa: BLE001
                self.diag(f"(diagnostics failed: {e})")


# ---- topology -------------------------------------------------------------------------------------------------

class Topology:
    """scripts/topo up PREFIX on enter, down on exit, at exit of the interpreter and on SIGTERM/SIGINT."""

    def __init__(self, prefix=None, nginx=True):
        self.prefix = prefix or f"dt{os.getpid()}"
        self.nginx = nginx
        self.rundir = f"/tmp/dlba-{self.prefix}"
        self.up = False

    def ns(self, role):
        return f"{self.prefix}-{role}"

    def __enter__(self):
        _install_teardown(self)
        run([TOPO, "up", self.prefix], timeout=120)
        self.up = True
        if self.nginx:
            run([TOPO, "nginx-up", self.prefix], timeout=60)
        return self

    def down(self):
        if self.up or os.path.exists(self.rundir) or any(
                os.path.exists(f"/run/netns/{self.ns(r)}") for r in ("client", "router", "sw")):
            run([TOPO, "down", self.prefix], timeout=120, check_rc=False)
        self.up = False

    def __exit__(self, *exc):
        self.down()
        return False

    def sch0_drops(self, node):
        out = run(["nft", "list", "chain", "netdev", "dlba_sch0", "ingress"], ns=self.ns(f"n{node}")).stdout
        m = re.search(r"counter packets (\d+) bytes", out)
        check(m, f"no counter in the sch0 ingress chain of n{node}:\n{out}")
        return int(m.group(1))

    def big_sha256(self):
        with open(os.path.join(self.rundir, "www", "big.sha256")) as f:
            return f.read().strip()


_teardowns = []


def _install_teardown(topo):
    _teardowns.append(topo)
    if len(_teardowns) > 1:
        return

    def at_exit():
        for t in _teardowns:
            try:
                t.down()
            except Exception:  # noqa: BLE001
                pass

    def on_signal(signum, frame):
        # meson sends SIGTERM on timeout and SIGKILL 0.5 s later: hand the teardown to a process of its own
        # session, which survives the kill, then leave.
        for t in _teardowns:
            with contextlib.suppress(Exception):
                subprocess.Popen([TOPO, "down", t.prefix], start_new_session=True, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                t.up = False
        print(f"Bail out! signal {signum}", flush=True)
        os._exit(1)

    atexit.register(at_exit)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


# ---- processes ------------------------------------------------------------------------------------------------

class Proc:
    """A process in a namespace, its output in a log file."""

    def __init__(self, name, cmd, ns, log_path):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns] + [str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=5):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.p.wait(3)
        self.log.close()
        return self.p.returncode

    def tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(data[-lines:])


# ---- the scheduler and dlbactl --------------------------------------------------------------------------------

def scheduler_binary():
    path = os.environ.get("DLBA_SCHEDULER")
    check(path and os.access(path, os.X_OK), "dlba-scheduler is not built (DLBA_SCHEDULER unset or not executable)")
    return path


PROTOTYPE_CUT = "# DLBA server (dlba-server) sections"


def prototype_config_text(text=None):
    """conf/dlba.conf without the DLBA server's sections: the seed's prototype, where plain web servers on the
    nodes answer the VIP. (With a `server` section a node's daemon reports the node able to serve only when its
    dlba-server answers.)"""
    if text is None:
        with open(CONF) as f:
            text = f.read()
    at = text.find(PROTOTYPE_CUT)
    if at < 0:
        return text
    return text[:text.rfind("\n# ====", 0, at) + 1]


def make_config(path, control_socket="/run/dlba/scheduler.sock", idle_timeout=None, disabled=(), weights=None):
    """A variant of conf/dlba.conf: the example itself, with a few settings replaced."""
    with open(CONF) as f:
        text = f.read()
    text, n = re.subn(r'control_socket = "[^"]*";', f'control_socket = "{control_socket}";', text)
    check(n == 1, "conf/dlba.conf: no control_socket setting to replace")
    if idle_timeout is not None:
        text, n = re.subn(r"bucket_idle_timeout = \d+;", f"bucket_idle_timeout = {idle_timeout};", text)
        check(n == 1, "conf/dlba.conf: no bucket_idle_timeout setting to replace")

    def per_node(match):
        block = match.group(0)
        number = int(re.search(r"number = (\d+);", block).group(1))
        if number in disabled:
            block = re.sub(r"enabled = true;", "enabled = false;", block)
        if weights and number in weights:
            block = re.sub(r"weight = \d+;", f"weight = {weights[number]};", block)
        return block

    text = re.sub(r"\{\s*number = \d+;.*?\}", per_node, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)
    return path


class Scheduler:
    """dlba-scheduler on node N of a topology, on the AF_PACKET (or AF_XDP) PMD over sch0, with its own control
    socket and DPDK file prefix."""

    starts = 0

    def __init__(self, topo, node, config, role="standby", pmd="af_packet"):
        Scheduler.starts += 1
        self.topo = topo
        self.node = node
        self.role = role
        self.socket = os.path.join(topo.rundir, f"n{node}.sock")
        file_prefix = f"{topo.prefix}-n{node}-{Scheduler.starts}"
        cmd = [scheduler_binary(), "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
               "--file-prefix", file_prefix, "--log-level", "lib.eal:warning",
               f"--vdev=net_{pmd}0,iface=sch0",
               "--", "--config", config, "--node", node, "--control-socket", self.socket, "--role", role]
        log = os.path.join(topo.rundir, f"scheduler-n{node}-{Scheduler.starts}.log")
        self.proc = Proc(f"scheduler n{node}", cmd, topo.ns(f"n{node}"), log)

    def wait_ready(self, timeout=30):
        def ready():
            if not self.proc.alive():
                raise TestFailure(f"dlba-scheduler on n{self.node} exited ({self.proc.p.returncode}):\n"
                                  f"{self.proc.tail()}")
            doc = ctl_json(self.socket, "status", check_rc=False)
            return doc is not None and doc.get("meta", {}).get("role") == self.role
        try:
            wait_until(ready, timeout, 0.2, f"the control socket of the scheduler on n{self.node}")
        except TestFailure as e:
            raise TestFailure(f"{e}\n{self.proc.tail()}") from None
        return self

    def ctl(self, *args, **kw):
        return ctl(self.socket, *args, **kw)

    def json(self, *args, **kw):
        return ctl_json(self.socket, *args, **kw)

    def counters(self):
        doc = self.json("counters")
        check(doc is not None, f"no counters from n{self.node}")
        return {row[0]: row[1] for row in doc["rows"]}

    def status_rows(self):
        """{node number: {column: value}} from `dlbactl status`."""
        doc = self.json("status")
        check(doc is not None, f"no status from n{self.node}")
        names = [c["name"] for c in doc["columns"]]
        return {row[0]: dict(zip(names, row)) for row in doc["rows"]}

    def buckets(self):
        return {n: r["buckets"] for n, r in self.status_rows().items()}

    def stop(self):
        return self.proc.stop()


def _raw_request(sock_path, line, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(line.encode() + b"\n")
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode()
    finally:
        s.close()


def ctl(sock_path, *args, json_out=False, check_rc=True, timeout=10):
    """Runs dlbactl --socket PATH [--json] ARGS; returns CompletedProcess. Without a built dlbactl, talks to the
    socket itself (one request line; 'hash --all' becomes 'hash all'), returning the raw JSON as stdout."""
    exe = os.environ.get("DLBA_DLBACTL")
    if exe and os.access(exe, os.X_OK):
        cmd = [exe, "--socket", sock_path] + (["--json"] if json_out else []) + [str(a) for a in args]
        return run(cmd, timeout=timeout, check_rc=check_rc)
    words = ["all" if a == "--all" else str(a) for a in args]
    try:
        out = _raw_request(sock_path, " ".join(words), timeout)
        rc = 0
        with contextlib.suppress(ValueError):
            if json.loads(out).get("ok") is False:
                rc = 1
    except OSError as e:
        out, rc = str(e), 3
    cp = subprocess.CompletedProcess(["(raw)", sock_path] + words, rc, out, "")
    if check_rc and rc != 0:
        raise TestFailure(f"control request {' '.join(words)} failed: {out}")
    return cp


def ctl_json(sock_path, *args, check_rc=True, timeout=10):
    cp = ctl(sock_path, *args, json_out=True, check_rc=check_rc, timeout=timeout)
    if cp.returncode != 0:
        return None
    try:
        return json.loads(cp.stdout)
    except ValueError as e:
        if check_rc:
            raise TestFailure(f"dlbactl {' '.join(map(str, args))} --json printed no JSON: {cp.stdout[:300]}") from e
        return None


# ---- clients --------------------------------------------------------------------------------------------------

def curl(topo, url, timeout=5, extra=(), ns="client"):
    """curl in the client namespace; returns (exit code, body)."""
    cp = run(["curl", "-sS", "--max-time", timeout, "--connect-timeout", min(timeout, 3)] + list(extra) + [url],
             ns=topo.ns(ns), timeout=timeout + 5, check_rc=False)
    return cp.returncode, cp.stdout


def which_node(body):
    m = re.fullmatch(r"node (\d)\n", body or "")
    return int(m.group(1)) if m else None


def wait_client_quiet(topo, timeout=10):
    """Waits until the client has no TCP connection to the VIP other than in TIME-WAIT, so no retransmission of an
    earlier test's closing handshake arrives later and claims a bucket."""
    def quiet():
        out = run(["ss", "-Htan", "dst", VIP], ns=topo.ns("client")).stdout
        busy = [line for line in out.splitlines() if line.strip() and not line.startswith("TIME-WAIT")]
        return not busy
    wait_until(quiet, timeout, 0.2, "the client's connections to the VIP to close")


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
        self.buf = b""

    def get(self, path="/", close=False):
        req = f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
        self.sock.sendall(req.encode())
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        check(m, f"response without Content-Length: {head[:200]!r}")
        n = int(m.group(1))
        while len(self.buf) < n:
            self._more()
        body, self.buf = self.buf[:n], self.buf[n:]
        return body.decode(errors="replace")

    def _more(self):
        b = self.sock.recv(65536)
        if not b:
            raise TestFailure(f"connection from port {self.port} closed by the server")
        self.buf += b

    def abort(self):
        """Close with RST (SO_LINGER 0): no TIME_WAIT, so the same client port can be used again at once."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()


def packet_socket(topo, role, dev, ethertype=0x0003):
    """AF_PACKET raw socket on DEV in PREFIX-ROLE (ETH_P_ALL by default)."""
    s = ns_socket(topo.ns(role), socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
    s.bind((dev, 0))
    return s


def receive_frames(sock, seconds, match, limit=1000):
    """Frames received on sock for `seconds` for which match(frame bytes) is true (at most `limit`)."""
    out = []
    deadline = time.monotonic() + seconds
    while len(out) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            frame, addr = sock.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if match(frame):
            out.append(frame)
    return out
