"""Helpers for the failover tests and scripts/bench-failover: the whole array (dlba-scheduler and dlbad on every
node, elected by dlbad), ARP watching from the router, and client load that checks every byte.

Builds on test/integration/dlbatest.py (imported, not copied). Every wait, loop and thread here is bounded in count
and time.

Environment (set by test/failover/meson.build or scripts/bench-failover): DLBA_SOURCE_ROOT, DLBA_SCHEDULER,
DLBA_DLBACTL, DLBA_DLBAD.
"""
import contextlib
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import dlbatest as dt  # noqa: E402
from dlbatest import (NODES, ROUTER_LAN_IP, ROUTER_LAN_MAC, VIP, Proc, TestFailure, check,  # noqa: E402,F401
                      ctl, ctl_json, run, sched_mac, wait_until)

BIG_SIZE = 20 * 1024 * 1024
ETH_P_ARP = 0x0806


def dlbad_binary():
    path = os.environ.get("DLBA_DLBAD")
    check(path and os.access(path, os.X_OK), "dlbad is not built (DLBA_DLBAD unset or not executable)")
    return path


def node_of_mac(mac):
    for n in NODES:
        if sched_mac(n) == mac:
            return n
    return None


def raw(sock_path, line, timeout=2):
    """One request line on a control or monitor socket, the JSON answer parsed (None when unreachable/not JSON).
    Faster than spawning dlbactl, for polling."""
    try:
        text = dt._raw_request(sock_path, line, timeout)
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def rows_by(doc, key_col=0):
    names = [c["name"] for c in doc["columns"]]
    return {row[key_col]: dict(zip(names, row)) for row in doc["rows"]}


def sync_counters(doc):
    return {row[0]: row[1] for row in doc["rows"]}


# ---- configuration ----------------------------------------------------------------------------------------------

SERVER_SECTIONS = ("server", "tls", "backends", "services")


def _strip_group(text, name):
    """Removes the top-level setting `name = {...};` or `name = (...);` from libconfig text (brackets balanced,
    ignoring comments and strings). Returns the text unchanged when there is none."""
    m = re.search(rf"(?m)^{name}\s*=\s*[{{(]", text)
    if not m:
        return text
    i = m.end() - 1
    depth = 0
    in_str = False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        elif ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth == 0:
                end = i + 1
                rest = re.match(r"\s*;?[^\S\n]*(#[^\n]*)?\n?", text[end:])
                return text[:m.start()] + text[end + (rest.end() if rest else 0):]
        i += 1
    raise TestFailure(f"unbalanced setting '{name}' in the configuration")


def make_config(path, idle_timeout, failover=None):
    """conf/dlba.conf for the prototype array (nginx on every node, no dlba-server): the example with a short
    bucket_idle_timeout, a control socket that is never used (every process gets its own on the command line),
    and without the dlba-server sections. With a `server` section dlbad answers the status sweep from the DLBA
    server's monitor socket, and with no dlba-server running every node would be swept as failed.
    `failover`: {key: value} to set in the failover section (replacing the example's section, if any, whose
    other keys are kept)."""
    dt.make_config(path, control_socket=os.path.join(os.path.dirname(path), "unused.sock"), idle_timeout=idle_timeout)
    with open(path) as f:
        text = f.read()
    for name in SERVER_SECTIONS:
        text = _strip_group(text, name)
    if failover:
        keep = {}
        m = re.search(r"(?ms)^failover\s*=\s*\{(.*?)^\};?", text)
        if m:
            for k, v in re.findall(r"(?m)^\s*(\w+)\s*=\s*([^;#\n]+);", m.group(1)):
                keep[k] = v.strip()
            text = _strip_group(text, "failover")
        keep.update({k: (f'"{v}"' if isinstance(v, str) else str(v)) for k, v in failover.items()})
        text += "\nfailover = {\n" + "".join(f"  {k} = {v};\n" for k, v in keep.items()) + "};\n"
    with open(path, "w") as f:
        f.write(text)
    cp = run([dt.scheduler_binary(), "--", "--config", path, "--check-config"], check_rc=False)
    check(cp.returncode == 0, f"the test configuration is refused: {cp.stdout}{cp.stderr}")
    return path


# ---- the array --------------------------------------------------------------------------------------------------

DEFAULT_HASH_SEED = 0x6a09e667f3bcc908   # SchedulerConfig::hash_seed's default in common/config.hpp
M64 = (1 << 64) - 1


def bucket_of_mix(size, seed, ip, port):
    """common/bucket_hash.hpp MixHash, for tests that must know which bucket a client port lands in."""
    a, b, c, d = (int(x) for x in ip.split("."))
    x = ((((a << 24) | (b << 16) | (c << 8) | d) << 16) | port) ^ seed
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & M64
    x ^= x >> 33
    x = (x * 0xc4ceb9fe1a85ec53) & M64
    x ^= x >> 33
    return ((x >> 32) * size) >> 32


class Array:
    """dlba-scheduler (started without --role: standby) and dlbad on every node of a topology; dlbad elects."""

    def __init__(self, topo, config, pmd="af_packet"):
        self.topo = topo
        self.config = config
        self.pmd = pmd
        self.sched = {}   # node -> Proc
        self.dlbad = {}   # node -> Proc
        self.starts = 0

    # sockets
    def sock(self, n):
        return os.path.join(self.topo.rundir, f"n{n}.sock")

    def mon(self, n):
        return os.path.join(self.topo.rundir, f"n{n}-dlbad.sock")

    # processes
    def start_scheduler(self, n, timeout=30):
        self.starts += 1
        prefix = f"{self.topo.prefix}-n{n}-{self.starts}"
        cmd = [dt.scheduler_binary(), "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
               "--file-prefix", prefix, "--log-level", "lib.eal:warning", f"--vdev=net_{self.pmd}0,iface=sch0",
               "--", "--config", self.config, "--node", n, "--control-socket", self.sock(n)]
        log = os.path.join(self.topo.rundir, f"scheduler-n{n}-{self.starts}.log")
        p = Proc(f"scheduler n{n}", cmd, self.topo.ns(f"n{n}"), log)
        self.sched[n] = p

        def ready():
            if not p.alive():
                raise TestFailure(f"dlba-scheduler on n{n} exited ({p.p.returncode}):\n{p.tail()}")
            doc = raw(self.sock(n), "status")
            return doc is not None and "meta" in doc
        try:
            wait_until(ready, timeout, 0.1, f"the control socket of the scheduler on n{n}")
        except TestFailure as e:
            raise TestFailure(f"{e}\n{p.tail()}") from None
        return p

    def start_dlbad(self, n, timeout=10):
        self.starts += 1
        cmd = [dlbad_binary(), "--config", self.config, "--node", n, "--scheduler-socket", self.sock(n),
               "--monitor-socket", self.mon(n)]
        log = os.path.join(self.topo.rundir, f"dlbad-n{n}-{self.starts}.log")
        p = Proc(f"dlbad n{n}", cmd, self.topo.ns(f"n{n}"), log)
        self.dlbad[n] = p

        def ready():
            if not p.alive():
                raise TestFailure(f"dlbad on n{n} exited ({p.p.returncode}):\n{p.tail()}")
            return raw(self.mon(n), "failover") is not None
        wait_until(ready, timeout, 0.1, f"the monitor socket of dlbad on n{n}")
        return p

    def start_nginx(self, n):
        d = os.path.join(self.topo.rundir, f"n{n}")
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(d, "nginx.pid"))
        run(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")],
            ns=self.topo.ns(f"n{n}"))
        wait_until(lambda: os.path.exists(os.path.join(d, "nginx.pid")), 5, 0.1, f"nginx on n{n}")

    def start_all(self):
        for n in NODES:
            self.start_scheduler(n)
        for n in NODES:
            self.start_dlbad(n)
        return self.wait_one_active(timeout=10)

    def stop_all(self):
        for p in list(self.dlbad.values()) + list(self.sched.values()):
            with contextlib.suppress(Exception):
                p.stop()

    def kill9(self, proc):
        """SIGKILL to the process itself (ip netns exec execs it: the pid is the binary's)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.p.pid, 9)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.p.wait(5)

    def kill_namespace(self, n):
        """kill -9 every process in node n's namespace (nginx, scheduler, dlbad, anything else). Returns the pids."""
        ns = self.topo.ns(f"n{n}")
        pids = [int(p) for p in run(["ip", "netns", "pids", ns]).stdout.split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        for p in (self.sched.get(n), self.dlbad.get(n)):
            if p:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.p.wait(5)
        wait_until(lambda: not run(["ip", "netns", "pids", ns]).stdout.strip(), 5, 0.05,
                   f"every process of n{n} to be gone")
        return pids

    # views
    def roles(self):
        """{node: 'active'|'standby'|None} as each scheduler reports it."""
        out = {}
        for n in NODES:
            p = self.sched.get(n)
            doc = raw(self.sock(n), "status", timeout=1) if p and p.alive() else None
            out[n] = doc["meta"].get("role") if doc and "meta" in doc else None
        return out

    def actives(self):
        return [n for n, r in self.roles().items() if r == "active"]

    def failover(self, n):
        return raw(self.mon(n), "failover")

    def wait_one_active(self, timeout=10, exclude=()):
        """Exactly one active scheduler, and every running dlbad names it as the active; returns its node."""
        def one():
            a = self.actives()
            if len(a) != 1 or a[0] in exclude:
                return None
            for n, p in self.dlbad.items():
                if not p.alive():
                    continue
                doc = self.failover(n)
                if not doc or doc["meta"].get("active") != a[0]:
                    return None
            return a[0]
        return wait_until(one, timeout, 0.05, "exactly one active scheduler that every dlbad agrees on")

    def sched_json(self, n, *args):
        return ctl_json(self.sock(n), *args)

    def status_rows(self, n):
        return rows_by(self.sched_json(n, "status"))

    def buckets(self, n):
        return {k: r["buckets"] for k, r in self.status_rows(n).items()}

    def bucket_of(self, n, ip, port):
        """The bucket of client ip:port on node n's scheduler (the 'mix' hash of common/bucket_hash.hpp, default
        seed: the failover tests do not set scheduler.hash_seed)."""
        meta = self.sched_json(n, "hash")["meta"]
        assert meta["hash"] == "mix", meta
        return bucket_of_mix(meta["table_size"], DEFAULT_HASH_SEED, ip, port)

    def bucket_map(self, n):
        """{bucket: (node, idle_s)} of every assigned bucket (dlbactl hash --all, all pages)."""
        doc = self.sched_json(n, "hash", "--all")
        return doc.get("version"), {r[0]: (r[1], r[2]) for r in doc["rows"]}

    def version(self, n):
        doc = raw(self.sock(n), "status")
        return doc.get("version") if doc else None

    def standbys_synced(self, active):
        """True when every running standby's table version equals the active's."""
        v = self.version(active)
        if v is None:
            return False
        for n, p in self.sched.items():
            if n == active or not p.alive():
                continue
            if self.version(n) != v:
                return False
        return True

    def log_tails(self, lines=6):
        out = []
        for what, procs in (("scheduler", self.sched), ("dlbad", self.dlbad)):
            for n, p in sorted(procs.items()):
                out.append(f"--- {what} n{n} ({p.log_path}) alive={p.alive()}")
                out.append(p.tail(lines))
        return "\n".join(out)


# ---- ARP from the router ----------------------------------------------------------------------------------------

def _mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def _mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def arp_request_frame(mac, sender_ip, target_ip):
    """A broadcast ARP request from `mac` (sender `sender_ip`) for `target_ip`, padded to 60 bytes."""
    src = _mac_bytes(mac)
    frame = b"\xff" * 6 + src + struct.pack("!H", ETH_P_ARP)
    frame += struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src + socket.inet_aton(sender_ip)
    frame += b"\x00" * 6 + socket.inet_aton(target_ip)
    return frame + b"\x00" * (60 - len(frame))


def arp_request(target_ip=VIP):
    """The router's LAN port asking for target_ip."""
    return arp_request_frame(ROUTER_LAN_MAC, ROUTER_LAN_IP, target_ip)


def arp_announcement(mac, ip=VIP):
    """A gratuitous ARP (request, sender = target = ip) from `mac`, broadcast: a host claiming the address."""
    return arp_request_frame(mac, ip, ip)


def parse_arp(frame):
    """(op, sender MAC, sender IP, target IP) of an ARP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    op = struct.unpack("!H", frame[20:22])[0]
    return op, _mac_str(frame[22:28]), socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])


class ArpWatcher:
    """On the router's LAN port: records every ARP frame that speaks for the VIP (answers to our requests and
    gratuitous announcements), and asks for the VIP every `interval` seconds while running. Bounded by max_s."""

    def __init__(self, topo, interval=0.01, max_s=60):
        self.topo = topo
        self.interval = interval
        self.max_s = max_s
        self.seen = []  # (monotonic time, op, sender MAC)
        self.sent = 0
        self._stop = threading.Event()
        self._rx = dt.packet_socket(topo, "router", "eth1", ETH_P_ARP)
        self._tx = dt.packet_socket(topo, "router", "eth1", ETH_P_ARP)
        self._threads = []

    def __enter__(self):
        self._threads = [threading.Thread(target=self._receive, daemon=True)]
        if self.interval:
            self._threads.append(threading.Thread(target=self._ask, daemon=True))
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        for s in (self._rx, self._tx):
            with contextlib.suppress(OSError):
                s.close()

    def _ask(self):
        req = arp_request()
        deadline = time.monotonic() + self.max_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self._tx.send(req)
                self.sent += 1
            self._stop.wait(self.interval)

    def _receive(self):
        deadline = time.monotonic() + self.max_s
        self._rx.settimeout(0.05)
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                frame, addr = self._rx.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            a = parse_arp(frame)
            if a and a[2] == VIP:
                self.seen.append((time.monotonic(), a[0], a[1], a[3]))

    def first_other(self, since, old_mac):
        """(time, MAC) of the first frame speaking for the VIP after `since` from a MAC other than old_mac."""
        for t, op, mac, target in list(self.seen):
            if t >= since and mac != old_mac:
                return t, mac
        return None

    def first_kinds(self, since, mac):
        """Time after `since` of the first gratuitous announcement and of the first answer to the router's
        requests from `mac` (None when not seen)."""
        garp = answer = None
        for t, op, m, target in list(self.seen):
            if t < since or m != mac:
                continue
            if target == VIP and garp is None:
                garp = t - since
            elif op == 2 and target == ROUTER_LAN_IP and answer is None:
                answer = t - since
        return garp, answer


def arp_probes(topo, count, spacing):
    """Sends `count` ARP requests for the VIP, `spacing` seconds apart; returns, per request, the set of MACs that
    answered it (replies only, within the spacing)."""
    answers = []
    tx = dt.packet_socket(topo, "router", "eth1", ETH_P_ARP)
    rx = dt.packet_socket(topo, "router", "eth1", ETH_P_ARP)
    try:
        req = arp_request()
        for _ in range(count):
            tx.send(req)
            frames = dt.receive_frames(rx, spacing, lambda f: (lambda a: bool(a) and a[0] == 2 and a[2] == VIP)(
                parse_arp(f)), limit=20)
            answers.append(sorted({parse_arp(f)[1] for f in frames}))
    finally:
        tx.close()
        rx.close()
    return answers


def router_neigh_mac(topo):
    out = run(["ip", "neigh", "show", VIP, "dev", "eth1"], ns=topo.ns("router")).stdout
    parts = out.split()
    return parts[parts.index("lladdr") + 1] if "lladdr" in parts else None


# ---- client load ------------------------------------------------------------------------------------------------

class SlowDownloads(threading.Thread):
    """`count` long downloads of /big (the first `length` bytes, by a Range request) through the VIP, read at `rate`
    bytes/s each by one thread, with a small receive buffer so that TCP flow control holds the server to that
    rate. Every byte is checked: status 200/206, Content-Length, and the sha256 of the body against the original
    file. (curl 7.88's --limit-rate overshoots here: with 50 transfers at "512K", some 8 MiB ones finished in under
    4 s, too soon to still be running at a kill.)

    Bounded: the thread stops after max_time seconds; a connection without progress for stall_s is failed."""

    TICK = 0.05

    def __init__(self, topo, count, rate=512 * 1024, length=8 * 2 ** 20, rcvbuf=32 * 1024, spacing=0.02,
                 max_time=120, stall_s=30):
        super().__init__(daemon=True)
        self.topo = topo
        self.rate = rate
        self.length = min(length, BIG_SIZE)
        self.max_time = max_time
        self.stall_s = stall_s
        with open(os.path.join(topo.rundir, "www", "big"), "rb") as f:
            self.want = hashlib.sha256(f.read(self.length)).hexdigest()
        self.conns = []
        req = (f"GET /big HTTP/1.1\r\nHost: {VIP}\r\nRange: bytes=0-{self.length - 1}\r\n"
               "Connection: close\r\n\r\n").encode()
        for _ in range(count):
            s = dt.ns_socket(topo.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(5)
            s.connect((VIP, 80))
            s.sendall(req)
            s.setblocking(False)
            self.conns.append({"sock": s, "port": s.getsockname()[1], "head": b"", "body_len": None, "got": 0,
                               "sha": hashlib.sha256(), "done": False, "error": None,
                               "last_progress": time.monotonic(), "opened": time.monotonic()})
            if spacing:
                time.sleep(spacing)
        self.stop_event = threading.Event()
        self.start()

    def run(self):
        deadline = time.monotonic() + self.max_time
        per_tick = max(1, int(self.rate * self.TICK))
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            t = time.monotonic()
            live = [c for c in self.conns if not c["done"] and not c["error"]]
            if not live:
                return
            for c in live:
                self._read(c, per_tick, t)
            self.stop_event.wait(max(0.0, self.TICK - (time.monotonic() - t)))
        for c in self.conns:
            if not c["done"] and not c["error"]:
                c["error"] = f"unfinished after {self.max_time} s ({c['got']} bytes)"

    def _read(self, c, budget, now):
        s = c["sock"]
        while budget > 0:
            try:
                data = s.recv(min(budget, 65536))
            except BlockingIOError:
                break
            except OSError as e:
                c["error"] = f"{e.__class__.__name__}: {e} after {c['got']} bytes"
                return
            if not data:
                c["error"] = f"closed by the server after {c['got']} of {self.length} bytes"
                return
            budget -= len(data)
            c["last_progress"] = now
            if c["body_len"] is None:
                c["head"] += data
                if b"\r\n\r\n" not in c["head"]:
                    continue
                head, data = c["head"].split(b"\r\n\r\n", 1)
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if not re.match(rb"HTTP/1\.1 20[06] ", head) or not m:
                    c["error"] = f"bad response head {head[:60]!r}"
                    return
                c["body_len"] = int(m.group(1))
            c["got"] += len(data)
            c["sha"].update(data)
            if c["got"] >= c["body_len"]:
                if c["got"] != self.length or c["body_len"] != self.length:
                    c["error"] = f"{c['got']} bytes, want {self.length}"
                elif c["sha"].hexdigest() != self.want:
                    c["error"] = "sha256 differs"
                else:
                    c["done"] = True
                with contextlib.suppress(OSError):
                    s.close()
                return
        if now - c["last_progress"] > self.stall_s:
            c["error"] = f"no progress for {self.stall_s} s after {c['got']} bytes"

    def progress(self):
        return [c["got"] for c in self.conns]

    def finish(self, timeout):
        """Waits (bounded) for every download; returns a list of (ok, description)."""
        self.join(timeout)
        self.stop_event.set()
        self.join(5)
        out = []
        for c in self.conns:
            if c["done"]:
                out.append((True, f"port {c['port']}: intact"))
            else:
                out.append((False, f"port {c['port']}: {c['error'] or 'unfinished'}"))
        return out

    def kill(self):
        self.stop_event.set()
        self.join(5)
        for c in self.conns:
            with contextlib.suppress(OSError):
                c["sock"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c["sock"].close()


class Sessions:
    """`count` keep-alive HTTP/1.1 connections to the VIP. Each round sends one GET on every connection, then reads
    every answer: each must be 'node N' with the same N as the connection's first answer. A connection that breaks
    or answers wrong is recorded and not used again."""

    def __init__(self, topo, count, timeout=8, spacing=0.0):
        self.conns = []
        self.first = []
        self.errors = {}   # index -> description of the first failure
        self.responses = 0
        self.rounds = 0
        self.opened = []   # monotonic time of each connection's first answer
        for i in range(count):
            c = dt.HttpConn(topo, timeout=timeout)
            self.conns.append(c)
            self.first.append(None)
            self.opened.append(None)
            if spacing:
                time.sleep(spacing)
        self.round()

    def round(self):
        live = [i for i in range(len(self.conns)) if i not in self.errors]
        req = f"GET / HTTP/1.1\r\nHost: {VIP}\r\n\r\n".encode()
        sent = []
        for i in live:
            try:
                self.conns[i].sock.sendall(req)
                sent.append(i)
            except OSError as e:
                self.errors[i] = f"send: {e}"
        for i in sent:
            c = self.conns[i]
            try:
                body = self._read(c)
            except (OSError, TestFailure) as e:
                self.errors[i] = f"port {c.port} (node {self.first[i]}) round {self.rounds}: {e}"
                continue
            n = dt.which_node(body)
            if n is None:
                self.errors[i] = f"port {c.port} round {self.rounds}: body {body[:40]!r}"
            elif self.first[i] is None:
                self.first[i] = n
                self.opened[i] = time.monotonic()
                self.responses += 1
            elif n != self.first[i]:
                self.errors[i] = f"port {c.port}: answered by node {n}, was node {self.first[i]}"
            else:
                self.responses += 1
        self.rounds += 1

    @staticmethod
    def _read(c):
        while b"\r\n\r\n" not in c.buf:
            c._more()
        head, c.buf = c.buf.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 200"), f"status line {head[:40]!r}")
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        check(m, f"response without Content-Length: {head[:200]!r}")
        n = int(m.group(1))
        while len(c.buf) < n:
            c._more()
        body, c.buf = c.buf[:n], c.buf[n:]
        return body.decode(errors="replace")

    def intact(self):
        return len(self.conns) - len(self.errors)

    def per_node(self):
        out = {}
        for n in self.first:
            out[n] = out.get(n, 0) + 1
        return out

    def close(self):
        for c in self.conns:
            c.abort()


class SessionDriver(threading.Thread):
    """Runs Sessions.round() every `period` seconds in a thread until stopped or max_rounds."""

    def __init__(self, sessions, period=0.5, max_rounds=200):
        super().__init__(daemon=True)
        self.sessions = sessions
        self.period = period
        self.max_rounds = max_rounds
        self.stop_event = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop_event.is_set() and self.sessions.rounds < self.max_rounds:
                t = time.monotonic()
                self.sessions.round()
                self.stop_event.wait(max(0.0, self.period - (time.monotonic() - t)))
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def finish(self, timeout=30):
        self.stop_event.set()
        self.join(timeout)
        check(not self.is_alive(), "the session driver did not stop")
        if self.error:
            raise TestFailure(f"session driver: {self.error}")


class Capture:
    """tcpdump (text, no name resolution) in a namespace while the block runs; lines() after. Diagnostics only."""

    def __init__(self, topo, role, dev, bpf, limit=200):
        self.path = os.path.join(topo.rundir, f"capture-{role}-{time.monotonic_ns()}.txt")
        self.limit = limit
        self.out = open(self.path, "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), "tcpdump", "-l", "-n", "-tt", "-c",
                                   str(limit), "-i", dev, bpf], stdout=self.out, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(3)
        self.out.close()
        with open(self.path) as f:
            return [line for line in f.read().splitlines() if line[:1].isdigit()]


def client_established(topo):
    """Client TCP connections to VIP:80 in ESTABLISHED."""
    out = run(["ss", "-Htn", "state", "established", "dst", VIP], ns=topo.ns("client")).stdout
    return len([line for line in out.splitlines() if line.strip()])


def parse_rate(text):
    """'512K' / '2M' / '1000' (bytes per second, K and M binary, as curl reads them) -> bytes per second."""
    m = re.fullmatch(r"(\d+)([KkMm]?)", text.strip())
    check(m, f"bad rate {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)
