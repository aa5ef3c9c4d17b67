"""dlba-server configuration reload (SIGHUP, and `reload` / `check-reload PATH` on the monitor socket) against real
nginx back ends: nothing in flight is cut, the new back ends, policy, listeners and certificate take over, a bad
file is refused with file:line while the running configuration keeps serving, and the operator's admin state
carries over. Usage: reload_test.py DLBA_SERVER DLBACTL (TAP on stdout).

Each case starts its own dlba-server (two workers) and rewrites its configuration file in place, as
`dlbactl config push` does, before asking for the reload."""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

from dlbatest.certs import make_certificates, sign_server_certificate
from dlbatest.http_client import KeepAliveClient, free_port, one_request, port_open
from dlbatest.load import Load, PacedDownload
from dlbatest.loadgen import wrk_totals
from dlbatest.nginx import Nginx, write_big_file
from dlbatest.procs import TempDir, run
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/reload", setup_timeout=120)
env = {}
BIG_SIZE = 12 * 1024 * 1024
BIG_RATE = 2 * 1024 * 1024  # bytes/s for the download that spans a reload: about 6 s
SERVER_EXTRA = """  workers = 2;
  timeouts = { header_ms = 5000; idle_ms = 30000; backend_response_ms = 20000; shutdown_ms = 3000; };"""


def setup():
    root = TempDir("dlba-server-reload-")
    env["root"] = root
    r = root.path
    nginxes = [Nginx(r, i, f"127.0.0.{10 + i}", free_port(f"127.0.0.{10 + i}")) for i in (1, 2, 3)]
    env["nginx"] = {str(n.index): n for n in nginxes}
    env["big_sha"] = write_big_file(nginxes[:2], BIG_SIZE)  # the big file on back ends 1 and 2
    for n in nginxes:
        n.start()
    env["ca"], env["chain"], env["key"] = make_certificates(r)


def teardown():
    for s in env.pop("servers", []):
        s.stop()
    for n in env.get("nginx", {}).values():
        n.stop()
    if "root" in env:
        env["root"].remove()


def diagnostics():
    return "\n".join(s.log_text() for s in env.get("servers", []))


suite.diag_hooks.append(diagnostics)


# ---- helpers -------------------------------------------------------------------------------------------------------

def start_server(name, text, wait_ports):
    server = DlbaServer(SERVER_BIN, env["root"].path, name, text)
    env.setdefault("servers", []).append(server)
    return server.start(wait_for=[("127.0.0.1", p) for p in wait_ports])


def stop_server(server):
    server.stop()
    if server in env.get("servers", []):
        env["servers"].remove(server)


def write_config(server, text):
    """Replaces the server's file atomically (temp file + rename), as the config push does."""
    tmp = server.config + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, server.config)


def backends_cfg(keys):
    return [(k, env["nginx"][k].address, env["nginx"][k].port) for k in keys]


def nginx_requests(key, exclude="big.bin"):
    with open(os.path.join(env["nginx"][key].dir, "access.log"), errors="replace") as f:
        return sum(1 for line in f if exclude not in line)


# ---- cases ---------------------------------------------------------------------------------------------------------

@suite.case("SIGHUP under load: back end added and removed, policy changed; no failed request, the download spanning "
            "the reload completes intact, new requests never reach the removed back end", timeout=90)
def reload_under_load():
    web, big = free_port(), free_port()
    listeners = [("127.0.0.1", web, False, "web"), ("127.0.0.1", big, False, "big")]
    before = config_text(backends_cfg(["1", "2"]),
                         ['name = "web"; backends = ["1", "2"]; policy = "least_conn";',
                          'name = "big"; backends = ["1"];'], listeners, SERVER_EXTRA)
    # Back end 1 leaves (the download in flight to it must still finish), 3 joins, web hashes URLs now.
    after = config_text(backends_cfg(["2", "3"]),
                        ['name = "web"; backends = ["2", "3"]; policy = "url_hash";',
                         'name = "big"; backends = ["2"];'], listeners, SERVER_EXTRA)
    server = start_server("load", before, [web, big])
    try:
        check(server.status_meta()["config_generation"] == 1, "generation 1 at start")
        download = PacedDownload(big, "/files/big.bin", BIG_RATE)
        download.start()
        wrk = subprocess.Popen(["wrk", "-t", "2", "-c", "8", "-d", "6s", f"http://127.0.0.1:{web}/wrk"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            with Load(web) as load:
                time.sleep(2.0)
                check(download.is_alive(), f"the download ended before the reload (it must span it): status "
                                           f"{download.status}, {download.size} bytes, error {download.error}")
                write_config(server, after)
                server.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: server.status_meta()["config_generation"] == 2, 10, what="generation 2")
                switched = time.monotonic()
                time.sleep(0.5)  # requests that started before the switch are answered by now
                nginx1_at_switch = nginx_requests("1")
                time.sleep(2.5)
            wrk_out, wrk_err = wrk.communicate(timeout=30)
            download.join(60)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait(5)
        wrk_text = wrk_out.decode(errors="replace")
        wrk_requests, wrk_errors = wrk_totals(wrk_text)
        suite.diag(f"wrk: {wrk_requests} requests, {wrk_errors} errors")
        check(wrk_requests > 100 and wrk_errors == 0, f"wrk saw failures:\n{wrk_text}{wrk_err.decode()}")

        failed = [r for r in load.records if r[1] != 200]
        check(not failed, f"{len(failed)} failed requests of {len(load.records)}, first: {failed[:3]}")
        after_switch = [r[2] for r in load.records if r[0] >= switched]
        before_switch = [r[2] for r in load.records if r[0] < switched - 0.5]
        suite.diag(f"{len(load.records)} keep-alive requests; before: {sorted(set(before_switch))}, "
                   f"after: {sorted(set(after_switch))} ({len(after_switch)})")
        check(set(before_switch) <= {"1", "2"} and "1" in before_switch, f"before: {set(before_switch)}")
        check(len(after_switch) > 20 and set(after_switch) <= {"2", "3"}, f"after the reload: {set(after_switch)}")
        check("3" in after_switch, "the added back end 3 got no request")
        check(nginx_requests("1") == nginx1_at_switch, "the removed back end 1 still got requests after the reload")

        check(not download.is_alive() and download.error is None and download.status == 200 and
              download.size == BIG_SIZE, f"download: status {download.status}, {download.size} of {BIG_SIZE} bytes, "
              f"error {download.error}")
        check(download.sha == env["big_sha"], "the download's bytes differ from the file")
        rows = server.backends()
        check(set(rows) == {"2", "3"}, f"back-end table after the reload: {set(rows)}")
        check(rows["2"]["open_conns"] == 0 and rows["3"]["open_conns"] == 0, f"requests left in flight: {rows}")
        check("SIGHUP: configuration reloaded: generation 2" in server.log_text(), "no log line for the SIGHUP")
        check(server.proc.poll() is None, "the server died")
    finally:
        stop_server(server)


@suite.case("a bad file is refused with file:line over the monitor socket and the running one keeps serving; "
            "check-reload refuses bad files and accepts a good one, applying nothing")
def bad_file_refused():
    port = free_port()
    good = config_text(backends_cfg(["1"]), ['name = "web"; backends = ["1"];'], [("127.0.0.1", port, False, "web")],
                       SERVER_EXTRA)
    server = start_server("bad", good, [port])
    try:
        conn = KeepAliveClient(port)
        check(conn.get("/before")[0] == 200, "no answer before")
        lines = good.splitlines()
        lines.insert(4, "this is not libconfig")  # line 5
        write_config(server, "\n".join(lines) + "\n")
        reply = server.monitor("reload")
        check(reply["ok"] is False, f"a bad file was accepted: {reply}")
        check(f"{server.config}:5:" in reply["error"], f"the error does not name the file and line 5: {reply['error']}")
        meta = server.status_meta()
        check(meta["config_generation"] == 1 and meta["config_reloads_refused"] == 1, f"meta after refusal: {meta}")
        check(conn.get("/after")[0] == 200 and one_request(port)[0] == 200, "not served after the refusal")

        bad_path = server.config  # still the bad file
        reply = server.monitor(f"check-reload {bad_path}")
        check(reply["ok"] is False and f"{bad_path}:5:" in reply["error"], f"check-reload of a bad file: {reply}")
        good_path = os.path.join(env["root"].path, "good.conf")
        with open(good_path, "w") as f:
            f.write(good.replace('key = "1"', 'key = "one"').replace('["1"]', '["one"]'))
        reply = server.monitor(f"check-reload {good_path}")
        check(reply["ok"] is True, f"check-reload of a good file: {reply}")
        # Other reasons a file is refused: this node missing, a TLS file missing, a listener that cannot be bound.
        cases = {
            "no node 1": good.replace("number = 1;", "number = 9;"),
            "TLS key missing": config_text(backends_cfg(["1"]), ['name = "web"; backends = ["1"];'],
                                           [("127.0.0.1", port, True, "web")], SERVER_EXTRA,
                                           f'tls = {{ certificate = "{env["chain"]}"; key = "/nonexistent.key"; }};\n'),
        }
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        try:
            taken = blocker.getsockname()[1]
            cases["listener in use"] = config_text(backends_cfg(["1"]), ['name = "web"; backends = ["1"];'],
                                                   [("127.0.0.1", port, False, "web"),
                                                    ("127.0.0.1", taken, False, "web")], SERVER_EXTRA)
            for what, text in cases.items():
                path = os.path.join(env["root"].path, "candidate.conf")
                with open(path, "w") as f:
                    f.write(text)
                reply = server.monitor(f"check-reload {path}")
                suite.diag(f"{what}: {reply.get('error')}")
                check(reply["ok"] is False, f"check-reload accepted a file with {what}: {reply}")
            check(f":{taken}:" in reply["error"] or f"{taken}" in reply["error"], f"in use: {reply}")
            # The same file as a reload is refused too, as a whole: the good listener is not half-applied.
            write_config(server, cases["listener in use"])
            reply = server.monitor("reload")
            check(reply["ok"] is False and str(taken) in reply["error"], f"reload with a listener in use: {reply}")
        finally:
            blocker.close()
        check(server.status_meta()["config_generation"] == 1, "something was applied")
        check(conn.get("/still")[0] == 200, "the keep-alive connection is no longer served")
        # A file that changes the number of workers: applied, and the answer says what needs a restart.
        write_config(server, good.replace("workers = 2;", "workers = 3;"))
        reply = server.monitor("reload")
        check(reply["ok"] is True and "needs a restart" in reply["message"] and "server.workers" in reply["message"],
              f"reload with another worker count: {reply}")
        check(server.status_meta()["config_generation"] == 2 and server.status_meta()["workers"] == 2, "meta")
        conn.close()
    finally:
        stop_server(server)


@suite.case("listeners: an added one accepts, a removed one refuses (its idle connection is closed), a kept one "
            "serves throughout, an established keep-alive connection included, and takes the new service")
def listeners_diff():
    kept, removed, added = free_port(), free_port(), free_port()
    services = ['name = "one"; backends = ["1"];', 'name = "two"; backends = ["2"];']
    before = config_text(backends_cfg(["1", "2"]), services,
                         [("127.0.0.1", kept, False, "one"), ("127.0.0.1", removed, False, "one")], SERVER_EXTRA)
    after = config_text(backends_cfg(["1", "2"]), services,
                        [("127.0.0.1", kept, False, "two"), ("127.0.0.1", added, False, "two")], SERVER_EXTRA)
    server = start_server("listeners", before, [kept, removed])
    try:
        on_kept, on_removed = KeepAliveClient(kept), KeepAliveClient(removed)
        check(on_kept.get("/a")[1] == "1" and on_removed.get("/a")[1] == "1", "before the reload")
        check(not port_open("127.0.0.1", added, timeout=1), "the new port is already open")
        with Load(kept, connections=2, prefix="/kept") as load:
            time.sleep(0.5)
            write_config(server, after)
            reply = server.monitor("reload")
            check(reply["ok"] is True and "listeners: 1 added, 1 removed, 1 kept" in reply["message"], f"{reply}")
            time.sleep(0.5)
        failed = [r for r in load.records if r[1] != 200]
        check(len(load.records) > 20 and not failed, f"the kept listener failed requests: {failed[:3]}")
        status, backend, _ = on_kept.get("/b")
        check(status == 200 and backend == "2", f"kept keep-alive connection after the reload: {status} {backend}")
        check(one_request(added)[1] == "2", "the added listener does not serve the new service")
        check(not port_open("127.0.0.1", removed, timeout=1), "the removed listener still accepts")
        check(on_removed.closed_by_server(), "the idle connection of the removed listener stays open")
        on_kept.close()
        on_removed.close()
    finally:
        stop_server(server)


@suite.case("TLS: a new certificate at the same path; the established keep-alive connection keeps working, a new "
            "handshake sees the new certificate")
def tls_certificate():
    r = env["root"].path
    chain, key = os.path.join(r, "reload-chain.pem"), os.path.join(r, "reload.key")
    for src, dst in ((env["chain"], chain), (env["key"], key)):
        with open(src, "rb") as a, open(dst, "wb") as b:
            b.write(a.read())
    port = free_port()
    tls = f'tls = {{ certificate = "{chain}"; key = "{key}"; }};\n'
    text = config_text(backends_cfg(["1"]), ['name = "web"; backends = ["1"];'], [("127.0.0.1", port, True, "web")],
                       SERVER_EXTRA, tls)
    server = start_server("tls", text, [port])
    try:
        ctx = ssl.create_default_context(cafile=env["ca"])
        old = KeepAliveClient(port, ctx)
        old_der = old.sock.getpeercert(binary_form=True)
        check(old.get("/a")[0] == 200, "no answer over TLS")
        # A renewed certificate from the same CA, written over the same files (as certbot does).
        new_chain = sign_server_certificate(r, "new", env["ca"], os.path.join(r, "ca.key"), key + ".new",
                                            subject="/CN=renewed 127.0.0.1")
        os.rename(key + ".new", key)
        os.rename(new_chain, chain)
        reply = server.monitor("reload")
        check(reply["ok"] is True, f"reload: {reply}")
        for i in range(3):
            check(old.get(f"/old{i}")[0] == 200, "the established TLS connection stopped working")
        new = KeepAliveClient(port, ctx)
        new_der = new.sock.getpeercert(binary_form=True)
        subject = dict(x[0] for x in new.sock.getpeercert()["subject"])
        check(new_der != old_der and subject.get("commonName") == "renewed 127.0.0.1",
              f"a new handshake still sees the old certificate: {subject}")
        check(new.get("/new")[0] == 200, "no answer on the new TLS connection")
        check(old.get("/old-again")[0] == 200, "the old TLS connection stopped working")
        # A key that does not match the certificate: refused with the file's line, the new certificate stays.
        with open(key, "w") as f, open(os.path.join(r, "ca.key")) as other:
            f.write(other.read())
        reply = server.monitor("reload")
        check(reply["ok"] is False and re.search(rf"{re.escape(server.config)}:\d+:", reply["error"]),
              f"reload with a mismatched key: {reply}")
        third = KeepAliveClient(port, ctx)
        check(third.sock.getpeercert(binary_form=True) == new_der and third.get("/x")[0] == 200,
              "the refused reload changed the certificate in use")
        for c in (old, new, third):
            c.close()
    finally:
        stop_server(server)


@suite.case("40 reloads in a row under keep-alive load, alternating two files: no failed request, nothing leaked",
            timeout=90)
def many_reloads():
    web, extra_port = free_port(), free_port()
    pool = "pool = { idle_per_backend = 2; };"
    a = config_text(backends_cfg(["1", "2"]), [f'name = "web"; backends = ["1", "2"]; {pool}'],
                    [("127.0.0.1", web, False, "web")], SERVER_EXTRA)
    b = config_text(backends_cfg(["2", "3"]), [f'name = "web"; backends = ["2", "3"]; policy = "url_hash"; {pool}'],
                    [("127.0.0.1", web, False, "web"), ("127.0.0.1", extra_port, False, "web")], SERVER_EXTRA)
    server = start_server("many", a, [web])
    try:
        with Load(web, connections=4, prefix="/m") as load:
            for i in range(40):
                write_config(server, b if i % 2 == 0 else a)
                reply = server.monitor("reload")
                check(reply["ok"] is True, f"reload {i}: {reply}")
                time.sleep(0.05)
        failed = [r for r in load.records if r[1] != 200]
        check(len(load.records) > 200 and not failed, f"{len(failed)} of {len(load.records)} failed: {failed[:3]}")
        meta = server.status_meta()
        check(meta["config_generation"] == 41, f"generation {meta['config_generation']}")
        rows = server.backends()
        check(all(r["open_conns"] == 0 for r in rows.values()), f"requests counted in flight: {rows}")
        wait_until(lambda: server.counters()["connections_open"] == 0, 5,
                   what="every client connection to be closed")
        check(server.proc.poll() is None, "the server died")
    finally:
        stop_server(server)


def established_to(backend_key):
    """TCP connections established to a back end (only the proxy under test connects to it)."""
    n = env["nginx"][backend_key]
    cp = run(["ss", "-Htn", "state", "established", "dst", f"{n.address}:{n.port}"])
    return len([line for line in cp.stdout.splitlines() if line.strip()])


@suite.case("idle pooled back-end connections: kept across a reload for a back end that continues, closed for a "
            "removed one")
def pools():
    p1, p2 = free_port(), free_port()
    services = ['name = "one"; backends = ["1"]; pool = { idle_per_backend = 4; idle_timeout_ms = 60000; };',
                'name = "two"; backends = ["2"]; pool = { idle_per_backend = 4; idle_timeout_ms = 60000; };']
    before = config_text(backends_cfg(["1", "2"]), services,
                         [("127.0.0.1", p1, False, "one"), ("127.0.0.1", p2, False, "two")], SERVER_EXTRA)
    after = config_text(backends_cfg(["1"]), services[:1], [("127.0.0.1", p1, False, "one")], SERVER_EXTRA)
    server = start_server("pools", before, [p1, p2])
    try:
        # Sequential requests on new connections: the kernel spreads them over both workers, each keeps one idle.
        for i in range(20):
            check(one_request(p1, f"/p{i}")[0] == 200 and one_request(p2, f"/q{i}")[0] == 200, "warm-up")
        check(established_to("2") >= 1, "no pooled connection to back end 2")
        reuses = server.backends()["1"]["pooled_reuses"]
        check(reuses > 0, "back end 1's pool was never used")
        write_config(server, after)
        reply = server.monitor("reload")
        check(reply["ok"] is True, f"reload: {reply}")
        wait_until(lambda: established_to("2") == 0, 5, what="the removed back end's pooled connections to close")
        for i in range(4):
            check(one_request(p1, f"/after{i}")[0] == 200, "after the reload")
        got = server.backends()["1"]["pooled_reuses"] - reuses
        check(got == 4, f"{got} of 4 requests after the reload used a pooled connection kept from before")
    finally:
        stop_server(server)


@suite.case("the operator's drain and the back end's counters carry over a reload; the access log is reopened")
def admin_state_carried():
    port = free_port()
    log = os.path.join(env["root"].path, "reload-access.log")
    extra = SERVER_EXTRA + f'\n  access_log = "{log}";'
    services = lambda keys: [f'name = "web"; backends = [{", ".join(chr(34) + k + chr(34) for k in keys)}]; '
                             'policy = "least_conn";']
    before = config_text(backends_cfg(["1", "2"]), services(["1", "2"]), [("127.0.0.1", port, False, "web")], extra)
    after = config_text(backends_cfg(["1", "2", "3"]), services(["1", "2", "3"]), [("127.0.0.1", port, False, "web")],
                        extra)
    server = start_server("admin", before, [port])
    try:
        for i in range(10):
            check(one_request(port, f"/warm{i}")[0] == 200, "warm-up")
        hits_before = server.backends()["2"]["hits"]
        check(hits_before > 0, "back end 2 got no request")
        reply = server.monitor("backend 2 drain")
        check(reply["ok"] is True, f"drain: {reply}")
        os.rename(log, log + ".1")  # log rotation: the reload reopens the configured path
        write_config(server, after)
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: server.status_meta()["config_generation"] == 2, 10, what="generation 2")
        rows = server.backends()
        check(rows["2"]["state"] == "drain", f"back end 2 is {rows['2']['state']} after the reload")
        check(rows["2"]["hits"] == hits_before, f"back end 2's hits went from {hits_before} to {rows['2']['hits']}")
        seen = [one_request(port, f"/after{i}")[1] for i in range(12)]
        check("2" not in seen and "3" in seen, f"after the reload requests went to {seen}")
        wait_until(lambda: os.path.exists(log) and "/after" in open(log).read(), 5, what="the reopened access log")
        check("/after" not in open(log + ".1").read(), "requests after the reload went to the rotated log")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main(suite, setup, teardown)
