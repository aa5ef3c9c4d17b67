"""Client load that checks every answer, and the figures it reports.

Through the VIP of a topology (the failover tests): long paced downloads of /big whose every byte is checked
(SlowDownloads), keep-alive sessions that must stay on their node (Sessions, driven by SessionDriver).
Against a dlba-server on loopback (its reload tests): keep-alive request loops (Load) and one paced download
(PacedDownload). Every thread and loop here is bounded in count and time.
"""
import contextlib
import hashlib
import os
import re
import socket
import struct
import threading
import time

from dlbatest.http_client import KeepAliveClient
from dlbatest.netns import ns_socket
from dlbatest.tap import TestFailure, check
from dlbatest.topo import VIP, HttpConn, which_node

BIG_SIZE = 20 * 1024 * 1024  # /big of scripts/topo


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
            s = ns_socket(topo.ns("client"), socket.AF_INET, socket.SOCK_STREAM)
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
            c = HttpConn(topo, timeout=timeout)
            self.conns.append(c)
            self.first.append(None)
            self.opened.append(None)
            if spacing:
                time.sleep(spacing)
        self.round()

    def round(self):
        live = [i for i in range(len(self.conns)) if i not in self.errors]
        sent = []
        for i in live:
            try:
                self.conns[i].send_get("/")
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
            n = which_node(body)
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
        head, body = c.read()
        check(head.startswith(b"HTTP/1.1 200"), f"status line {head[:40]!r}")
        return body

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


def parse_rate(text):
    """'512K' / '2M' / '1000' (bytes per second, K and M binary, as curl reads them) -> bytes per second."""
    m = re.fullmatch(r"(\d+)([KkMm]?)", text.strip())
    check(m, f"bad rate {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


class Load:
    """Keep-alive request loops in threads, each recording (start time, status or error, back end)."""

    def __init__(self, port, connections=3, prefix="/r"):
        self.port, self.prefix = port, prefix
        self.stop = threading.Event()
        self.records = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(connections)]

    def _loop(self, index):
        conn, i = None, 0
        while not self.stop.is_set() and i < 100000:
            i += 1
            started = time.monotonic()
            try:
                if conn is None:
                    conn = KeepAliveClient(self.port)
                status, backend, _ = conn.get(f"{self.prefix}{index}-{i}")
                rec = (started, status, backend)
            except Exception as e:  # noqa: BLE001 - recorded as a failure
                rec = (started, None, repr(e))
                conn = None
            with self.lock:
                self.records.append(rec)
            time.sleep(0.002)
        if conn:
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(10)


class PacedDownload(threading.Thread):
    """GET url_path from 127.0.0.1:port over one connection (small receive buffer) and read the body at `rate`
    bytes/s, so that it lasts as long as the test needs whatever the kernel's buffers hold; records the status, the
    byte count, the body's sha256 and any error. Bounded by `max_s`."""

    def __init__(self, port, url_path, rate, max_s=60):
        super().__init__(daemon=True)
        self.port, self.url_path, self.rate, self.max_s = port, url_path, rate, max_s
        self.status, self.size, self.sha, self.error = None, 0, None, None

    def run(self):
        digest = hashlib.sha256()
        start = time.monotonic()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.port))
                s.sendall(f"GET {self.url_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise OSError("closed in the response head")
                    buf += chunk
                head, body = buf.split(b"\r\n\r\n", 1)
                self.status = int(head.split()[1])
                length = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1))
                digest.update(body)
                self.size = len(body)
                while self.size < length:
                    if time.monotonic() - start > self.max_s:
                        raise OSError(f"not done after {self.max_s} s")
                    # Pace: never ahead of rate x elapsed time.
                    ahead = self.size / self.rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(min(ahead, 0.1))
                        continue
                    chunk = s.recv(min(16384, length - self.size))
                    if not chunk:
                        raise OSError(f"closed after {self.size} of {length} bytes")
                    digest.update(chunk)
                    self.size += len(chunk)
        except (OSError, ValueError, AttributeError) as e:
            self.error = f"{type(e).__name__}: {e}"
        self.sha = digest.hexdigest()
