"""Our own clients through the VIP of the e2e array, in threads: keep-alive connections (HTTP or HTTPS) that must
never see a failed request, and new connections opened at a steady pace whose retries are counted. Every thread has a
hard end (a request count, a deadline, a stop flag)."""
import contextlib
import re
import socket
import ssl
import threading
import time

from dlbatest.http_client import Connection
from dlbatest.netns import ns_socket
from dlbatest.tap import check
from dlbatest.topo import VIP


def client_context(ca_pem):
    ctx = ssl.create_default_context(cafile=ca_pem)
    ctx.check_hostname = True
    return ctx


class _ClientThread(threading.Thread):
    """A client thread in the client namespace of the e2e array `arr`, running until stop_flag is set."""

    def __init__(self, arr, name, request_timeout):
        super().__init__(name=name, daemon=True)
        self.arr = arr
        self.request_timeout = request_timeout
        self.stop_flag = threading.Event()

    def client_socket(self):
        return ns_socket(self.arr.ns("client"), socket.AF_INET, socket.SOCK_STREAM)

    def _stop_and_join(self, timeout):
        self.stop_flag.set()
        self.join(timeout)


class KeepAlive(_ClientThread):
    """One persistent HTTP/1.1 connection (HTTP or HTTPS, certificate verified against the test CA) from the
    client namespace to the VIP, sending sequential GETs until stopped. It never reconnects: a request that fails
    is recorded and ends the thread, since the point is whether *this* connection survives. Every request checks
    the status line and that the body is a back end's echo of the path."""

    def __init__(self, arr, name, tls=False, ctx=None, pause=0.01, request_timeout=10.0, max_requests=20000):
        super().__init__(arr, name, request_timeout)
        self.tls = tls
        self.pause = pause
        self.max_requests = max_requests
        self.done = []       # (start monotonic, end monotonic)
        self.error = None    # (monotonic, text)
        sock = self.client_socket()
        sock.settimeout(request_timeout)
        sock.connect((VIP, 443 if tls else 80))
        self.port = sock.getsockname()[1]
        self.sock = ctx.wrap_socket(sock, server_hostname=VIP) if tls else sock
        self.conn = Connection(self.sock)

    def request(self, seq):
        path = f"/{self.name}/{seq}"
        start = time.monotonic()
        deadline = start + self.request_timeout
        self.sock.settimeout(self.request_timeout)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\nUser-Agent: dlba-e2e\r\n\r\n".encode())
        head, body = self.conn.read_response(deadline)
        status = head.split(b"\r\n", 1)[0]
        check(status.startswith(b"HTTP/1.1 200 "), f"{path}: status {status!r}")
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
        self._stop_and_join(self.request_timeout + 5)
        with contextlib.suppress(OSError):
            self.sock.close()


class NewConnections(_ClientThread):
    """Opens a new connection every `interval` seconds, one GET with Connection: close each. An attempt that does
    not connect within `connect_timeout` (no SYN retransmission by the kernel: its first one comes after 1 s) or
    fails later is retried on a fresh connection (a new source port), at most `max_attempts` times. Records,
    per new connection: start, end, attempts needed, and whether it finally succeeded."""

    def __init__(self, arr, interval=0.1, connect_timeout=0.8, request_timeout=3.0, max_attempts=20,
                 max_connections=2000):
        super().__init__(arr, "new-connections", request_timeout)
        self.interval = interval
        self.connect_timeout = connect_timeout
        self.max_attempts = max_attempts
        self.max_connections = max_connections
        self.results = []   # (start, end, attempts, ok, last error)

    def attempt(self, seq, attempt):
        sock = self.client_socket()
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
        self._stop_and_join(self.max_attempts * (self.connect_timeout + self.request_timeout) + 5)
