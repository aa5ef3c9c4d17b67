"""dlba-server HTTP/2 toward clients (RFC 9113) against real nginx back ends on loopback, with real clients (nghttp,
h2load, curl --http2) and a raw-frame client for the floods: ALPN h2 and h2c prior knowledge, every stream scheduled
on its own, cookie persistence across h2 and HTTP/1.1, a 50 MB stream beside small ones, the flood limits counted
while normal clients go on, GOAWAY on reload. Usage: http2_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import free_port
from dlbatest.nginx import EchoBackend, Nginx, write_big_file
from dlbatest.procs import TempDir, run
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/http2", setup_timeout=120)
env = {}
BIG_SIZE = 50 * 1024 * 1024
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def make_config(ports, nginxes, chain, key, with_spare=True):
    backends = [(str(n.index), n.address, n.port) for n in nginxes] + [("echo", "127.0.0.14", env["echo"].port)]
    services = [
        'name = "echo"; backends = ["echo"]; policy = "least_conn";',
        'name = "web"; backends = ["1", "2", "3"]; policy = "cookie"; session_cookie = "JSESSIONID";',
        'name = "cache"; backends = ["1", "2", "3"]; policy = "url_hash";',
        'name = "big"; backends = ["1"]; policy = "least_conn";',
    ]
    listeners = [("127.0.0.1", ports["web"], False, "web"), ("127.0.0.1", ports["webs"], True, "web"),
                 ("127.0.0.1", ports["cache_s"], True, "cache"), ("127.0.0.1", ports["h2c"], False, "cache"),
                 ("127.0.0.1", ports["bigs"], True, "big"), ("127.0.0.1", ports["echos"], True, "echo"),
                 ("127.0.0.1", ports["echoc"], False, "echo")]
    if with_spare:
        listeners.append(("127.0.0.1", ports["spare"], False, "cache"))
    text = config_text(backends, services, listeners, f"""  workers = 2;
  timeouts = {{ header_ms = 3000; idle_ms = 20000; body_ms = 10000; backend_response_ms = 10000; shutdown_ms = 5000; }};
  http2 = {{ max_header_list_bytes = 16384; }};
  access_log = "{env['root'].path}/access.log";""",
                       f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = ["{ticket_key()}"]; }};\n')
    # h2c prior knowledge on the plain listeners of the "cache" service (and an h1-only TLS listener would say
    # http2 = false): the listener option, as an operator writes it.
    for p in (ports["h2c"], ports["spare"], ports["echoc"]):
        text = text.replace(f"port = {p}; tls = false;", f"port = {p}; tls = false; http2 = true;")
    return text


def setup():
    root = TempDir("dlba-server-h2-")
    env["root"] = root
    r = root.path
    for tool in ("nghttp", "h2load", "curl"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} missing (apt-get install nghttp2-client curl)")
    nginxes = [Nginx(r, i, f"127.0.0.{10 + i}", free_port(f"127.0.0.{10 + i}")) for i in (1, 2, 3)]
    env["nginx"] = nginxes
    env["big_sha"] = write_big_file(nginxes[:1], BIG_SIZE)
    for n in nginxes:
        n.start()
    env["echo"] = EchoBackend("127.0.0.14", free_port("127.0.0.14")).start()
    ca, chain, key = make_certificates(r)
    env.update(ca=ca, chain=chain, key=key)
    ports = {name: free_port() for name in ("web", "webs", "cache_s", "h2c", "bigs", "spare", "echos", "echoc")}
    env["ports"] = ports
    env["server"] = DlbaServer(SERVER_BIN, r, "dlba", make_config(ports, nginxes, chain, key)).start(
        wait_for=[("127.0.0.1", p) for p in ports.values()])


def teardown():
    if "server" in env:
        env["server"].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "echo" in env:
        env["echo"].stop()
    if "root" in env:
        env["root"].remove()


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def counters():
    return env["server"].counters()


def curl(url, *args, timeout=20, check_rc=True):
    cp = run(["curl", "-sS", "--max-time", str(timeout), "--cacert", env["ca"], "-D", "-", *args, url],
             timeout=timeout + 5, check_rc=check_rc)
    return cp.stdout


def backend_of(text):
    m = re.search(r"^x-backend: (\S+)", text, re.M | re.I)
    return m.group(1) if m else None


def https(port, path="/"):
    return f"https://127.0.0.1:{port}{path}"


def three_urls():
    """Three paths that the url_hash service sends to three different back ends (asked over HTTP/1.1)."""
    if "urls" not in env:
        found = {}
        for i in range(200):
            b = backend_of(curl(https(env["ports"]["cache_s"], f"/u{i}"), "--http1.1"))
            found.setdefault(b, f"/u{i}")
            if len(found) == 3:
                break
        check(len(found) == 3 and None not in found, f"url_hash spread: {found}")
        env["urls"] = found
    return env["urls"]


# ---- raw frames, for the clients that break the rules ----

def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def request_block(path="/"):
    return literal(":method", "GET") + literal(":scheme", "http") + literal(":authority", "x") + literal(":path", path)


def read_frames(sock, until, timeout=10):
    """Reads frames until until(type, flags, stream, payload) is true or the connection ends; True if it was."""
    buf = b""
    deadline = time.time() + timeout
    sock.settimeout(1)
    while time.time() < deadline:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            ftype, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            payload = buf[9:9 + length]
            buf = buf[9 + length:]
            if until(ftype, flags, stream, payload):
                return True
        try:
            b = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return False
        if not b:
            return False
        buf += b
    return False


def h2c_socket(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(PREFACE + frame(4, 0, 0))
    return s


def goaway_of(payload):
    return struct.unpack(">II", payload[:8])  # last stream id, error code


def normal_client_works(what):
    """A normal h2 client on the same server while (or right after) a flood."""
    out = curl(https(env["ports"]["webs"], "/ok"), "--http2")
    check(out.startswith("HTTP/2 200"), f"{what}: a normal h2 client got:\n{out[:400]}")
    cp = run(["h2load", "-n", "200", "-c", "2", "-m", "10", https(env["ports"]["cache_s"], "/normal")], timeout=60)
    check("200 succeeded" in cp.stdout and "0 failed" in cp.stdout, f"{what}: h2load:\n{cp.stdout[-800:]}")


# ---- cases ----

@suite.case("ALPN offers h2 then http/1.1 on TLS listeners; h2c prior knowledge on a plain one with http2 = true")
def negotiation():
    before = counters()
    cp = run(["openssl", "s_client", "-connect", f"127.0.0.1:{env['ports']['webs']}", "-alpn", "h2,http/1.1",
              "-CAfile", env["ca"]], input="", timeout=20, check_rc=False)
    check("ALPN protocol: h2" in cp.stdout, f"ALPN:\n{cp.stdout[-1200:]}")
    cp = run(["openssl", "s_client", "-connect", f"127.0.0.1:{env['ports']['webs']}", "-alpn", "http/1.1",
              "-CAfile", env["ca"]], input="", timeout=20, check_rc=False)
    check("ALPN protocol: http/1.1" in cp.stdout, f"ALPN http/1.1 only:\n{cp.stdout[-1200:]}")
    out = curl(https(env["ports"]["webs"], "/a"), "--http2")
    check(out.startswith("HTTP/2 200") and backend_of(out), f"curl --http2:\n{out[:400]}")
    out = curl(f"http://127.0.0.1:{env['ports']['h2c']}/b", "--http2-prior-knowledge")
    check(out.startswith("HTTP/2 200") and backend_of(out), f"h2c prior knowledge:\n{out[:400]}")
    # The same h2c listener still serves HTTP/1.1 (no preface: the H1 codec); a plain listener without http2 too.
    out = curl(f"http://127.0.0.1:{env['ports']['h2c']}/c", "--http1.1")
    check(out.startswith("HTTP/1.1 200"), f"HTTP/1.1 on the h2c listener:\n{out[:400]}")
    out = curl(f"http://127.0.0.1:{env['ports']['web']}/d", "--http2-prior-knowledge", check_rc=False)
    check(not out.startswith("HTTP/2"), f"h2c on a listener without http2:\n{out[:400]}")
    cp = run(["nghttp", "-v", https(env["ports"]["webs"], "/e")], timeout=20, check_rc=False)
    check(":status: 200" in cp.stdout and "x-backend:" in cp.stdout, f"nghttp:\n{cp.stdout[-1500:]}")
    after = counters()
    check(after["h2_connections"] - before["h2_connections"] >= 3, f"h2_connections {before['h2_connections']} -> "
          f"{after['h2_connections']}")
    # Each worker writes its own access-log lines: wait for both (the h1 one may come from the other worker, later).
    access_log = os.path.join(env["root"].path, "access.log")
    for pattern, what in ((r' h2 "GET /a" 200 ', "the h2 request"), (r' h1 "GET /c" 200 ', "the h1 request /c")):
        wait_until(lambda: re.search(pattern, open(access_log).read()), 10, what=f"{what} in the access log")


@suite.case("300 requests, 100 concurrent streams on one connection: each stream scheduled on its own (url_hash)")
def streams_scheduled_alone():
    urls = three_urls()  # back end -> path
    before = counters()
    logs_before = {n.index: os.path.getsize(n.access_log) for n in env["nginx"]}
    cp = run(["h2load", "-n", "300", "-c", "1", "-m", "100",
              *[https(env["ports"]["cache_s"], p) for p in urls.values()]], timeout=120)
    check("300 succeeded" in cp.stdout and "0 failed" in cp.stdout, f"h2load:\n{cp.stdout[-1200:]}")
    after = counters()
    check(after["h2_connections"] - before["h2_connections"] == 1, "not one connection")
    check(after["h2_streams"] - before["h2_streams"] == 300, f"h2_streams moved by "
          f"{after['h2_streams'] - before['h2_streams']}")
    # Each back end saw only the path that hashes to it, 100 times: every stream was balanced on its own.
    for n in env["nginx"]:
        with open(n.access_log) as f:
            f.seek(logs_before[n.index])
            paths = [re.search(r'"GET (\S+) HTTP', l).group(1) for l in f if '"GET ' in l]
        want = urls[str(n.index)]
        check(paths.count(want) == 100 and set(paths) == {want},
              f"back end {n.index} got {len(paths)} requests, {sorted(set(paths))}, want 100 x {want}")
    # nghttp: three streams of one connection, three back ends (the x-backend field of each answer).
    cp = run(["nghttp", "-v", *[https(env["ports"]["cache_s"], p) for p in urls.values()]], timeout=30)
    seen = set(re.findall(r"x-backend: (\d)", cp.stdout))
    check(seen == {"1", "2", "3"}, f"nghttp saw back ends {seen}")
    check(len(re.findall(r"Connected", cp.stdout)) == 1, "nghttp used more than one connection")


@suite.case("cookie persistence: one back end over h2, HTTP/1.1 over TLS, plain HTTP and h2c, by the injected cookie")
def cookie_persistence():
    jar = os.path.join(env["root"].path, "jar.txt")
    p = env["ports"]
    login = curl(https(p["webs"], "/login"), "--http2", "-c", jar, "-b", jar)
    check(login.startswith("HTTP/2 200"), f"login:\n{login[:500]}")
    first = backend_of(login)
    check(re.search(r"^set-cookie: SpServer=", login, re.M | re.I), f"no SpServer cookie on h2:\n{login[:600]}")
    seen = []
    for i in range(12):
        kind = i % 3
        if kind == 0:
            out = curl(https(p["webs"], f"/p{i}"), "--http2", "-c", jar, "-b", jar)
        elif kind == 1:
            out = curl(https(p["webs"], f"/p{i}"), "--http1.1", "-c", jar, "-b", jar)
        else:
            out = curl(f"http://127.0.0.1:{p['web']}/p{i}", "-c", jar, "-b", jar)
        seen.append(backend_of(out))
    check(set(seen) == {first}, f"back ends {seen}, login on {first}")
    # Split cookie fields (each cookie its own field, as browsers send on h2) are joined for the back end.
    cookies = open(jar).read()
    sp = re.search(r"SpServer\t(\S+)", cookies).group(1)
    js = re.search(r"JSESSIONID\t(\S+)", cookies).group(1)
    cp = run(["nghttp", "-v", "-H", f"cookie: SpServer={sp}", "-H", f"cookie: JSESSIONID={js}",
              https(p["webs"], "/split")], timeout=20)
    check(f"x-backend: {first}" in cp.stdout, f"split cookies went elsewhere:\n{cp.stdout[-800:]}")


@suite.case("a 50 MB download on one stream while small streams of the same connection keep flowing")
def big_and_small():
    p = env["ports"]
    out = os.path.join(env["root"].path, "big.bin")
    base = env["server"].rss_kb()
    args = ["curl", "-sS", "--http2", "--cacert", env["ca"], "--parallel", "--parallel-max", "30", "--limit-rate",
            "20M", "-w", "%{url_effective} %{http_code} %{time_total} %{num_connects} %{http_version}\n",
            https(p["bigs"], "/files/big.bin"), "-o", out]
    for i in range(25):
        args += [https(p["bigs"], f"/small{i}"), "-o", "/dev/null"]
    start = time.time()
    cp = run(args, timeout=120)
    lines = [l.split() for l in cp.stdout.splitlines() if l.strip()]
    big = [l for l in lines if "big.bin" in l[0]]
    small = [l for l in lines if "small" in l[0]]
    check(len(big) == 1 and big[0][1] == "200" and len(small) == 25 and all(l[1] == "200" for l in small),
          f"answers:\n{cp.stdout}")
    check(all(l[4] == "2" for l in lines), f"not all over h2:\n{cp.stdout}")
    check(sum(int(l[3]) for l in lines) == 1, f"more than one connection:\n{cp.stdout}")
    big_time = float(big[0][2])
    slowest_small = max(float(l[2]) for l in small)
    check(big_time > 2.0, f"the big download took {big_time}s: not rate-limited, the case proves nothing")
    check(slowest_small < big_time / 2, f"small streams took up to {slowest_small}s beside a {big_time}s download")
    h = hashlib.sha256()
    with open(out, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    size = os.path.getsize(out)
    if h.hexdigest() != env["big_sha"]:
        src = os.path.join(env["nginx"][0].www, "files/big.bin")
        with open(src, "rb") as a, open(out, "rb") as b:
            off = 0
            while True:
                x, y = a.read(1 << 16), b.read(1 << 16)
                if x != y:
                    i = next((k for k in range(min(len(x), len(y))) if x[k] != y[k]), min(len(x), len(y)))
                    suite.diag(f"first difference at {off + i} of {size} bytes")
                    break
                if not x:
                    break
                off += len(x)
    check(h.hexdigest() == env["big_sha"], f"the 50 MB body differs from the file ({size} bytes)")
    grown = env["server"].rss_kb() - base
    suite.diag(f"big {big_time:.1f}s, slowest small {slowest_small:.2f}s, VmRSS +{grown} kB, "
               f"wall {time.time() - start:.1f}s")
    check(grown < 32 * 1024, f"the proxy grew by {grown} kB while streaming")


@suite.case("request bodies over h2 reach the HTTP/1.1 back end intact: with content-length, and without (chunked)")
def request_bodies():
    path = os.path.join(env["root"].path, "upload.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024 + 123))
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    url = https(env["ports"]["echos"], "/upload")
    # curl sends content-length: the back end gets Content-Length framing.
    out = curl(url, "--http2", "--data-binary", f"@{path}", "-H", "Content-Type: application/x")
    check(out.startswith("HTTP/2 200"), f"upload:\n{out[:300]}")
    check(f"framing=length length={5 * 1024 * 1024 + 123} sha256={sha}" in out, f"echo said:\n{out[-400:]}")
    check("proto=https" in out, "no X-Forwarded-Proto https")
    cp = run(["nghttp", "-d", path, url], timeout=60)
    check(f"length={5 * 1024 * 1024 + 123} sha256={sha}" in cp.stdout, f"nghttp -d:\n{cp.stdout[-400:]}")
    # A body without content-length (raw frames over h2c): chunked toward the back end, the same bytes.
    body = os.urandom(60000)
    s = h2c_socket(env["ports"]["echoc"])
    block = (literal(":method", "POST") + literal(":scheme", "http") + literal(":authority", "x") +
             literal(":path", "/raw"))
    data = b"".join(frame(0, 0, 1, body[i:i + 16000]) for i in range(0, len(body), 16000))
    s.sendall(frame(1, 0x4, 1, block) + data + frame(0, 1, 1))
    answer = []
    read_frames(s, lambda t, f, sid, pl: (t == 0 and sid == 1 and answer.append(pl) is None and bool(f & 1)))
    s.close()
    text = b"".join(answer).decode(errors="replace")
    check(f"framing=chunked length=60000 sha256={hashlib.sha256(body).hexdigest()}" in text, f"raw h2c:\n{text}")
    # Split cookie fields reach the back end as one Cookie header.
    cp = run(["nghttp", "-H", "cookie: a=1", "-H", "cookie: b=2", url], timeout=20)
    check("cookie=a=1; b=2" in cp.stdout, f"cookies:\n{cp.stdout[-300:]}")


@suite.case("rapid reset (HEADERS + RST_STREAM) is cut off by GOAWAY and counted; normal clients go on")
def rapid_reset():
    before = counters()
    s = h2c_socket(env["ports"]["h2c"])
    burst = b"".join(frame(1, 0x5, sid, request_block("/rr")) + frame(3, 0, sid, b"\x00\x00\x00\x08")
                     for sid in range(1, 8001, 2))
    try:
        s.sendall(burst)
    except OSError:
        pass  # the server may close before it has read it all
    got = {}
    read_frames(s, lambda t, f, sid, pl: t == 7 and not got.update(goaway=goaway_of(pl)))
    s.close()
    check("goaway" in got, "no GOAWAY for the rapid reset")
    wait_until(lambda: counters()["h2_limit_flood"] > before["h2_limit_flood"], 5, what="h2_limit_flood to move")
    after = counters()
    check(after["h2_resets_received"] - before["h2_resets_received"] >= 1000,
          f"resets received {after['h2_resets_received'] - before['h2_resets_received']}")
    check(after["h2_resets_received"] - before["h2_resets_received"] < 4000, "every reset was taken: no limit")
    normal_client_works("after a rapid reset")


@suite.case("a SETTINGS flood from a client that never reads is cut off and counted")
def settings_flood():
    before = counters()
    s = h2c_socket(env["ports"]["h2c"], rcvbuf=4096)
    s.settimeout(10)
    chunk = frame(4, 0, 0) * 10000
    sent = 0
    try:
        for _ in range(500):  # up to 45 MB: the connection is cut long before
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    s.close()
    wait_until(lambda: counters()["h2_limit_flood"] > before["h2_limit_flood"], 10, what="h2_limit_flood to move")
    suite.diag(f"sent {sent >> 10} kB of SETTINGS before the cut")
    normal_client_works("after a SETTINGS flood")


@suite.case("oversized request heads answer 431, streams over the limit end the connection; both counted")
def header_and_stream_limits():
    before = counters()
    out = curl(f"http://127.0.0.1:{env['ports']['h2c']}/big-head", "--http2-prior-knowledge",
               "-H", "x-big: " + "a" * 40000)
    check(out.startswith("HTTP/2 431"), f"oversized head:\n{out[:400]}")
    after = counters()
    check(after["h2_limit_headers"] - before["h2_limit_headers"] == 1, "h2_limit_headers did not move by 1")
    # 150 open streams (no END_STREAM) on one connection: the server allows 100. nghttp2 treats the 101st as a
    # connection error (GOAWAY PROTOCOL_ERROR) once its SETTINGS are acknowledged; counted as the streams limit.
    s = h2c_socket(env["ports"]["h2c"])
    read_frames(s, lambda t, f, sid, pl: t == 4 and not (f & 1))  # the server's SETTINGS
    s.sendall(frame(4, 1, 0) + b"".join(frame(1, 0x4, sid, request_block("/open")) for sid in range(1, 301, 2)))
    got = {}
    read_frames(s, lambda t, f, sid, pl: t == 7 and not got.update(goaway=goaway_of(pl)), timeout=10)
    s.close()
    check("goaway" in got and got["goaway"][1] == 1 and got["goaway"][0] <= 201,
          f"GOAWAY {got.get('goaway')} for 150 open streams with 100 allowed")
    wait_until(lambda: counters()["h2_limit_streams"] > before["h2_limit_streams"], 5, what="h2_limit_streams")
    normal_client_works("after the limits")


@suite.case("reload removing a listener: its h2 connection gets a graceful GOAWAY (NO_ERROR) after its answered stream")
def goaway_on_reload():
    p = env["ports"]
    s = h2c_socket(p["spare"])
    read_frames(s, lambda t, f, sid, pl: t == 4 and not (f & 1))
    s.sendall(frame(4, 1, 0) + frame(1, 0x5, 1, request_block("/before-reload")))
    done = []
    check(read_frames(s, lambda t, f, sid, pl: sid == 1 and (f & 1) and not done.append(t)), "no answer")
    server = env["server"]
    with open(server.config, "w") as f:
        f.write(make_config(p, env["nginx"], env["chain"], env["key"], with_spare=False))
    server.proc.send_signal(signal.SIGHUP)
    got = {}
    check(read_frames(s, lambda t, f, sid, pl: t == 7 and not got.update(goaway=goaway_of(pl)), timeout=15),
          "no GOAWAY after the reload")
    s.close()
    check(got["goaway"][1] == 0, f"GOAWAY error code {got['goaway'][1]}, want NO_ERROR")
    check(got["goaway"][0] >= 1, f"GOAWAY last stream {got['goaway'][0]}")
    normal_client_works("after the reload")


@suite.case("shutdown (SIGTERM): an open h2 connection gets a graceful GOAWAY (NO_ERROR) before the server exits")
def goaway_on_shutdown():
    s = h2c_socket(env["ports"]["h2c"])
    read_frames(s, lambda t, f, sid, pl: t == 4 and not (f & 1))
    s.sendall(frame(4, 1, 0) + frame(1, 0x5, 1, request_block("/before-stop")))
    check(read_frames(s, lambda t, f, sid, pl: sid == 1 and bool(f & 1)), "no answer before the stop")
    env["server"].proc.send_signal(signal.SIGTERM)
    got = {}
    check(read_frames(s, lambda t, f, sid, pl: t == 7 and not got.update(goaway=goaway_of(pl)), timeout=15),
          "no GOAWAY at shutdown")
    s.close()
    check(got["goaway"] == (1, 0), f"GOAWAY (last stream, code) = {got['goaway']}, want (1, 0)")
    wait_until(lambda: env["server"].proc.poll() is not None, 15, what="the server to exit")


if __name__ == "__main__":
    main(suite, setup, teardown)
