"""dlba-server in front of a scripted back end that sends exactly the bytes each case gives: answers whose framing a
lenient client could read differently are refused with 502 (the back-end connection closed, never pooled) or passed
on re-framed with one reading left; each refused one counts in the back end's bad_responses. The service pools
back-end connections, so a case sees whether the connection of a bad answer would have been reused.
Usage: backend_strict_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import re
import socket
import sys
import time

from dlbatest.http_client import free_port, raw_exchange, status_of
from dlbatest.procs import TempDir, read_log
from dlbatest.scripted_backend import Answer, ScriptedBackend
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN = sys.argv[1]
suite = Suite("server/backend_strict", setup_timeout=60)
env = {}  # filled by setup
OK = b"HTTP/1.1 200 OK\r\n"


def setup():
    root = TempDir("dlba-backend-strict-")
    env["root"] = root
    address = "127.0.0.31"
    env["backend"] = ScriptedBackend(address, free_port(address)).start()
    env["port"] = free_port()
    env["access_log"] = f"{root.path}/access.log"
    # One worker, so that every request sees the same idle pool.
    extra = f"""  workers = 1;
  timeouts = {{ backend_connect_ms = 1000; backend_response_ms = 3000; shutdown_ms = 2000; }};
  access_log = "{env['access_log']}";"""
    services = ['name = "s"; backends = ["scripted"]; policy = "least_conn"; retries = 0; '
                'pool = { idle_per_backend = 4; idle_timeout_ms = 30000; };']
    text = config_text([("scripted", address, env["backend"].port)], services,
                       [("127.0.0.1", env["port"], False, "s")], extra)
    env["server"] = DlbaServer(SERVER_BIN, root.path, "dlba", text).start(wait_for=[("127.0.0.1", env["port"])])


def teardown():
    if "server" in env:
        env["server"].stop()
    if "backend" in env:
        env["backend"].stop()
    if "root" in env:
        env["root"].remove()


def diagnostics():
    lines = [env["server"].log_text()] if "server" in env else []
    if "backend" in env:
        lines.append(f"scripted back end: requests on connections {[n for n, _ in env['backend'].requests()]}")
    return "\n".join(lines)


suite.diag_hooks.append(diagnostics)


# ---- helpers -----------------------------------------------------------------------------------------------------

def request(method="GET", path="/x", version="1.1", extra=""):
    return f"{method} {path} HTTP/{version}\r\nHost: x\r\nConnection: close\r\n{extra}\r\n".encode()


def ask(data=None):
    """(status, head, body) of one request on a new client connection the proxy closes after its answer."""
    received, closed = raw_exchange("127.0.0.1", env["port"], data or request(), timeout=5)
    check(closed, f"the proxy did not close the client connection: {received[:300]!r}")
    head, _, body = received.partition(b"\r\n\r\n")
    return status_of(received), head, body


def bad_responses():
    return env["server"].backends()["scripted"]["bad_responses"]


def last_connection():
    return env["backend"].last_request()[0]


def next_request_on_a_new_connection(bad_conn):
    """The connection of the bad answer was closed by the proxy, and the next request opens another one."""
    backend = env["backend"]
    wait_until(lambda: backend.closed(bad_conn), 3, what=f"the proxy to close back-end connection {bad_conn}")
    status, head, body = ask()
    check(status == 200 and body == b"ok", f"the next request got {head!r} {body!r}")
    check(last_connection() != bad_conn, f"the next request went on connection {bad_conn} again")


def refused(description, answer, data=None):
    """A shape the proxy must refuse: the client gets 502, the connection is closed, the counter moves by one."""
    before = bad_responses()
    env["backend"].script(answer)
    status, head, _ = ask(data)
    check(status == 502, f"{description}: the client got {head[:200]!r}, not 502")
    next_request_on_a_new_connection(last_connection())
    check(bad_responses() == before + 1, f"{description}: bad_responses {before} -> {bad_responses()}")


def header(head, name):
    """Every value of field `name` in a response head, in order."""
    return [v.decode() for v in re.findall(rb"(?im)^" + name.encode() + rb":\s*(.*?)\s*$", head)]


def send_and_read_head(sock, data):
    """Sends `data` on `sock`; returns (the answer's head, the bytes received after it)."""
    sock.sendall(data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = sock.recv(65536)
        check(b, f"closed before the head: {buf!r}")
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def read_to_close(sock, buf=b""):
    """`buf` and everything `sock` receives until the proxy closes it (each read bounded by the socket timeout)."""
    while True:
        b = sock.recv(65536)
        if not b:
            return buf
        buf += b


def read_chunked(sock, buf):
    """(decoded body, bytes after it) of a chunked body arriving on `sock` after `buf`."""
    body = b""
    deadline = time.monotonic() + 5
    while True:
        while b"\r\n" not in buf:
            check(time.monotonic() < deadline, "chunked body took too long")
            buf += sock.recv(65536)
        line, buf = buf.split(b"\r\n", 1)
        size = int(line, 16)
        while len(buf) < size + 2:
            check(time.monotonic() < deadline, "chunked body took too long")
            buf += sock.recv(65536)
        # After the last chunk (size 0) this CRLF is the end of an empty trailer section.
        check(buf[size:size + 2] == b"\r\n", f"chunk not followed by CRLF: {buf[size:size + 10]!r}")
        body, buf = body + buf[:size], buf[size + 2:]
        if size == 0:
            return body, buf


# ---- cases -------------------------------------------------------------------------------------------------------

@suite.case("a clean answer's back-end connection is pooled and reused (the control for the cases below)")
def control():
    before = bad_responses()
    ask()
    first = last_connection()
    status, _, body = ask()
    check(status == 200 and body == b"ok", f"got {status} {body!r}")
    check(last_connection() == first, f"the second request went on connection {last_connection()}, not {first}")
    check(bad_responses() == before, "a clean answer was counted as bad")


@suite.case("conflicting or invalid lengths: 502, connection closed and not reused, counted, logged")
def lengths():
    shapes = {
        "two different Content-Length values": OK + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
        "two equal Content-Length values": OK + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "a Content-Length list": OK + b"Content-Length: 2, 2\r\n\r\nok",
        "a signed Content-Length": OK + b"Content-Length: +2\r\n\r\nok",
        "a negative Content-Length": OK + b"Content-Length: -2\r\n\r\nok",
        "an overflowing Content-Length": OK + b"Content-Length: 18446744073709551618\r\n\r\nok",
    }
    for description, answer in shapes.items():
        refused(description, answer)
    # The access log marks the request, stderr names the rule (the first one of this second, at least).
    def marked():
        text = read_log(env["access_log"]) or ""
        return text if text.count("bad_response") >= len(shapes) else None
    log = wait_until(marked, 3, what="access log lines marked bad_response")
    check(re.search(r'"GET /x" 502 \d+ scripted \d+ms least_conn bad_response', log), f"access log:\n{log[-600:]}")
    check("sent a bad response: duplicate Content-Length in response" in env["server"].log_text(),
          f"stderr does not name the rule:\n{env['server'].log_text()}")


@suite.case("Transfer-Encoding not ending in chunked: re-chunked for HTTP/1.1 (one reading), 502 where it cannot be")
def codings_without_chunked():
    payload = bytes(range(256)) * 40  # stands for a gzip stream: passed on untouched
    gzip_answer = Answer(OK + b"Transfer-Encoding: gzip\r\n\r\n", payload, close=True)
    before = bad_responses()
    env["backend"].script(gzip_answer)
    s = socket.create_connection(("127.0.0.1", env["port"]), timeout=5)
    try:
        head, buf = send_and_read_head(s, b"GET /gz HTTP/1.1\r\nHost: x\r\n\r\n")
        check(status_of(head) == 200, f"got {head!r}")
        check(header(head, "Transfer-Encoding") == ["gzip", "chunked"], f"framing fields: {head!r}")
        check(not header(head, "Content-Length") and not header(head, "Connection"), f"head: {head!r}")
        body, rest = read_chunked(s, buf)
        check(body == payload, f"body of {len(body)} bytes differs from the back end's {len(payload)}")
        check(rest == b"", f"bytes after the re-chunked body: {rest[:40]!r}")
        # One reading: the client connection is in step and carries the next request.
        s.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        more = read_to_close(s)
        check(status_of(more) == 200 and more.endswith(b"\r\n\r\nok"), f"next answer: {more!r}")
    finally:
        s.close()
    check(bad_responses() == before, "a re-chunked answer was counted as bad")

    # An HTTP/1.0 client may not be sent Transfer-Encoding, and dropping it would hand it gzip as the content.
    refused("gzip to an HTTP/1.0 client", Answer(OK + b"Transfer-Encoding: gzip\r\n\r\n", payload, close=True),
            request(version="1.0"))
    # chunked under another coding: no re-framing makes that one valid message.
    refused("chunked, gzip", Answer(OK + b"Transfer-Encoding: chunked, gzip\r\n\r\n", payload, close=True))
    refused("an unknown coding", Answer(OK + b"Transfer-Encoding: xchunked\r\n\r\n", payload, close=True))


@suite.case("Content-Length together with Transfer-Encoding: 502, connection closed and not reused, counted")
def length_and_coding():
    refused("Content-Length, then Transfer-Encoding",
            OK + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    refused("Transfer-Encoding, then Content-Length",
            OK + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")


@suite.case("bytes after the end of a complete answer: the client gets the answer, the connection is not reused")
def bytes_after_the_end():
    second = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"
    chunked = b"2\r\nok\r\n0\r\n\r\n"
    for description, answer, body, counted in [
        ("in the same segment", OK + b"Content-Length: 2\r\n\r\nok" + second, b"ok", True),
        ("after a chunked body", OK + b"Transfer-Encoding: chunked\r\n\r\n" + chunked + second, chunked, True),
        # Later, while the connection waits in the pool: it is closed there (counted when seen before release).
        ("300 ms later", Answer(OK + b"Content-Length: 2\r\n\r\nok", (0.3, second)), b"ok", False),
    ]:
        before = bad_responses()
        env["backend"].script(answer)
        status, head, got = ask()
        check(status == 200 and got == body, f"{description}: {head!r} {got!r}")
        next_request_on_a_new_connection(last_connection())
        if counted:
            check(bad_responses() == before + 1, f"{description}: bad_responses {before} -> {bad_responses()}")


def head_then_next(first):
    """Sends `first` on a keep-alive client connection and reads only its head; then, after a pause that lets any
    stray body bytes arrive, a clean GET on the same connection. Returns (first head, everything after it)."""
    s = socket.create_connection(("127.0.0.1", env["port"]), timeout=5)
    try:
        head, rest = send_and_read_head(s, first)
        time.sleep(0.2)
        s.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return head, read_to_close(s, rest)
    finally:
        s.close()


@suite.case("bodies on 1xx, 204, 304 and HEAD answers: none forwarded; bytes there make the connection unusable")
def bodies_on_bodyless_answers():
    hello = b"Content-Length: 5\r\n\r\nhello"
    for description, answer, method, status, length in [
        ("a 204 with a body", b"HTTP/1.1 204 No Content\r\n" + hello, "GET", 204, []),
        ("a 304 with a body", b"HTTP/1.1 304 Not Modified\r\n" + hello, "GET", 304, ["5"]),
        ("an answer to HEAD with a body", OK + hello, "HEAD", 200, ["5"]),
    ]:
        before = bad_responses()
        env["backend"].script(answer)
        head, rest = head_then_next(f"{method} /b HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        bad_conn = env["backend"].requests()[-2][0]
        check(status_of(head) == status, f"{description}: got {head!r}")
        # 204 must not have a Content-Length at all (RFC 9110 8.6); 304 and HEAD keep the one a GET would get.
        check(header(head, "Content-Length") == length, f"{description}: head {head!r}")
        # Nothing of the body reached the client: what follows the head is the next answer, clean.
        check(rest.startswith(b"HTTP/1.1 200 OK\r\n") and rest.endswith(b"\r\n\r\nok"),
              f"{description}: after the head came {rest!r}")
        check(last_connection() != bad_conn, f"{description}: connection {bad_conn} was reused")
        wait_until(lambda: env["backend"].closed(bad_conn), 3, what=f"connection {bad_conn} to be closed")
        check(bad_responses() == before + 1, f"{description}: bad_responses {before} -> {bad_responses()}")

    # The fields alone do not spoil the connection: a 204 that says Content-Length but sends nothing is reused.
    env["backend"].script(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")
    status, head, body = ask()
    check(status == 204 and body == b"" and not header(head, "Content-Length"), f"got {head!r} {body!r}")
    conn = last_connection()
    ask()
    check(last_connection() == conn, "the connection of a 204 without body bytes was not reused")

    # Bytes after an interim answer are read as the next head, here no status line: the client gets the 100, then
    # the 502 (an interim answer does not start the response).
    before = bad_responses()
    env["backend"].script(b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nabc" + OK +
                          b"Content-Length: 2\r\n\r\nok")
    received, _ = raw_exchange("127.0.0.1", env["port"], request(), timeout=5)
    check(received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 502 "), f"got {received[:200]!r}")
    next_request_on_a_new_connection(last_connection())
    check(bad_responses() == before + 1, f"a 100 with a body: bad_responses {before} -> {bad_responses()}")


@suite.case("a 101 nobody asked for, or to a protocol not offered: 502, connection closed and not reused, counted")
def unasked_switch():
    def switch(protocol):
        return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + protocol + b"\r\nConnection: Upgrade\r\n\r\n"
    refused("101 to a plain request", switch(b"websocket"))
    # The client asking is not the back end being asked: an offer the service does not pass on (h2c) is dropped.
    refused("101 to a request whose Upgrade the proxy dropped", switch(b"h2c"),
            b"GET /h2 HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, close\r\n\r\n")
    _, head = env["backend"].requests()[-2]
    check(b"upgrade" not in head.lower(), f"the proxy forwarded Upgrade: h2c: {head!r}")
    # A WebSocket offer goes on (net/tunnel.hpp); a 101 to anything else, or without Upgrade, is still refused.
    ws = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    refused("101 to a protocol that was not offered", switch(b"h2c"), ws)
    _, head = env["backend"].requests()[-2]
    check(b"\r\nUpgrade: websocket\r\nConnection: Upgrade" in head, f"the offer as forwarded: {head!r}")
    refused("101 without Upgrade", b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", ws)


@suite.case("bad status lines: 502, connection closed and not reused, counted")
def bad_status_lines():
    for line in [b"HTTP/2.0 200 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 2000 OK", b"HTTP/1.1 600 Nope",
                 b"HTTP/1.1 200OK", b"http/1.1 200 OK", b"ICY 200 OK", b"HTTP/1.1 200 O\x01K"]:
        refused(repr(line), line + b"\r\nContent-Length: 2\r\n\r\nok")


@suite.case("header syntax RFC 9112 and 9110 forbid: 502, or repaired where one reading remains")
def header_syntax():
    shapes = {
        "whitespace before the colon of Content-Length": b"Content-Length : 2\r\n",
        "obs-fold in Transfer-Encoding": b"Transfer-Encoding: gzip,\r\n chunked\r\nContent-Length: 2\r\n",
        "NUL in a value": b"X: a\x00b\r\nContent-Length: 2\r\n",
        "bare CR in a value": b"X: a\rb\r\nContent-Length: 2\r\n",
        "a control character in a value": b"X: a\x01b\r\nContent-Length: 2\r\n",
        "a space in a field name": b"X Y: z\r\nContent-Length: 2\r\n",
        "an empty field name": b": z\r\nContent-Length: 2\r\n",
        "a line without colon": b"nonsense\r\nContent-Length: 2\r\n",
    }
    for description, fields in shapes.items():
        refused(description, OK + fields + b"\r\nok")
    # What RFC 9112 lets a proxy repair, away from the framing fields: the client gets the one repaired reading.
    before = bad_responses()
    env["backend"].script(OK + b"Server : scripted\r\nX-Long: a\r\n b\r\nContent-Length: 2\r\n\r\nok")
    status, head, body = ask()
    check(status == 200 and body == b"ok", f"got {head!r} {body!r}")
    check(header(head, "Server") == ["scripted"] and header(head, "X-Long") == ["a   b"], f"head: {head!r}")
    check(bad_responses() == before, "a repaired answer was counted as bad")


if __name__ == "__main__":
    main(suite, setup, teardown)
