"""dlba-server TLS termination: protocol versions and ciphers, ALPN, session resumption by tickets whose keys come
from the configuration (across processes, and across a key rotation), handshake failures that are counted but never
fatal, and a back end that only ever sees HTTP. Usage: tls_test.py DLBA_SERVER DLBACTL (TAP on stdout).

The resumption case runs a second dlba-server with the very same configuration file in a network namespace of its
own (same listener address and port, another kernel stack), like a second node of the array."""
import hashlib
import os
import re
import ssl
import subprocess
import sys
import time

from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import KeepAliveClient, free_port, free_port_pair
from dlbatest.nginx import EchoBackend, Nginx
from dlbatest.procs import TempDir, run
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/tls", setup_timeout=120)
env = {}
NETNS = f"dlbatls{os.getpid()}"


def server_config(port, echo_port, nginx, keys, chain, key):
    backends = [("1", nginx.address, nginx.port), ("echo", "127.0.0.14", echo_port)]
    services = ['name = "web"; backends = ["1"];', 'name = "echo"; backends = ["echo"];']
    listeners = [("127.0.0.1", port, True, "web"), ("127.0.0.1", port + 1, True, "echo")]
    key_list = ", ".join(f'"{k}"' for k in keys)
    tls = f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = [{key_list}]; }};\n'
    return config_text(backends, services, listeners, "  workers = 2;\n  timeouts = { header_ms = 3000; };", tls)


def setup():
    root = TempDir("dlba-server-tls-")
    env["root"] = root
    r = root.path
    nginx = Nginx(r, 1, "127.0.0.11", free_port("127.0.0.11")).start()
    env["nginx"] = nginx
    env["echo"] = EchoBackend("127.0.0.14", free_port("127.0.0.14")).start()
    ca, chain, key = make_certificates(r)
    env.update(ca=ca, chain=chain, key=key)
    env["k1"], env["k2"] = ticket_key(), ticket_key()
    port = free_port_pair()
    env["port"] = port
    env["a"] = DlbaServer(SERVER_BIN, r, "a", server_config(port, env["echo"].port, nginx, [env["k1"]], chain, key)).start(
        wait_for=[("127.0.0.1", port), ("127.0.0.1", port + 1)])


def teardown():
    for name in ("a", "b", "c", "d"):
        if name in env:
            env[name].stop()
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    if "nginx" in env:
        env["nginx"].stop()
    if "echo" in env:
        env["echo"].stop()
    if "root" in env:
        env["root"].remove()


def diagnostics():
    return "\n".join(env[n].log_text() for n in ("a", "b", "c", "d") if n in env)


suite.diag_hooks.append(diagnostics)


def s_client(port, *args, ns=None, request=b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=10):
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-CAfile", env["ca"],
           "-ign_eof", *args]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    cp = subprocess.run(cmd, input=request, capture_output=True, timeout=timeout)
    return cp.returncode, cp.stdout.decode(errors="replace") + cp.stderr.decode(errors="replace")


@suite.case("TLS 1.2 and 1.3 with AEAD ciphers and ALPN http/1.1; older versions and CBC ciphers refused")
def versions():
    port = env["port"]
    for version, want in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
        # (h2 first is taken as h2: test/server/http2_test.py; this client speaks HTTP/1.1.)
        rc, out = s_client(port, version, "-alpn", "http/1.1")
        check(rc == 0, f"{version}: s_client failed:\n{out[-2000:]}")
        check(re.search(rf"Protocol\s*: {want}", out), f"{version}: not {want}:\n{out[-2000:]}")
        check("ALPN protocol: http/1.1" in out, f"{version}: ALPN:\n{out[-1500:]}")
        check("Verify return code: 0 (ok)" in out, f"{version}: certificate chain not verified:\n{out[-1500:]}")
        check("HTTP/1.1 200 OK" in out and "backend 1" in out, f"{version}: no answer from the back end:\n{out[-1500:]}")
        cipher = re.search(r"Cipher is (\S+)", out).group(1)
        check("GCM" in cipher or "CHACHA20" in cipher, f"{version}: cipher {cipher}")
        if want == "TLSv1.2":
            check(cipher.startswith("ECDHE-"), f"TLS 1.2 without forward secrecy: {cipher}")
    rc, out = s_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    check(rc != 0 or "Cipher is (NONE)" in out, f"TLS 1.1 was accepted:\n{out[-1500:]}")
    rc, out = s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA")
    check(rc != 0 or "Cipher is (NONE)" in out, f"a CBC-only TLS 1.2 client was accepted:\n{out[-1500:]}")


@suite.case("a session resumes on a second process loading the same configuration (TLS 1.3 and 1.2)", timeout=90)
def resumption_across_processes():
    if os.geteuid() != 0:
        raise RuntimeError("needs root for a network namespace")
    r = env["root"].path
    port = env["port"]
    run(["ip", "netns", "add", NETNS])
    run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"])
    # Process B: the same file as A, started in its own namespace on the same address and port.
    b = DlbaServer(SERVER_BIN, r, "b", open(env["a"].config).read())
    b.config = env["a"].config
    env["b"] = b.start(netns=NETNS)
    time.sleep(0.5)
    for version in ("-tls1_3", "-tls1_2"):
        sess = os.path.join(r, f"session{version}.pem")
        rc, out = s_client(port, version, "-sess_out", sess)
        check(rc == 0 and os.path.getsize(sess) > 0, f"{version}: no session from A:\n{out[-1500:]}")
        check(re.search(r"^New, ", out, re.M), f"{version}: the first handshake was not new:\n{out[-1500:]}")
        rc, out = s_client(port, version, "-sess_in", sess, ns=NETNS)
        check(rc == 0, f"{version}: s_client against B failed:\n{out[-1500:]}")
        check(re.search(r"^Reused, ", out, re.M), f"{version}: B did not resume A's session:\n{out[-2000:]}")
        # And back: B's renewed ticket works on A.
        rc, out = s_client(port, version, "-sess_in", sess)
        check(re.search(r"^Reused, ", out, re.M), f"{version}: A did not resume:\n{out[-1500:]}")
    counters = env["b"].counters()
    check(counters["tls_resumed"] >= 2, f"B counted {counters['tls_resumed']} resumptions")


@suite.case("ticket keys rotate: the previous key still resumes, another array's key does not")
def key_rotation():
    r = env["root"].path
    port_c, port_d = free_port_pair(), None
    # C: rotated, new key first and A's key second. D: an unrelated key only.
    env["c"] = DlbaServer(SERVER_BIN, r, "c", server_config(port_c, env["echo"].port, env["nginx"], [env["k2"], env["k1"]],
                                                           env["chain"], env["key"])).start(
        wait_for=[("127.0.0.1", port_c)])
    port_d = free_port_pair()
    env["d"] = DlbaServer(SERVER_BIN, r, "d", server_config(port_d, env["echo"].port, env["nginx"], [ticket_key()],
                                                           env["chain"], env["key"])).start(
        wait_for=[("127.0.0.1", port_d)])
    sess = os.path.join(r, "rotation.pem")
    renewed = os.path.join(r, "renewed.pem")
    rc, out = s_client(env["port"], "-tls1_3", "-sess_out", sess)
    check(rc == 0, f"no session from A:\n{out[-1500:]}")
    rc, out = s_client(port_c, "-tls1_3", "-sess_in", sess, "-sess_out", renewed)
    check(re.search(r"^Reused, ", out, re.M), f"C did not resume a ticket of its previous key:\n{out[-1500:]}")
    rc, out = s_client(port_d, "-tls1_3", "-sess_in", sess)
    check(rc == 0 and re.search(r"^New, ", out, re.M), f"D resumed a ticket it has no key for:\n{out[-1500:]}")
    # The ticket C issued is under its current key: A (which only knows the old key) cannot resume it.
    rc, out = s_client(env["port"], "-tls1_3", "-sess_in", renewed)
    check(re.search(r"^New, ", out, re.M), f"A resumed a ticket under a key it does not have:\n{out[-1500:]}")


@suite.case("handshake failures are counted and logged at a rate limit, never fatal")
def handshake_failures():
    import socket
    a = env["a"]
    before = a.counters()["tls_handshake_failures"]
    for _ in range(60):
        with socket.create_connection(("127.0.0.1", env["port"]), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to the TLS port
            s.settimeout(2)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
    after = a.counters()["tls_handshake_failures"]
    check(after - before >= 60, f"{after - before} handshake failures counted for 60")
    lines = [l for l in a.log_text().splitlines() if "TLS handshake" in l]
    check(len(lines) <= 10, f"{len(lines)} log lines for 60 failures (not rate-limited)")
    check(a.proc.poll() is None, "the server died")
    rc, out = s_client(env["port"], "-tls1_3")
    check(rc == 0 and "HTTP/1.1 200 OK" in out, "no service after the failures")


@suite.case("the back end sees plain HTTP with X-Forwarded-Proto https, over a kept-alive TLS connection")
def backend_sees_http():
    port = env["port"] + 1
    cp = run(["curl", "-sS", "--cacert", env["ca"], "-w", "\nconnects=%{num_connects}\n",
              f"https://127.0.0.1:{port}/one", "--data-binary", "hello over tls", "--next", "--cacert", env["ca"],
              "-w", "\nconnects=%{num_connects}\n", f"https://127.0.0.1:{port}/two"])
    out = cp.stdout
    check(out.count("method=") == 2, out)
    check("method=POST framing=length length=14" in out, out)
    check(out.count("proto=https") == 2 and "xff=127.0.0.1" in out, out)
    check(re.findall(r"connects=(\d)", out) == ["1", "0"], f"the second request did not reuse the connection:\n{out}")


@suite.case("requests in several TLS records that arrive together, a 2 MB upload and pipelined requests are all "
            "answered at once (a read that empties the socket waits for its next edge; one that does not, reads on)")
def records_arriving_together():
    ctx = ssl.create_default_context(cafile=env["ca"])
    ctx.check_hostname = False
    c = KeepAliveClient(env["port"] + 1, tls_ctx=ctx, timeout=5)
    try:
        deadline = time.monotonic() + 5
        # One request per TLS record (a write each), sent back to back: they reach the server in one recv.
        for i in range(3):
            c.sock.sendall(f"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        for i in range(3):
            head, body = c.conn.read_response(deadline)
            check(b" 200 " in head.split(b"\r\n")[0] and b"method=GET" in body, f"answer {i}: {head!r} {body!r}")
        # A body of many records, more than one recv's worth each time the server reads.
        data = os.urandom(2 * 1024 * 1024)
        c.sock.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        head, body = c.conn.read_response(time.monotonic() + 10)
        want = f"length={len(data)} sha256={hashlib.sha256(data).hexdigest()}".encode()
        check(want in body, f"the upload arrived whole: {body!r}")
        # Pipelined in one record, then a request whose last byte comes alone in a record of its own.
        c.sock.sendall(b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n")
        c.sock.sendall(b"GET /p3 HTTP/1.1\r\nHost: x\r\n\r")
        time.sleep(0.2)
        c.sock.sendall(b"\n")
        deadline = time.monotonic() + 5
        for i in range(3):
            head, body = c.conn.read_response(deadline)
            check(b" 200 " in head.split(b"\r\n")[0], f"pipelined answer {i}: {head!r}")
    finally:
        c.close()


@suite.case("tls.provider: a provider that loads is checked without effect, then active after a reload; one that "
            "does not is refused with file:line")
def provider():
    server = env["a"]
    with open(server.config) as f:
        original = f.read()
    check("legacy" not in server.status_meta()["tls_providers"], "legacy loaded before anyone asked")
    variant = original.replace("tls = { ", 'tls = { provider = "legacy"; ', 1)
    path = os.path.join(env["root"].path, "provider.conf")
    with open(path, "w") as f:
        f.write(variant)
    reply = server.monitor(f"check-reload {path}")
    check(reply["ok"] is True, f"check-reload with provider legacy: {reply}")
    check("legacy" not in server.status_meta()["tls_providers"], "a check loaded the provider")
    line = next(i + 1 for i, l in enumerate(variant.splitlines()) if 'provider = "legacy"' in l)
    with open(path, "w") as f:
        f.write(variant.replace('provider = "legacy"', 'provider = "nosuch-accelerator"'))
    reply = server.monitor(f"check-reload {path}")
    check(reply["ok"] is False and f"{path}:{line}:" in reply["error"] and "nosuch-accelerator" in reply["error"],
          f"check-reload with a missing provider: {reply}")
    try:
        with open(server.config, "w") as f:
            f.write(variant)
        reply = server.monitor("reload")
        check(reply["ok"] is True, f"reload with provider legacy: {reply}")
        providers = server.status_meta()["tls_providers"].split(",")
        check(providers == ["default", "legacy"], f"active providers after the reload: {providers}")
        rc, out = s_client(env["port"])
        check(rc == 0 and "backend 1" in out, f"TLS still serves with the provider loaded:\n{out[-800:]}")
    finally:
        with open(server.config, "w") as f:
            f.write(original)
        server.monitor("reload")


if __name__ == "__main__":
    main(suite, setup, teardown)
