"""Helpers for the end-to-end tests (issue 5): the whole Pentaflow brought up by scripts/array (client behind a router,
three nodes each running dlba-scheduler, dlba-server and dlbad, three nginx back ends), driven by clients nobody
here wrote (Chromium, wrk, h2load, testssl.sh) plus a small keep-alive client of our own.

Builds on test/integration/dlbatest.py (imported, not copied): TAP Suite, run, wait_until, check, netns. Every wait,
loop and thread here is bounded in count and time; all traffic goes to addresses inside the test's namespaces.

Environment (set by test/e2e/meson.build): DLBA_SOURCE_ROOT, DLBA_BUILD_ROOT (scripts/array is given the build
directory relative to the source root, as DLBA_BUILD_DIR), DLBA_DLBACTL.
"""
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import dlbatest as dt  # noqa: E402
from dlbatest import NODES, VIP, Suite, TestFailure, check, run, wait_until  # noqa: E402,F401

SOURCE_ROOT = dt.SOURCE_ROOT
BUILD_ROOT = dt.BUILD_ROOT
ARRAY = os.path.join(SOURCE_ROOT, "scripts", "array")


def _build_env():
    """scripts/array finds its binaries at $DLBA_ROOT/$DLBA_BUILD_DIR: give it our build tree relative to the source
    root (it may be outside it: '../x' works too), and dlbatest.ctl() our dlbactl."""
    env = dict(os.environ)
    env["DLBA_BUILD_DIR"] = os.path.relpath(os.path.realpath(BUILD_ROOT), os.path.realpath(SOURCE_ROOT))
    ctl_exe = os.environ.get("DLBA_DLBACTL") or os.path.join(BUILD_ROOT, "common", "ctl", "dlbactl")
    env["DLBA_DLBACTL"] = ctl_exe
    os.environ["DLBA_DLBACTL"] = ctl_exe
    return env


ENV = _build_env()


def need_program(path, package):
    check(shutil.which(path) is not None,
          f"{path} is not installed (Debian package {package}; scripts/test installs it through ensure_packages)")


# ---- the array --------------------------------------------------------------------------------------------------

class Array:
    """`scripts/array up PREFIX` on enter, `scripts/array down PREFIX` on exit, at interpreter exit and on
    SIGTERM/SIGINT (dlbatest's teardown hooks, which run scripts/topo down: the same as scripts/array down)."""

    def __init__(self, prefix=None, pmd="af_packet"):
        self.prefix = prefix or f"de{os.getpid()}"
        self.pmd = pmd
        self.rundir = f"/tmp/dlba-{self.prefix}"
        self.up = False

    def ns(self, role):
        return f"{self.prefix}-{role}"

    def __enter__(self):
        dt._install_teardown(self)
        cp = subprocess.run([ARRAY, "up", self.prefix, self.pmd], env=ENV, capture_output=True, text=True,
                            timeout=150, stdin=subprocess.DEVNULL)
        self.up = True
        if cp.returncode != 0:
            raise TestFailure(f"scripts/array up {self.prefix} failed ({cp.returncode}):\n{cp.stdout}{cp.stderr}")
        Suite.diag(cp.stdout.strip())
        return self

    def down(self):
        if self.up or os.path.exists(self.rundir) or any(
                os.path.exists(f"/run/netns/{self.ns(r)}") for r in ("client", "router", "sw")):
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run([ARRAY, "down", self.prefix], env=ENV, capture_output=True, timeout=120,
                               stdin=subprocess.DEVNULL)
        self.up = False

    def __exit__(self, *exc):
        self.down()
        return False

    # sockets of node n
    def sock(self, n, kind):
        return os.path.join(self.rundir, f"n{n}.{kind}.sock")

    def ca(self):
        return os.path.join(self.rundir, "tls", "ca.pem")

    def server_cert(self):
        return os.path.join(self.rundir, "tls", "server.crt")

    def big_sha256(self):
        with open(os.path.join(self.rundir, "www", "big.sha256")) as f:
            return f.read().split()[0]

    def active(self, exclude=()):
        """The node whose scheduler reports role active (None when none does)."""
        for n in NODES:
            if n in exclude:
                continue
            doc = dt.ctl_json(self.sock(n, "sched"), "status", check_rc=False, timeout=3)
            if doc and doc.get("meta", {}).get("role") == "active":
                return n
        return None

    def sched_counters(self, n):
        doc = dt.ctl_json(self.sock(n, "sched"), "counters", timeout=5)
        return {row[0]: row[1] for row in doc["rows"]}

    def server_counters(self, n):
        """dlba-server's status counters of node n (requests, responses_2xx, bytes_out, ...)."""
        doc = dt.ctl_json(self.sock(n, "server"), "status", timeout=5)
        return {row[0]: row[1] for row in doc["rows"]}

    def all_server_counters(self):
        return {n: self.server_counters(n) for n in NODES}

    def scheduler_pids(self, n):
        """Process ids of node n's dlba-scheduler (its DPDK --file-prefix is PREFIX-nN)."""
        cp = run(["pgrep", "-f", f"file-prefix {self.prefix}-n{n} "], check_rc=False)
        return [int(p) for p in cp.stdout.split()]

    def logs_tail(self, lines=8):
        out = []
        for n in NODES:
            for kind in ("scheduler", "server", "dlbad"):
                path = os.path.join(self.rundir, f"n{n}.{kind}.log")
                try:
                    with open(path, "rb") as f:
                        text = f.read().decode(errors="replace").splitlines()[-lines:]
                except OSError:
                    continue
                out.append(f"--- n{n}.{kind}.log")
                out.extend(text)
        return "\n".join(out)


def link_bytes(ns, dev):
    """(rx bytes, tx bytes) of interface dev in namespace ns, from the kernel's counters."""
    doc = json.loads(run(["ip", "-j", "-s", "link", "show", "dev", dev], ns=ns).stdout)
    st = doc[0]["stats64"]
    return st["rx"]["bytes"], st["tx"]["bytes"]


class Traffic:
    """Snapshot of every byte counter that tells where the response bytes went: the client's eth0, each node's
    eth0 and scheduler port (sch0, DPDK's transmissions show on the veth), the scheduler's own counters and each
    dlba-server's counters."""

    def __init__(self, arr):
        self.client_rx, self.client_tx = link_bytes(arr.ns("client"), "eth0")
        self.eth0_tx = {n: link_bytes(arr.ns(f"n{n}"), "eth0")[1] for n in NODES}
        self.sch0_tx = {n: link_bytes(arr.ns(f"n{n}"), "sch0")[1] for n in NODES}
        self.sched = {n: arr.sched_counters(n) for n in NODES}
        self.server = arr.all_server_counters()

    @staticmethod
    def delta(a, b):
        """What happened between snapshots a and b."""
        d = {
            "client_rx": b.client_rx - a.client_rx,
            "client_tx": b.client_tx - a.client_tx,
            "eth0_tx": {n: b.eth0_tx[n] - a.eth0_tx[n] for n in NODES},
            "sch0_tx": {n: b.sch0_tx[n] - a.sch0_tx[n] for n in NODES},
            "sched": {n: {k: b.sched[n].get(k, 0) - a.sched[n].get(k, 0) for k in b.sched[n]} for n in NODES},
            "server": {n: {k: b.server[n].get(k, 0) - a.server[n].get(k, 0) for k in b.server[n]
                           if isinstance(b.server[n].get(k), int)} for n in NODES},
        }
        return d


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024.0
    return str(n)


# ---- Chromium, driven over the DevTools protocol on a pipe ------------------------------------------------------

class Chromium:
    """Debian's chromium, headless, in a namespace, driven with --remote-debugging-pipe (the DevTools protocol as
    NUL-separated JSON on file descriptors 3 and 4: no websocket client needed). One browser process and one
    profile for all loads, so the cookie jar (session cookies included: they live only in memory) is shared by
    every page load, HTTP and HTTPS alike, as in a user's browser.

    The test CA is trusted the way a user would trust it: imported into the NSS database in $HOME/.pki/nssdb,
    which Chromium on Linux reads for locally trusted roots; the certificate is then fully verified (chain, IP SAN).
    """

    BINARY = "/usr/bin/chromium"

    def __init__(self, ns, workdir, ca_pem=None, timeout=30):
        self.workdir = workdir
        self.home = os.path.join(workdir, "home")
        self.log_path = os.path.join(workdir, "chromium.log")
        os.makedirs(self.home, exist_ok=True)
        if ca_pem:
            nssdb = os.path.join(self.home, ".pki", "nssdb")
            os.makedirs(nssdb, exist_ok=True)
            run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"])
            run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "DLBA test CA", "-i", ca_pem])
        self._buf = b""
        self._id = 0
        self.events = []
        # Pipe ends moved above 10 so that redirecting them to 3 and 4 in the child cannot clobber one another.
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        child_r = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(from_w)
        self._w, self._r = to_w, from_r
        args = [self.BINARY, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--password-store=basic",
                f"--user-data-dir={os.path.join(workdir, 'profile')}", "--remote-debugging-pipe", "about:blank"]
        # bash: dash's redirections take single-digit descriptors only.
        shell = f'exec "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-'
        env = dict(os.environ, HOME=self.home)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "bash", "-c", shell, "chromium"] + args,
                                     pass_fds=(child_r, child_w), env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        os.close(child_r)
        os.close(child_w)
        try:
            version = self.send("Browser.getVersion", timeout=timeout)
            self.version = version.get("product", "?")
            self.session = self.new_tab()
        except BaseException:
            self.close()
            raise

    def _read_messages(self, deadline):
        """Reads at least one message (or raises at the deadline); appends it to self.events or returns replies."""
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise TestFailure(f"chromium closed its DevTools pipe (exit {self.proc.poll()}):\n{self.tail()}")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=20):
        self._id += 1
        mid = self._id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        for _ in range(100000):  # bounded: each pass consumes one message or hits the deadline
            d = self._read_messages(deadline)
            if d.get("id") == mid:
                if "error" in d:
                    raise TestFailure(f"chromium: {method}: {d['error']}")
                return d.get("result", {})
            if "method" in d:
                self.events.append(d)
        raise TestFailure(f"chromium: no answer to {method}")

    def wait_event(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        seen = 0
        for _ in range(100000):
            for e in self.events[seen:]:
                if pred(e):
                    return e
            seen = len(self.events)
            d = self._read_messages(deadline)
            if "method" in d:
                self.events.append(d)
        raise TestFailure("chromium: event not seen")

    def new_tab(self, context=None):
        """A new tab (in browser context `context`, default the profile's own); returns its session id."""
        params = {"url": "about:blank"}
        if context:
            params["browserContextId"] = context
        target = self.send("Target.createTarget", params)["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.send("Network.enable", session=session)
        return session

    def load(self, url, timeout=20, session=None):
        """Navigates the tab to url and waits for its load event; returns the page's text and the main
        document's response (status, remote address, protocol, security state and TLS details)."""
        session = session or self.session
        self.events = []
        nav = self.send("Page.navigate", {"url": url}, session=session, timeout=timeout)
        check(not nav.get("errorText"), f"chromium could not load {url}: {nav.get('errorText')}")
        loader = nav.get("loaderId")
        resp = self.wait_event(lambda e: e.get("method") == "Network.responseReceived"
                               and e.get("sessionId") == session and e["params"].get("loaderId") == loader
                               and e["params"].get("type") == "Document", timeout)["params"]["response"]
        self.wait_event(lambda e: e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session,
                        timeout)
        text = self.send("Runtime.evaluate", {"expression": "document.body ? document.body.innerText : ''",
                                              "returnByValue": True}, session=session)["result"].get("value")
        tls = resp.get("securityDetails") or {}
        return {"url": url, "text": text or "", "status": resp.get("status"),
                "remote": f"{resp.get('remoteIPAddress')}:{resp.get('remotePort')}",
                "protocol": resp.get("protocol"), "security": resp.get("securityState"),
                "tls": tls.get("protocol"), "cipher": tls.get("cipher"), "issuer": tls.get("issuer"),
                "san": tls.get("sanList")}

    def cookies(self):
        return self.send("Storage.getCookies").get("cookies", [])

    def tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        # Chromium complains about the missing D-Bus on every start: noise.
        text = [t for t in text if "dbus" not in t.lower()]
        return "\n".join(text[-lines:])

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                os.write(self._w, json.dumps({"id": 999999, "method": "Browser.close"}).encode() + b"\0")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(5)
        for fd in (self._w, self._r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.log.close()


# ---- wrk and h2load ---------------------------------------------------------------------------------------------

WRK_LUA = r"""
-- Generated by test/e2e/e2elib.py. Every `big_every`-th request of a connection's thread fetches /big (20 MiB);
-- the others fetch a small page. Prints exact totals at the end.
local n = 0
local big_every = %(big_every)d
local tag = "%(tag)s"
request = function()
  n = n + 1
  if big_every > 0 and n %% big_every == 0 then
    return wrk.format("GET", "/big")
  end
  return wrk.format("GET", "/" .. tag .. "/" .. n)
end
%(delay)s
done = function(summary, latency, requests)
  io.write(string.format("E2E-WRK requests=%%d bytes=%%d connect=%%d read=%%d write=%%d status=%%d timeout=%%d " ..
    "duration_us=%%d latency_max_us=%%d latency_p99_us=%%d\n",
    summary.requests, summary.bytes, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, summary.duration, latency.max, latency:percentile(99)))
end
"""


def wrk_script(workdir, tag, big_every=0, delay_ms=0):
    path = os.path.join(workdir, f"wrk-{tag}.lua")
    delay = f"delay = function() return {delay_ms} end" if delay_ms else ""
    with open(path, "w") as f:
        f.write(WRK_LUA % {"big_every": big_every, "tag": tag, "delay": delay})
    return path


def wrk_cmd(url, script, seconds, connections, timeout_s=10):
    return ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{timeout_s}s",
            "-s", script, url]


def parse_wrk(out):
    m = re.search(r"E2E-WRK (.*)", out)
    check(m, f"wrk printed no summary:\n{out}")
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def parse_h2load(out):
    res = {}
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    check(m, f"h2load printed no request summary:\n{out}")
    for k, v in zip(("total", "started", "done", "succeeded", "failed", "errored", "timeout"), m.groups()):
        res[k] = int(v)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    check(m, f"h2load printed no status codes:\n{out}")
    for k, v in zip(("2xx", "3xx", "4xx", "5xx"), m.groups()):
        res[k] = int(v)
    m = re.search(r"traffic: .*?\((\d+)\) total", out)
    check(m, f"h2load printed no traffic line:\n{out}")
    res["bytes"] = int(m.group(1))
    return res


# ---- our own keep-alive client ----------------------------------------------------------------------------------

def client_context(ca_pem):
    ctx = ssl.create_default_context(cafile=ca_pem)
    ctx.check_hostname = True
    return ctx


class KeepAlive(threading.Thread):
    """One persistent HTTP/1.1 connection (HTTP or HTTPS, certificate verified against the test CA) from the
    client namespace to the VIP, sending sequential GETs until stopped. It never reconnects: a request that fails
    is recorded and ends the thread, since the point is whether *this* connection survives. Every request checks
    the status line and that the body is a back end's echo of the path."""

    def __init__(self, arr, name, tls=False, ctx=None, pause=0.01, request_timeout=10.0, max_requests=20000):
        super().__init__(name=name, daemon=True)
        self.arr = arr
        self.tls = tls
        self.pause = pause
        self.request_timeout = request_timeout
        self.max_requests = max_requests
        self.stop_flag = threading.Event()
        self.done = []       # (start monotonic, end monotonic)
        self.error = None    # (monotonic, text)
        self.port = None
        sock = dt.ns_socket(arr.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(request_timeout)
        sock.connect((VIP, 443 if tls else 80))
        self.port = sock.getsockname()[1]
        self.sock = ctx.wrap_socket(sock, server_hostname=VIP) if tls else sock
        self.buf = b""

    def _more(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TestFailure("request took too long")
        self.sock.settimeout(left)
        b = self.sock.recv(65536)
        if not b:
            raise TestFailure("connection closed by the server")
        self.buf += b

    def request(self, seq):
        path = f"/{self.name}/{seq}"
        start = time.monotonic()
        deadline = start + self.request_timeout
        self.sock.settimeout(self.request_timeout)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\nUser-Agent: dlba-e2e\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            self._more(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        check(status.startswith(b"HTTP/1.1 200 "), f"{path}: status {status!r}")
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        check(m, f"{path}: response without Content-Length")
        n = int(m.group(1))
        while len(self.buf) < n:
            self._more(deadline)
        body, self.buf = self.buf[:n], self.buf[n:]
        check(re.fullmatch(rb"web [123] " + re.escape(path.encode()) + rb"\n", body), f"{path}: body {body!r}")
        self.done.append((start, time.monotonic()))

    def run(self):
        seq = 0
        while not self.stop_flag.is_set() and seq < self.max_requests:
            seq += 1
            try:
                self.request(seq)
            except Exception as e:  # noqa: BLE001 - recorded, the test fails on it
                self.error = (time.monotonic(), f"{type(e).__name__}: {e}")
                return
            self.stop_flag.wait(self.pause)

    def stop(self):
        self.stop_flag.set()
        self.join(self.request_timeout + 5)
        with contextlib.suppress(OSError):
            self.sock.close()


class NewConnections(threading.Thread):
    """Opens a new connection every `interval` seconds, one GET with Connection: close each. An attempt that does
    not connect within `connect_timeout` (no SYN retransmission by the kernel: its first one comes after 1 s) or
    fails later is retried on a fresh connection (a new source port), at most `max_attempts` times. Records,
    per new connection: start, end, attempts needed, and whether it finally succeeded."""

    def __init__(self, arr, interval=0.1, connect_timeout=0.8, request_timeout=3.0, max_attempts=20,
                 max_connections=2000):
        super().__init__(name="new-connections", daemon=True)
        self.arr = arr
        self.interval = interval
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.max_attempts = max_attempts
        self.max_connections = max_connections
        self.stop_flag = threading.Event()
        self.results = []   # (start, end, attempts, ok, last error)

    def attempt(self, seq, attempt):
        sock = dt.ns_socket(self.arr.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.connect_timeout)
            sock.connect((VIP, 80))
            sock.settimeout(self.request_timeout)
            path = f"/new/{seq}/{attempt}"
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            deadline = time.monotonic() + self.request_timeout
            while time.monotonic() < deadline:
                b = sock.recv(65536)
                if not b:
                    break
                data += b
            check(data.startswith(b"HTTP/1.1 200 ") and data.endswith(path.encode() + b"\n"),
                  f"bad answer {data[:80]!r}")
        finally:
            sock.close()

    def run(self):
        seq = 0
        while not self.stop_flag.is_set() and seq < self.max_connections:
            seq += 1
            start = time.monotonic()
            ok, err, attempts = False, None, 0
            while attempts < self.max_attempts and not ok:
                attempts += 1
                try:
                    self.attempt(seq, attempts)
                    ok = True
                except Exception as e:  # noqa: BLE001 - a retry, counted
                    err = f"{type(e).__name__}: {e}"
            self.results.append((start, time.monotonic(), attempts, ok, err))
            self.stop_flag.wait(self.interval)

    def stop(self):
        self.stop_flag.set()
        self.join(self.max_attempts * (self.connect_timeout + self.request_timeout) + 5)


# ---- what every e2e script does at its end ---------------------------------------------------------------------

def teardown_state(state):
    """Stops what a script left in its `state`: threads (stop_flag), processes ("procs", "wrk"), the browser, the
    array, the work directory. Each step is bounded and runs even if an earlier one failed."""
    for t in state.get("threads", []):
        t.stop_flag.set()
    procs = list(state.get("procs", [])) + ([state["wrk"]] if state.get("wrk") else [])
    for p in procs:
        if p.poll() is None:
            p.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
    if state.get("browser"):
        state["browser"].close()
    if state.get("array"):
        state["array"].down()
    if state.get("workdir"):
        shutil.rmtree(state["workdir"], ignore_errors=True)


def main(suite, setup, teardown):
    """Runs the suite and exits with its status; a failure outside any case bails out (TAP)."""
    try:
        sys.exit(suite.run(setup, teardown))
    except TestFailure as e:
        print(f"Bail out! {e}", flush=True)
        sys.exit(1)
