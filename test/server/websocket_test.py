"""dlba-server in front of WebSocket echo back ends (python3-websockets, dlbatest.websocket_backend): the handshake is
scheduled by the service's policy like any request, the back end's 101 is relayed (the SpServer cookie injected on
it), then the connection is a byte tunnel over ws:// and wss:// (10 MB each way, checksummed), with back-pressure,
an idle timeout (timeouts.tunnel_ms), half-closes passed on, a killed back end closing the client, counters and an
access-log line per tunnel. Other Upgrade offers (h2c) are dropped and the request served plainly, unless the service
passes them on (upgrade_protocols). Usage: websocket_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import asyncio
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

import websockets

from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import KeepAliveClient, free_port
from dlbatest.procs import TempDir, read_log
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until
from dlbatest.websocket_backend import WebSocketBackend

SERVER_BIN = sys.argv[1]
suite = Suite("server/websocket", setup_timeout=60)
env = {}  # filled by setup
TUNNEL_MS = 30000  # the main server's; the idle case runs its own with short timeouts
IDLE_TUNNEL_MS, IDLE_MS = 3000, 1000
MB = 1024 * 1024


class RawUpgradeBackend:
    """A byte-level back end for the half-close cases: it answers any request with a 101, then echoes every byte.
    At the client's FIN it sends "bye" and closes. On /speak-first it sends "hello" and shuts its write side at once,
    then records what the client still sends until its FIN. self.got[path] = bytes received after the head."""

    def __init__(self, address):
        self.sock = socket.create_server((address, 0))
        self.address, self.port = address, self.sock.getsockname()[1]
        self.got, self.eof_seen = {}, {}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with c:
            c.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                b = c.recv(4096)
                if not b:
                    return
                data += b
            head, _, rest = data.partition(b"\r\n\r\n")
            path = head.split(b" ")[1].decode()
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            speak_first = path.startswith("/speak-first")
            if speak_first:
                c.sendall(b"hello")
                c.shutdown(socket.SHUT_WR)
            got = rest
            if rest and not speak_first:
                c.sendall(rest)
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        self.eof_seen[path] = True
                        break
                    got += b
                    if not speak_first:
                        c.sendall(b)
                if not speak_first:
                    c.sendall(b"bye")
            finally:
                self.got[path] = got

    def stop(self):
        self.sock.close()


def setup():
    root = TempDir("dlba-websocket-")
    env["root"] = root
    r = root.path
    backends = []
    for name, address in (("1", "127.0.0.51"), ("2", "127.0.0.52"), ("3", "127.0.0.53"), ("victim", "127.0.0.54")):
        b = WebSocketBackend(r, name, address, free_port(address)).start()
        env[f"ws{name}"] = b
        backends.append((name, address, b.port))
    env["raw"] = RawUpgradeBackend("127.0.0.55")
    backends.append(("raw", env["raw"].address, env["raw"].port))
    env["ca"], chain, key = make_certificates(r)
    ports = {n: free_port() for n in ("echo", "echos", "hash", "cookie", "victim", "pass", "raw")}
    env["ports"] = ports
    services = [
        'name = "echo"; backends = ["1"]; policy = "least_conn";',
        'name = "hash"; backends = ["1", "2", "3"]; policy = "url_hash";',
        'name = "cookie"; backends = ["1", "2", "3"]; policy = "cookie"; session_cookie = "JSESSIONID";',
        'name = "victim"; backends = ["victim"]; policy = "least_conn"; retries = 0;',
        'name = "pass"; backends = ["1"]; policy = "least_conn"; upgrade_protocols = ["websocket", "h2c"];',
        'name = "raw"; backends = ["raw"]; policy = "least_conn";',
    ]
    listeners = [("127.0.0.1", ports["echo"], False, "echo"), ("127.0.0.1", ports["echos"], True, "echo"),
                 ("127.0.0.1", ports["hash"], False, "hash"), ("127.0.0.1", ports["cookie"], False, "cookie"),
                 ("127.0.0.1", ports["victim"], False, "victim"), ("127.0.0.1", ports["pass"], False, "pass"),
                 ("127.0.0.1", ports["raw"], False, "raw")]
    env["backends"] = backends
    env["access_log"] = f"{r}/access.log"
    tls = f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = ["{ticket_key()}"]; }};\n'
    env["server"] = DlbaServer(SERVER_BIN, r, "dlba", config_text(
        backends, services, listeners, server_extra(TUNNEL_MS, 1500, env["access_log"]), tls)).start(
        wait_for=[("127.0.0.1", p) for p in ports.values()])


def server_extra(tunnel_ms, idle_ms, access_log):
    return f"""  workers = 2;
  timeouts = {{ header_ms = 3000; idle_ms = {idle_ms}; body_ms = 5000; backend_connect_ms = 1000;
               backend_response_ms = 5000; shutdown_ms = 2000; tunnel_ms = {tunnel_ms}; }};
  access_log = "{access_log}";"""


def teardown():
    if "server" in env:
        env["server"].stop()
    for name in ("1", "2", "3", "victim"):
        if f"ws{name}" in env:
            env[f"ws{name}"].stop()
    if "raw" in env:
        env["raw"].stop()
    if "root" in env:
        env["root"].remove()


def diagnostics():
    lines = [env["server"].log_text()] if "server" in env else []
    log = read_log(env.get("access_log", "")) or ""
    lines.append("access log (last lines):\n" + "\n".join(log.splitlines()[-8:]))
    return "\n".join(lines)


suite.diag_hooks.append(diagnostics)


# ---- helpers -----------------------------------------------------------------------------------------------------

def url(service, path="/", secure=False):
    port = env["ports"]["echos" if secure else service]
    return f"{'wss' if secure else 'ws'}://127.0.0.1:{port}{path}"


def client_tls():
    ctx = ssl.create_default_context(cafile=env["ca"])
    return ctx


def connect(uri, **kw):
    """A websockets client connection with nothing that would keep an idle tunnel busy (no pings)."""
    if uri.startswith("wss:"):
        kw.setdefault("ssl", client_tls())
    return websockets.connect(uri, compression=None, max_size=None, ping_interval=None, open_timeout=5,
                              close_timeout=2, **kw)


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def access_lines(pattern):
    env["server"].monitor("status")  # a timer scan flushes the log at least every 100 ms; this only paces the wait
    text = read_log(env["access_log"]) or ""
    return [line for line in text.splitlines() if re.search(pattern, line)]


def counters():
    return env["server"].counters()


def backend_rows():
    return env["server"].backends()


def tunnels_open():
    return counters()["tunnels_open"]


def raw_handshake(port, path="/", upgrade="websocket", extra="", timeout=5.0):
    """A client socket that sent a WebSocket handshake; returns (socket, answer head bytes, bytes after the head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: {upgrade}\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(65536)
        if not b:
            break
        data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    return s, head + b"\r\n\r\n", rest


def masked_frame(payload, opcode=0x2):
    """A client frame (RFC 6455 §5.2: clients mask), FIN set; payload below 64 kB."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(s):
    """One unmasked server frame: (opcode, payload)."""
    def exact(n):
        out = b""
        while len(out) < n:
            b = s.recv(n - len(out))
            if not b:
                raise EOFError("closed mid-frame")
            out += b
        return out
    b0, b1 = exact(2)
    n = b1 & 0x7f
    if n == 126:
        n = int.from_bytes(exact(2), "big")
    elif n == 127:
        n = int.from_bytes(exact(8), "big")
    return b0 & 0x0f, exact(n)


async def echo_volume(uri, total, piece=64 * 1024):
    """Sends `total` random bytes as binary messages while reading the echoes; returns (sent sha, echoed sha, the
    101's headers)."""
    async with connect(uri) as ws:
        sent, got = hashlib.sha256(), hashlib.sha256()
        received = 0

        async def reader():
            nonlocal received
            while received < total:
                m = await ws.recv()
                got.update(m)
                received += len(m)

        task = asyncio.create_task(reader())
        left = total
        while left:
            chunk = os.urandom(min(piece, left))
            sent.update(chunk)
            await ws.send(chunk)
            left -= len(chunk)
        await task
        return sent.hexdigest(), got.hexdigest(), ws.response_headers


# ---- cases -------------------------------------------------------------------------------------------------------

@suite.case("10 MB each way through a ws:// tunnel, checksummed; counted and logged")
def volume_plain():
    before = counters()
    sent, got, headers = run(echo_volume(url("echo", "/volume"), 10 * MB))
    check(sent == got, f"the echo differs: sent {sent}, got {got}")
    check(headers.get("X-Backend") == "1", f"101 headers {headers}")
    after = counters()
    check(after["tunnels"] == before["tunnels"] + 1, f"tunnels {before['tunnels']} -> {after['tunnels']}")
    check(after["responses_1xx"] >= before["responses_1xx"] + 1, "the 101 was not counted among 1xx answers")
    wait_until(lambda: tunnels_open() == 0, 5, what="tunnels_open back to 0")
    line = wait_until(lambda: access_lines(r'"GET /volume" 101 '), 5, what="the tunnel's access-log line")[-1]
    suite.diag(line)
    m = re.search(r" tunnel up=(\d+) down=(\d+) end=(\w+)$", line)
    check(m, f"no tunnel figures in {line!r}")
    # Framing adds a few bytes a message (and the client's close frame): at least the payload, not far above it.
    up, down = int(m.group(1)), int(m.group(2))
    check(10 * MB <= up < 10 * MB + 100_000, f"up={up}")
    check(10 * MB <= down < 10 * MB + 100_000, f"down={down}")
    check(m.group(3) in ("client_close", "backend_close"), f"end={m.group(3)}")
    row = backend_rows()["1"]
    check(row["tunnels"] >= 1 and row["tunnels_open"] == 0, f"back-end row: tunnels {row['tunnels']}, "
          f"open {row['tunnels_open']}")


@suite.case("10 MB each way through a wss:// tunnel (TLS listener)")
def volume_tls():
    sent, got, headers = run(echo_volume(url("echo", "/secure", secure=True), 10 * MB))
    check(sent == got, f"the echo differs over TLS: sent {sent}, got {got}")
    check(headers.get("X-Backend") == "1", f"101 headers {headers}")
    wait_until(lambda: access_lines(r'"GET /secure" 101 .* tunnel up=\d{8,} down=\d{8,} end='), 5,
               what="the TLS tunnel's access-log line")


@suite.case("tunnels open show in the status table and the back-end row while they last")
def open_counters():
    async def body():
        conns = [await connect(url("echo", f"/open{i}")).__aenter__() for i in range(3)]
        try:
            for ws in conns:
                await ws.send(b"ping")
                check(await ws.recv() == b"ping", "no echo")
            check(tunnels_open() == 3, f"tunnels_open {tunnels_open()} with 3 open")
            check(backend_rows()["1"]["tunnels_open"] == 3, f"row {backend_rows()['1']}")
            # least_conn sees a tunnel as a request in flight on its back end.
            check(backend_rows()["1"]["open_conns"] == 3, f"open_conns {backend_rows()['1']['open_conns']}")
        finally:
            for ws in conns:
                await ws.close()
    run(body())
    wait_until(lambda: tunnels_open() == 0, 5, what="tunnels_open back to 0")
    check(backend_rows()["1"]["open_conns"] == 0, "the tunnels' slots were not given back")


@suite.case("the handshake is scheduled by url_hash: one URL always reaches the same back end")
def url_hash_handshake():
    async def backend_for(path):
        async with connect(url("hash", path)) as ws:
            await ws.send(path)
            check(await ws.recv() == path, "no echo")
            return ws.response_headers.get("X-Backend")
    mapping = {}
    for i in range(12):
        path = f"/room/{i}"
        mapping[path] = run(backend_for(path))
    check(len(set(mapping.values())) >= 2, f"12 URLs all on one back end: {mapping}")
    for path, first in list(mapping.items())[:6]:
        for _ in range(2):
            again = run(backend_for(path))
            check(again == first, f"{path} went to {again}, first to {first}")
    wait_until(lambda: len(access_lines(r'"GET /room/\d+" 101 .* url_hash tunnel ')) >= 24, 5,
               what="24 url_hash tunnel lines in the access log")


@suite.case("cookie persistence: the 101 carries the injected SpServer, which then picks the back end")
def cookie_handshake():
    async def login():
        async with connect(url("cookie", "/login")) as ws:
            return ws.response_headers.get("X-Backend"), ws.response_headers.get_all("Set-Cookie")

    home, cookies = run(login())
    injected = [c for c in cookies if c.startswith("SpServer=")]
    check(injected, f"no SpServer on the 101: {cookies}")
    key = injected[0].split(";")[0].split("=", 1)[1]
    check(key == home, f"SpServer={key} but the handshake went to {home}")

    async def with_cookie(i):
        async with connect(url("cookie", f"/chat{i}"), extra_headers={"Cookie": f"SpServer={key}"}) as ws:
            await ws.send("hi")
            check(await ws.recv() == "hi", "no echo")
            return ws.response_headers.get("X-Backend")
    seen = {run(with_cookie(i)) for i in range(10)}
    check(seen == {home}, f"with SpServer={key} the handshakes went to {seen}")
    wait_until(lambda: len(access_lines(rf'"GET /chat\d" 101 \d+ {home} .* cookie tunnel ')) == 10, 5,
               what="10 tunnel lines chosen by 'cookie'")


@suite.case("the idle timeout (timeouts.tunnel_ms) closes an idle tunnel, idle_ms a half-closed one; traffic keeps "
            "one open")
def idle_timeout():
    # A server of its own, with short timeouts: tunnel_ms 3 s, idle_ms 1 s.
    r = env["root"].path
    ports = {"echo": free_port(), "raw": free_port()}
    log = f"{r}/idle-access.log"
    services = ['name = "echo"; backends = ["1"];', 'name = "raw"; backends = ["raw"];']
    listeners = [("127.0.0.1", ports["echo"], False, "echo"), ("127.0.0.1", ports["raw"], False, "raw")]
    server = DlbaServer(SERVER_BIN, r, "idle", config_text(env["backends"], services, listeners,
                                                           server_extra(IDLE_TUNNEL_MS, IDLE_MS, log))).start(
        wait_for=[("127.0.0.1", p) for p in ports.values()])
    try:
        # The back end half-closes at once ("hello", FIN); the client never answers: idle_ms is enough then.
        half, head, rest = raw_handshake(ports["raw"], "/speak-first-idle")
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake {head[:100]!r}")

        async def body():
            uri = f"ws://127.0.0.1:{ports['echo']}"
            async with connect(uri + "/idle") as idle, connect(uri + "/busy") as busy:
                start = time.monotonic()
                # The busy one sends every half second for longer than the timeout.
                while time.monotonic() - start < IDLE_TUNNEL_MS / 1000 + 1.5:
                    await busy.send("tick")
                    check(await busy.recv() == "tick", "no echo on the busy tunnel")
                    await asyncio.sleep(0.5)
                try:
                    await asyncio.wait_for(idle.recv(), 3)
                    check(False, "the idle tunnel delivered a message")
                except websockets.ConnectionClosed:
                    pass
                check(idle.closed, "the idle tunnel is still open")
                check(not busy.closed, "the busy tunnel was closed")
                await busy.send("still")
                check(await busy.recv() == "still", "the busy tunnel stopped working")
        run(body())
        check(rest + read_to_eof(half) == b"hello", "the half-closed tunnel's bytes")
        # The proxy closed the half-closed one (the client never sent its FIN).
        half.settimeout(3)
        try:
            check(half.recv(1) == b"", "bytes after EOF")
        except ConnectionResetError:
            pass
        half.close()

        def line(path):
            text = read_log(log) or ""
            found = [x for x in text.splitlines() if f'"GET {path}" 101 ' in x]
            return found[0] if found else None
        for path, want in (("/idle", IDLE_TUNNEL_MS), ("/speak-first-idle", IDLE_MS)):
            got = wait_until(lambda: line(path), 5, what=f"the {path} tunnel's line")
            suite.diag(got)
            check(got.endswith(" end=idle_timeout"), f"{path}: {got}")
            ms = int(re.search(r" (\d+)ms ", got).group(1))
            check(want <= ms < want + 1000, f"the {path} tunnel lasted {ms} ms, its timeout is {want} ms")
    finally:
        server.stop()


@suite.case("a back end killed mid-tunnel closes the client side cleanly (no hang)")
def backend_killed():
    async def body():
        async with connect(url("victim", "/doomed")) as ws:
            await ws.send(b"x" * 1000)
            check(await ws.recv() == b"x" * 1000, "no echo before the kill")
            check(tunnels_open() >= 1, "the tunnel is not counted open")
            env["wsvictim"].kill()
            start = time.monotonic()
            try:
                await asyncio.wait_for(ws.recv(), 5)
                check(False, "a message after the kill")
            except websockets.ConnectionClosed as e:
                return time.monotonic() - start, e
    took, e = run(body())
    suite.diag(f"client saw the close {took:.2f}s after the kill: {e!r}")
    check(took < 2.0, f"the client learned of the dead back end only after {took:.1f}s")
    wait_until(lambda: tunnels_open() == 0, 5, what="tunnels_open back to 0")
    lines = wait_until(lambda: access_lines(r'"GET /doomed" 101 .* end=(backend_close|backend_reset)$'), 5,
                       what="the killed tunnel's access-log line")
    suite.diag(lines[-1])
    # With its back end gone, the next handshake gets an answer from the proxy, not a hang.
    s, head, _ = raw_handshake(env["ports"]["victim"], "/again")
    s.close()
    check(head.startswith(b"HTTP/1.1 503") or head.startswith(b"HTTP/1.1 502"), f"after the kill: {head[:200]!r}")


def read_to_eof(s, timeout=5):
    s.settimeout(timeout)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b


@suite.case("half-close from the client: its FIN reaches the back end, whose answer still comes back, then EOF")
def half_close_from_client():
    s, head, rest = raw_handshake(env["ports"]["raw"], "/half")
    try:
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake answer {head[:200]!r}")
        check(re.search(rb"(?i)\r\nupgrade: websocket\r\n", head) and re.search(rb"\r\nConnection: Upgrade\r\n", head),
              f"101 without Upgrade/Connection: {head!r}")
        s.sendall(b"last words")
        s.shutdown(socket.SHUT_WR)
        tail = rest + read_to_eof(s)
        check(tail == b"last wordsbye", f"after the half-close the client got {tail!r}")
    finally:
        s.close()
    check(env["raw"].eof_seen.get("/half"), "the back end never saw the client's FIN")
    wait_until(lambda: access_lines(r'"GET /half" 101 .* up=10 down=13 end=client_close$'), 5,
               what="a client_close tunnel line with 10 bytes up, 13 down")


@suite.case("half-close from the back end: its FIN reaches the client, which can still send, then closes")
def half_close_from_backend():
    s, head, rest = raw_handshake(env["ports"]["raw"], "/speak-first")
    try:
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake answer {head[:200]!r}")
        got = rest + read_to_eof(s)
        check(got == b"hello", f"before the back end's FIN the client got {got!r}")
        s.sendall(b"after your FIN")
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
        check(read_to_eof(s) == b"", "bytes after EOF")
    finally:
        s.close()
    wait_until(lambda: env["raw"].got.get("/speak-first") is not None, 5, what="the back end to finish")
    check(env["raw"].got["/speak-first"] == b"after your FIN", f"the back end got {env['raw'].got['/speak-first']!r}")
    wait_until(lambda: access_lines(r'"GET /speak-first" 101 .* up=14 down=5 end=backend_close$'), 5,
               what="a backend_close tunnel line with 14 bytes up, 5 down")


@suite.case("a client that vanishes closes the back end's connection")
def client_vanishes():
    def backend_open():
        c = KeepAliveClient(env["ports"]["echo"], timeout=5)
        try:
            status, _, body = c.exchange(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
            return json.loads(body)["open"]
        finally:
            c.close()
    socks = []
    for i in range(3):
        s, head, _ = raw_handshake(env["ports"]["echo"], f"/vanish{i}")
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake {head[:100]!r}")
        socks.append(s)
    wait_until(lambda: backend_open() >= 3, 5, what="3 connections open at the back end")
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = reset
        s.close()
    wait_until(lambda: backend_open() == 0, 5, what="the back end's connections closed")
    wait_until(lambda: tunnels_open() == 0, 5, what="tunnels_open back to 0")
    wait_until(lambda: len(access_lines(r'"GET /vanish\d" 101 .* end=client_(reset|close)$')) == 3, 5,
               what="3 tunnel lines ended by the client")


@suite.case("back-pressure: a client that does not read stops the tunnel, the proxy's memory stays bounded")
def back_pressure():
    s, head, _ = raw_handshake(env["ports"]["echo"], "/pressure")
    try:
        check(head.startswith(b"HTTP/1.1 101 "), f"handshake {head[:100]!r}")
        rss_before = env["server"].rss_kb()
        frame = masked_frame(os.urandom(60000))
        s.setblocking(False)
        sent, stalled_since = 0, None
        deadline = time.monotonic() + 30
        # Write without reading a byte of the echoes until the tunnel stops taking more for half a second (well
        # within the tunnel's idle timeout, which counts bytes the proxy moves either way).
        pending = memoryview(frame)
        while time.monotonic() < deadline:
            try:
                n = s.send(pending)  # a partial send goes on where it stopped: frames stay whole
                sent += n
                pending = pending[n:] if n < len(pending) else memoryview(frame)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break
                time.sleep(0.02)
        check(stalled_since is not None, f"{sent} bytes taken without the client reading: no back-pressure")
        grown = env["server"].rss_kb() - rss_before
        suite.diag(f"the tunnel stopped taking bytes after {sent / MB:.1f} MB; dlba-server grew by {grown} kB")
        check(sent < 64 * MB, f"{sent} bytes taken before the tunnel pushed back")
        check(grown < 4096, f"dlba-server grew by {grown} kB while the client did not read")
        # Reading again lets everything through.
        s.setblocking(True)
        s.settimeout(10)
        rest = threading.Thread(target=s.sendall, args=(bytes(pending),))  # the rest of the last frame
        rest.start()
        echoed = 0
        while echoed < sent - 100_000:
            b = s.recv(1 << 20)
            check(b, "EOF while draining the echoes")
            echoed += len(b)
        rest.join(10)
    finally:
        s.close()


@suite.case("a refused handshake (403) is an ordinary answer; the connection goes on for the next request")
def refused_handshake():
    s, head, rest = raw_handshake(env["ports"]["echo"], "/deny")
    try:
        check(head.startswith(b"HTTP/1.1 403 "), f"answer {head[:200]!r}")
        length = int(re.search(rb"(?i)\r\ncontent-length: (\d+)", head).group(1))
        body = rest
        while len(body) < length:
            body += s.recv(65536)
        check(json.loads(body[:length])["denied"], f"body {body!r}")
        s.sendall(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = s.recv(65536)
        check(answer.startswith(b"HTTP/1.1 200 "), f"the next request on the connection: {answer[:200]!r}")
    finally:
        s.close()
    wait_until(lambda: access_lines(r'"GET /deny" 403 '), 5, what="the 403's access-log line")


@suite.case("Upgrade: h2c is dropped and the request served as HTTP/1.1; a service can pass it on")
def other_upgrades():
    before = counters()["upgrades_ignored"]
    request = (b"GET /plain HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
    c = KeepAliveClient(env["ports"]["echo"], timeout=5)
    try:
        status, head, body = c.exchange(request)
    finally:
        c.close()
    check(status == 200, f"status {status}")
    seen = json.loads(body)
    check(seen["upgrade"] is None, f"the back end saw Upgrade: {seen['upgrade']!r}")
    check(seen["connection"] is None or "upgrade" not in seen["connection"].lower(),
          f"the back end saw Connection: {seen['connection']!r}")
    check(counters()["upgrades_ignored"] == before + 1, "upgrades_ignored did not count it")
    # A service with upgrade_protocols = ["websocket", "h2c"] passes h2c on (this back end then answers 200).
    c = KeepAliveClient(env["ports"]["pass"], timeout=5)
    try:
        status, head, body = c.exchange(request)
    finally:
        c.close()
    seen = json.loads(body)
    check(status == 200 and seen["upgrade"] == "h2c", f"passed on: {status} {seen}")
    check(seen["connection"] == "Upgrade", f"Connection to the back end: {seen['connection']!r}")
    # A mixed offer keeps only the allowed protocol.
    s, head, _ = raw_handshake(env["ports"]["echo"], "/mixed", upgrade="h2c, websocket")
    s.close()
    check(head.startswith(b"HTTP/1.1 101 "), f"an offer of h2c and websocket: {head[:100]!r}")


@suite.case("an HTTP/1.0 request's Upgrade is ignored (RFC 9110 §7.8)")
def http10_upgrade():
    c = KeepAliveClient(env["ports"]["echo"], timeout=5)
    try:
        status, head, body = c.exchange(b"GET /plain HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\n"
                                        b"Connection: Upgrade, keep-alive\r\n\r\n")
    finally:
        c.close()
    check(status == 200 and json.loads(body)["upgrade"] is None, f"{status} {body!r}")


if __name__ == "__main__":
    main(suite, setup, teardown)
