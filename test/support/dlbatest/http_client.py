"""The client side of TCP and HTTP/1.1 in the tests: free and open ports, raw exchanges, and one keep-alive
connection's answers read by their framing. Every read is bounded by a socket timeout or a deadline."""
import re
import socket
import ssl
import time

from dlbatest.tap import TestFailure, check

_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_BACKEND = re.compile(rb"(?i)\r\nx-backend: (\S+)")


def free_port(address="127.0.0.1"):
    """A TCP port nobody listens on at `address` right now."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def free_ports(count, address="127.0.0.1"):
    """A TCP port P such that nobody listens on P, P + 1, ... P + count - 1 at `address` right now."""
    for _ in range(50):
        p = free_port(address)
        if p + count - 1 > 65535:
            continue
        socks = []
        try:
            for i in range(1, count):
                s = socket.socket()
                socks.append(s)
                s.bind((address, p + i))
            return p
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def free_port_pair(address="127.0.0.1"):
    """A TCP port P such that nobody listens on P or P + 1 at `address` right now."""
    return free_ports(2, address)


def port_open(address, port, timeout=0.5):
    """True if a TCP connection to address:port completes within `timeout`."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else None


def raw_exchange(address, port, data, timeout=5.0, chunks=None, pause=0.0):
    """Sends `data` (or the pieces in `chunks` with `pause` seconds between them), then reads until the server
    closes or `timeout` passes. Returns (bytes received, closed_by_server)."""
    s = socket.create_connection((address, port), timeout=timeout)
    received = b""
    closed = False
    try:
        for piece in (chunks if chunks is not None else [data]):
            try:
                s.sendall(piece)
            except OSError:
                break
            if pause:
                time.sleep(pause)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            received += b
    finally:
        s.close()
    return received, closed


class Connection:
    """Answers read from one HTTP/1.1 connection (a connected socket, plain or TLS), each by its Content-Length;
    the bytes after an answer stay buffered for the next one. `label` names the connection in errors."""

    def __init__(self, sock, label="connection"):
        self.sock = sock
        self.label = label
        self.buf = b""

    def more(self, deadline=None):
        """Reads what the socket has (waiting at most until `deadline`, a monotonic time, if given)."""
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("request took too long")
            self.sock.settimeout(left)
        b = self.sock.recv(65536)
        if not b:
            raise TestFailure(f"{self.label} closed by the server")
        self.buf += b

    def read_response(self, deadline=None, need_length=True):
        """(head, body) of the next answer. Without a Content-Length the body is empty, or with need_length a
        TestFailure."""
        while b"\r\n\r\n" not in self.buf:
            self.more(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        m = _CONTENT_LENGTH.search(head)
        if need_length:
            check(m, f"response without Content-Length: {head[:200]!r}")
        n = int(m.group(1)) if m else 0
        while len(self.buf) < n:
            self.more(deadline)
        body, self.buf = self.buf[:n], self.buf[n:]
        return head, body


def backend_header(head):
    """The X-Backend header of a response head (the test back ends name themselves in it), or None."""
    m = _BACKEND.search(head)
    return m.group(1).decode() if m else None


class KeepAliveClient:
    """One client connection to 127.0.0.1:port (plain, or TLS with tls_ctx) sending a request at a time."""

    def __init__(self, port, tls_ctx=None, timeout=10):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = tls_ctx.wrap_socket(s, server_hostname="127.0.0.1") if tls_ctx else s
        self.conn = Connection(self.sock)

    def exchange(self, request):
        """Sends the raw request; returns (status, head text, body) of its answer."""
        self.sock.sendall(request)
        head, body = self.conn.read_response(need_length=False)
        return status_of(head), head.decode(errors="replace"), body

    def get(self, path):
        """Returns (status, X-Backend, body); raises on a closed connection."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, body = self.conn.read_response(need_length=False)
        return status_of(head), backend_header(head), body

    def closed_by_server(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def one_request(port, path="/"):
    """(status, X-Backend, body) of one GET on a new connection to 127.0.0.1:port."""
    c = KeepAliveClient(port)
    try:
        return c.get(path)
    finally:
        c.close()
