"""dlba-server against real nginx back ends on loopback: persistence, per-request scheduling, rerouting, strict
framing, deadlines, streaming and bodies. Usage: http_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time

from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import KeepAliveClient, free_port, port_open, raw_exchange, status_of
from dlbatest.nginx import EchoBackend, Nginx, sha256_file, write_big_file
from dlbatest.procs import TempDir, run
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/http", setup_timeout=120)
env = {}  # filled by setup
BIG_SIZE = 50 * 1024 * 1024


def setup():
    root = TempDir("dlba-server-test-")
    env["root"] = root
    r = root.path
    nginxes = []
    for i in (1, 2, 3):
        address = f"127.0.0.{10 + i}"
        nginxes.append(Nginx(r, i, address, free_port(address)))
    env["nginx"] = nginxes
    env["big_sha"] = write_big_file(nginxes[:1], BIG_SIZE)
    for n in nginxes:
        n.start()
    echo_addr = "127.0.0.14"
    env["echo"] = EchoBackend(echo_addr, free_port(echo_addr)).start()
    ca, chain, key = make_certificates(r)
    env["ca"] = ca
    dead_addr = "127.0.0.19"
    ports = {name: free_port() for name in ("web", "webs", "cache", "echo", "big", "dead", "lc")}
    env["ports"] = ports
    backends = [(str(n.index), n.address, n.port) for n in nginxes] + [
        ("echo", echo_addr, env["echo"].port), ("9", dead_addr, free_port(dead_addr))]
    services = [
        'name = "web"; backends = ["1", "2", "3"]; policy = "cookie"; session_cookie = "JSESSIONID"; '
        'down_interval_ms = 3000;',
        'name = "cache"; backends = ["1", "2", "3"]; policy = "url_hash";',
        'name = "lc"; backends = ["1", "2", "3"]; policy = "least_conn"; retries = 2; down_interval_ms = 60000;',
        'name = "echo"; backends = ["echo"]; policy = "least_conn";',
        'name = "big"; backends = ["1"]; policy = "least_conn";',
        'name = "dead"; backends = ["9"]; policy = "least_conn"; retries = 0;',
    ]
    listeners = [("127.0.0.1", ports["web"], False, "web"), ("127.0.0.1", ports["webs"], True, "web"),
                 ("127.0.0.1", ports["cache"], False, "cache"), ("127.0.0.1", ports["echo"], False, "echo"),
                 ("127.0.0.1", ports["big"], False, "big"), ("127.0.0.1", ports["dead"], False, "dead"),
                 ("127.0.0.1", ports["lc"], False, "lc")]
    extra = f"""  workers = 2;
  timeouts = {{ header_ms = 3000; idle_ms = 20000; body_ms = 5000; backend_connect_ms = 1000;
               backend_response_ms = 10000; shutdown_ms = 3000; }};
  limits = {{ max_header_bytes = 16384; max_uri_bytes = 4096; }};
  access_log = "{r}/access.log";"""
    tls = f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = ["{ticket_key()}"]; }};\n'
    env["server"] = DlbaServer(SERVER_BIN, r, "dlba", config_text(backends, services, listeners, extra, tls)).start(
        wait_for=[("127.0.0.1", p) for p in ports.values()])


def teardown():
    for key in ("server",):
        if key in env:
            env[key].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "echo" in env:
        env["echo"].stop()
    if "root" in env:
        env["root"].remove()


def diagnostics():
    return env["server"].log_text() if "server" in env else ""


suite.diag_hooks.append(diagnostics)


def curl(url, *args, timeout=10):
    cp = run(["curl", "-sS", "--max-time", str(timeout), "-D", "-", *args, url], timeout=timeout + 5)
    return cp.stdout


def backend_of(response_text):
    m = re.search(r"^X-Backend: (\S+)", response_text, re.M | re.I)
    return m.group(1) if m else None


def keepalive(port, requests, timeout=5.0):
    """Sends each request on one connection and reads its response (Content-Length framing) before the next.
    Returns [(status, headers text, body)]."""
    c = KeepAliveClient(port, timeout=timeout)
    try:
        return [c.exchange(req) for req in requests]
    finally:
        c.close()


def get(path, host="x"):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def status_table():
    return env["server"].counters()


def backends_table():
    return env["server"].backends()


# ---- cases -------------------------------------------------------------------------------------------------------

@suite.case("a cookie jar keeps one back end over 20 requests, switching between HTTP and HTTPS")
def cookie_persistence():
    jar = os.path.join(env["root"].path, "jar.txt")
    ports = env["ports"]
    login = curl(f"http://127.0.0.1:{ports['web']}/login", "-c", jar, "-b", jar)
    home = backend_of(login)
    check(home in ("1", "2", "3"), f"login answered by {home!r}:\n{login}")
    m = re.search(r"^Set-Cookie: SpServer=(\S+?); (.*)$", login, re.M)
    check(m, f"no SpServer injected:\n{login}")
    check(m.group(1) == home, f"SpServer={m.group(1)} but the session is on back end {home}")
    check(m.group(2).strip() == "Path=/; Max-Age=3600; HttpOnly",
          f"the injected cookie's attributes differ from the session cookie's: {m.group(2)!r}")
    for i in range(20):
        if i % 2:
            url, extra = f"https://127.0.0.1:{ports['webs']}/page{i}", ["--cacert", env["ca"]]
        else:
            url, extra = f"http://127.0.0.1:{ports['web']}/page{i}", []
        r = curl(url, "-c", jar, "-b", jar, *extra)
        check(backend_of(r) == home, f"request {i} ({url}) went to {backend_of(r)}, not {home}:\n{r}")
    # Without the cookie, requests spread (the fallback is least connections).
    seen = {backend_of(curl(f"http://127.0.0.1:{ports['web']}/x")) for _ in range(9)}
    check(len(seen) >= 2, f"requests without a cookie all went to {seen}")
    # Logging out deletes the injected cookie along with the session cookie.
    out = curl(f"http://127.0.0.1:{ports['web']}/logout", "-c", jar, "-b", jar)
    check(re.search(r"^Set-Cookie: SpServer=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", out, re.M),
          f"no deletion of SpServer:\n{out}")


@suite.case("three URLs on one keep-alive connection reach three back ends (url_hash)")
def three_urls_three_backends():
    port = env["ports"]["cache"]
    candidates = ["/a.html", "/b.gif", "/c.gif"] + [f"/img{i}.gif" for i in range(40)]
    mapping = {}
    for path in candidates:
        (status, head, body), = keepalive(port, [get(path)])
        mapping[path] = body.decode().strip()
    chosen, used = [], set()
    for path in candidates:
        if mapping[path] not in used:
            chosen.append(path)
            used.add(mapping[path])
        if len(chosen) == 3:
            break
    check(len(chosen) == 3, f"could not find URLs for three back ends: {mapping}")
    suite.diag(f"URLs {chosen} -> {[mapping[p] for p in chosen]}")
    for _ in range(2):  # the same answer every time, all on one connection
        answers = keepalive(port, [get(p) for p in chosen])
        bodies = [a[2].decode().strip() for a in answers]
        check(bodies == [mapping[p] for p in chosen], f"one connection got {bodies}, expected {[mapping[p] for p in chosen]}")
        check(len(set(bodies)) == 3, f"not three back ends: {bodies}")


@suite.case("pipelined requests are answered in order on one connection")
def pipelining():
    port = env["ports"]["cache"]
    reqs = b"".join(get(f"/pipe{i}") for i in range(5)) + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data, closed = raw_exchange("127.0.0.1", port, reqs, timeout=5)
    check(closed, "the connection was not closed after 'Connection: close'")
    check(data.count(b"HTTP/1.1 200 OK") == 6, f"expected 6 answers:\n{data[:2000]!r}")
    check(data.count(b"Connection: close") == 1 and data.rfind(b"Connection: close") > data.rfind(b"HTTP/1.1 200"),
          "only the last answer closes the connection")


MALFORMED = [
    ("Content-Length with Transfer-Encoding",
     b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    ("missing Host", b"GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400),
    ("duplicate Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n", 400),
    ("duplicate Content-Length", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab", 400),
    ("Transfer-Encoding not ending in chunked", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ("unknown transfer coding", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501),
    ("NUL in a header", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("huge header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
    ("long URI", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
]


@suite.case("malformed requests get their status and a closed connection")
def malformed():
    port = env["ports"]["web"]
    for what, data, want in MALFORMED:
        got, closed = raw_exchange("127.0.0.1", port, data, timeout=5)
        status = status_of(got)
        check(status == want, f"{what}: status {status}, expected {want}: {got[:200]!r}")
        check(b"\r\nConnection: close\r\n" in got, f"{what}: no 'Connection: close' in {got[:300]!r}")
        check(closed, f"{what}: the connection stayed open")
    # A good request afterwards is still served (nothing leaked into another connection).
    (status, head, body), = keepalive(port, [get("/after")])
    check(status == 200, f"status {status} after the malformed requests")


@suite.case("a client sending one header byte per second is cut at the deadline; others are served", timeout=40)
def slow_client():
    port = env["ports"]["web"]
    result = {}

    def slow():
        start = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        got = b""
        try:
            for ch in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 20:
                try:
                    s.sendall(bytes([ch]))
                except OSError:
                    break
                s.settimeout(1.0)
                try:
                    b = s.recv(4096)
                    if not b:
                        break
                    got += b
                except socket.timeout:
                    pass
            s.settimeout(2)
            try:
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    got += b
            except OSError:
                pass
        finally:
            s.close()
        result["elapsed"] = time.monotonic() - start
        result["data"] = got

    t = threading.Thread(target=slow)
    t.start()
    served = []
    while t.is_alive() and len(served) < 200:
        start = time.monotonic()
        (status, head, body), = keepalive(port, [get("/fast")])
        served.append((status, time.monotonic() - start))
        time.sleep(0.1)
    t.join(20)
    check(not t.is_alive(), "the slow client was never cut")
    check(status_of(result["data"]) == 408, f"slow client got {result['data'][:200]!r}")
    check(2.5 <= result["elapsed"] <= 6.0, f"cut after {result['elapsed']:.1f}s; the deadline is 3 s")
    check(len(served) >= 10 and all(s == 200 and d < 1.0 for s, d in served),
          f"other clients were not served promptly: {served[:20]}")
    suite.diag(f"slow client cut after {result['elapsed']:.1f}s; {len(served)} other requests served meanwhile")


@suite.case("request bodies arrive intact at the back end (Content-Length and chunked)")
def request_bodies():
    port = env["ports"]["echo"]
    body = os.urandom(3 * 1024 * 1024 + 17)
    want = hashlib.sha256(body).hexdigest()
    # Content-Length, by curl.
    path = os.path.join(env["root"].path, "body.bin")
    with open(path, "wb") as f:
        f.write(body)
    r = curl(f"http://127.0.0.1:{port}/upload", "--data-binary", f"@{path}", "-H", "Content-Type: application/x")
    check(f"method=POST framing=length length={len(body)} sha256={want}" in r, f"CL body: {r}")
    # Chunked with odd chunk sizes and an extension and a trailer, over a raw socket.
    pieces, pos, sizes = [], 0, [1, 4095, 65536, 7, 100000]
    while pos < len(body):
        n = sizes[len(pieces) % len(sizes)]
        pieces.append(body[pos:pos + n])
        pos += n
    chunked = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\nX-Trailer: t\r\n\r\n"
    req = (b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)
    data, closed = raw_exchange("127.0.0.1", port, req, timeout=20)
    check(f"method=POST framing=chunked length={len(body)} sha256={want}".encode() in data,
          f"chunked body: {data[:400]!r}")
    # X-Forwarded-For and X-Forwarded-Proto reach the back end.
    check(b"xff=127.0.0.1 proto=http" in data, f"forwarding headers: {data[-300:]!r}")
    # PUT to nginx (WebDAV) with both framings: the file nginx stored is the body.
    n1 = env["nginx"][0]
    lport = env["ports"]["big"]  # the service whose only back end is nginx 1
    r = curl(f"http://127.0.0.1:{lport}/dav/cl.bin", "-T", path)
    check(re.search(r"^HTTP/1.1 20[14]", r, re.M), f"PUT: {r}")
    check(sha256_file(os.path.join(n1.dir, "dav", "cl.bin")) == want, "nginx stored another body (Content-Length)")
    r = curl(f"http://127.0.0.1:{lport}/dav/chunked.bin", "-T", path, "-H", "Transfer-Encoding: chunked")
    check(re.search(r"^HTTP/1.1 20[14]", r, re.M), f"chunked PUT: {r}")
    check(sha256_file(os.path.join(n1.dir, "dav", "chunked.bin")) == want, "nginx stored another body (chunked)")


@suite.case("a 50 MB response streams intact with bounded proxy memory", timeout=90)
def big_response():
    server = env["server"]
    port = env["ports"]["big"]
    base = server.rss_kb()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_kb())
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        h = hashlib.sha256()
        buf, head, got = b"", None, 0
        slow_until = 8 * 1024 * 1024  # read the first 8 MB slowly, so the proxy must hold the back end back
        while True:
            b = s.recv(65536)
            if not b:
                break
            if head is None:
                buf += b
                if b"\r\n\r\n" in buf:
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    h.update(rest)
                    got += len(rest)
                continue
            h.update(b)
            got += len(b)
            if got < slow_until:
                time.sleep(0.002)
        s.close()
    finally:
        stop.set()
        t.join()
    check(head is not None and status_of(head) == 200, f"head: {head!r}")
    check(got == BIG_SIZE, f"received {got} bytes of {BIG_SIZE}")
    check(h.hexdigest() == env["big_sha"], "the body differs from the file")
    grown = peak[0] - base
    suite.diag(f"proxy VmRSS {base} kB before, peak {peak[0]} kB (+{grown} kB) for a {BIG_SIZE >> 20} MB body")
    check(grown < 16 * 1024, f"the proxy grew by {grown} kB while streaming")


@suite.case("no usable back end answers 503 and keeps the connection")
def no_backend():
    port = env["ports"]["dead"]
    answers = keepalive(port, [get("/a"), get("/b")])
    check([a[0] for a in answers] == [503, 503], f"answers {[a[0] for a in answers]}")
    table = backends_table()
    check(table["9"]["state"] == "down", f"back end 9 is {table['9']['state']}")


@suite.case("a back end killed mid-run is routed around with no failed request after the kill", timeout=60)
def kill_backend():
    port = env["ports"]["lc"]
    victim = env["nginx"][2]
    failures_after, served_by = [], {}
    killed_at = None
    for i in range(300):
        if i == 100:
            victim.kill()
            killed_at = i
        try:
            (status, head, body), = keepalive(port, [get(f"/k{i}")])
            b = body.decode().strip()
        except Exception as e:  # noqa: BLE001 - counted
            status, b = None, repr(e)
        if killed_at is not None:
            served_by[b] = served_by.get(b, 0) + 1
            if status != 200:
                failures_after.append((i, status, b))
    check(not failures_after, f"failed after the kill: {failures_after[:5]}")
    check("backend 3" not in served_by, f"back end 3 still served after the kill: {served_by}")
    table = backends_table()
    check(table["3"]["state"] == "down" and table["3"]["connect_failures"] >= 1, f"back end 3: {table['3']}")
    suite.diag(f"after the kill: {served_by}")
    victim.start()  # back for the cases after this one


@suite.case("dlbactl backends shows the back-end status table, as text and as JSON")
def dlbactl_backends():
    sock = env["server"].socket
    cp = run([DLBACTL, "--socket", sock, "backends"])
    text = cp.stdout
    for col in ("key", "address", "state", "weight", "open_conns", "hits", "avg_resp_ms", "errors"):
        check(col in text, f"column {col} missing:\n{text}")
    doc = json.loads(run([DLBACTL, "--socket", sock, "backends", "--json"]).stdout)
    check(doc["table"] == "backends" and doc["source"] == "server", f"{doc.get('table')} / {doc.get('source')}")
    rows = {r[0]: r for r in doc["rows"]}
    check(set(rows) == {"1", "2", "3", "echo", "9"}, f"rows {set(rows)}")
    check(rows["1"][6] > 0, "back end 1 has no hits")
    st = status_table()
    check(st["requests"] > 0 and st["responses_2xx"] > 0, f"status: {st}")


@suite.case("every request gets an access log line naming its back end and why")
def access_log():
    path = os.path.join(env["root"].path, "access.log")
    keepalive(env["ports"]["cache"], [get("/logged-a"), get("/logged-b")])
    wait_until(lambda: open(path).read().count("/logged-") == 2, 3, what="two access log lines")
    lines = [l for l in open(path).read().splitlines() if "/logged-" in l]
    for line in lines:
        check(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1:\d+ h1 "GET /logged-[ab]" 200 \d+ [123] \d+ms url_hash$',
                       line), f"access log line: {line!r}")


@suite.case("deadlines: idle keep-alive, stalled body, silent back end, and max_connections", timeout=60)
def deadlines():
    r = env["root"].path
    slow_addr = "127.0.0.16"
    slow = EchoBackend(slow_addr, free_port(slow_addr), delay=2.0).start()
    port, slow_port = free_port(), free_port()
    n1 = env["nginx"][0]
    try:
        text = config_text([("1", n1.address, n1.port), ("s", slow_addr, slow.port)],
                           ['name = "n"; backends = ["1"];', 'name = "s"; backends = ["s"];'],
                           [("127.0.0.1", port, False, "n"), ("127.0.0.1", slow_port, False, "s")],
                           "  workers = 1;\n  max_connections = 3;\n"
                           "  timeouts = { idle_ms = 1000; body_ms = 1000; backend_response_ms = 700; header_ms = 5000; };")
        server = DlbaServer(SERVER_BIN, r, "deadlines", text).start(wait_for=[("127.0.0.1", port)])
        try:
            # Idle keep-alive: answered, then closed after about idle_ms without a request.
            start = time.monotonic()
            data, closed = raw_exchange("127.0.0.1", port, get("/idle"), timeout=4)
            took = time.monotonic() - start
            check(status_of(data) == 200 and closed and 0.8 <= took <= 2.5, f"idle: {status_of(data)} closed={closed} after {took:.1f}s")
            # A body that stops arriving (the back end waits for all of it): 408 and close after about body_ms.
            start = time.monotonic()
            data, closed = raw_exchange("127.0.0.1", slow_port, b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
                                        timeout=4)
            took = time.monotonic() - start
            check(status_of(data) == 408 and closed and took <= 2.5, f"stalled body: {data[:100]!r} after {took:.1f}s")
            # A back end slower than backend_response_ms: 504, and the connection stays usable.
            answers = keepalive(slow_port, [get("/slow"), get("/slow2")], timeout=5)
            check([a[0] for a in answers] == [504, 504], f"slow back end: {[a[0] for a in answers]}")
            # max_connections = 3: a fourth connection is closed at once, the first three are served.
            import socket as so
            held = [so.create_connection(("127.0.0.1", port), timeout=2) for _ in range(3)]
            try:
                time.sleep(0.2)
                extra, closed = raw_exchange("127.0.0.1", port, get("/fourth"), timeout=2)
                check(extra == b"" and closed, f"a fourth connection got {extra[:80]!r}")
                held[0].sendall(get("/first"))
                check(held[0].recv(4096).startswith(b"HTTP/1.1 200"), "a held connection was not served")
            finally:
                for h in held:
                    h.close()
            counters = server.counters()
            check(counters["connections_refused"] >= 1 and counters["idle_timeouts"] >= 1, f"counters: {counters}")
        finally:
            server.stop()
    finally:
        slow.stop()


@suite.case("SIGTERM stops accepting and lets an in-flight request finish", timeout=40)
def graceful_stop():
    r = env["root"].path
    slow_addr = "127.0.0.15"
    slow = EchoBackend(slow_addr, free_port(slow_addr), delay=1.5).start()
    port = free_port()
    try:
        text = config_text([("s", slow_addr, slow.port)], ['name = "s"; backends = ["s"];'],
                           [("127.0.0.1", port, False, "s")],
                           "  workers = 1;\n  timeouts = { shutdown_ms = 5000; };")
        server = DlbaServer(SERVER_BIN, r, "graceful", text).start(wait_for=[("127.0.0.1", port)])
        result = {}

        def request():
            result["data"] = raw_exchange("127.0.0.1", port, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", timeout=8)

        t = threading.Thread(target=request)
        t.start()
        time.sleep(0.4)
        server.proc.send_signal(15)
        wait_until(lambda: not port_open("127.0.0.1", port), 3, what="the listener to close")
        t.join(10)
        data, closed = result["data"]
        check(status_of(data) == 200 and b"method=GET" in data, f"in-flight request: {data[:300]!r}")
        check(b"Connection: close" in data and closed, "the last answer should close the connection")
        server.proc.wait(timeout=10)
        check(server.proc.returncode == 0, f"exit status {server.proc.returncode}")
    finally:
        slow.stop()

if __name__ == "__main__":
    main(suite, setup, teardown)
