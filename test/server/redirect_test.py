"""Redirect services (seed 002's HTTP redirection) against real nginx back ends named webN.test, with curl:
the first answer is a 302 that keeps the path and the query and following it reaches web N; weights 2:1:1 over
300 redirects land at 50/25/25 %; a disabled back end is never named and its backup (a back end of another
service) takes its requests; 301/307/308 and redirect_close are honoured; cookie persistence sets SpServer; the
counters and the access log say redirect; a bad template is refused with file:line by --check-config and
check-reload.
Usage: redirect_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import os
import re
import socket
import subprocess
import sys

from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import ARRAY, DlbaServer, stop_env
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/redirect", setup_timeout=120)
env = {}

# Listener offsets from env["port"], one per service.
MAIN, C301, C307, C308, CLOSE, STICKY = range(6)


def config(port, log, web1_template=None):
    ws = env["nginx"]
    t = [f"http://web{n.index}.test:{n.port}/%d%q" for n in ws]
    if web1_template:
        t[0] = web1_template
    return ARRAY + f"""backends = (
  {{ key = "web1"; redirect = "{t[0]}"; weight = 2; backup = "web4"; }},
  {{ key = "web2"; redirect = "{t[1]}"; }},
  {{ key = "web3"; redirect = "{t[2]}"; }},
  {{ key = "web4"; redirect = "{t[3]}"; }}
);
services = (
  {{ name = "www"; mode = "redirect"; backends = ["web1", "web2", "web3"]; policy = "round_robin"; }},
  {{ name = "moved"; mode = "redirect"; backends = ["web2"]; redirect_code = 301; }},
  {{ name = "temporary"; mode = "redirect"; backends = ["web2"]; redirect_code = 307; }},
  {{ name = "permanent"; mode = "redirect"; backends = ["web2"]; redirect_code = 308; }},
  {{ name = "closing"; mode = "redirect"; backends = ["web3"]; redirect_close = true; }},
  {{ name = "sticky"; mode = "redirect"; backends = ["web2", "web3"]; policy = "cookie";
     session_cookie = "JSESSIONID"; }},
  {{ name = "spare"; mode = "redirect"; backends = ["web4"]; }}
);
server = {{
  workers = 2;
  access_log = "{log}";
  listeners = (
{",".join(f'    {{ address = "127.0.0.1"; port = {port + i}; service = "{s}"; }}'
          for i, s in enumerate(["www", "moved", "temporary", "permanent", "closing", "sticky"]))}
  );
}};
"""


def setup():
    root = TempDir("dlba-redirect-")
    env["root"] = root
    r = root.path
    env["nginx"] = []
    for i in range(4):
        address = f"127.0.0.{61 + i}"
        n = Nginx(r, i + 1, address, free_port(address), extra_locations=f"server_name web{i + 1}.test;")
        n.start()
        env["nginx"].append(n)
    port = free_ports(6)
    env["port"] = port
    env["access_log"] = os.path.join(r, "access.log")
    env["server"] = DlbaServer(SERVER_BIN, r, "s", config(port, env["access_log"])).start(
        wait_for=[("127.0.0.1", port + i) for i in range(6)])


def teardown():
    stop_env(env)


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def resolves():
    """curl --resolve for www.test (the service) and every webN.test (the back ends)."""
    args = []
    for i in range(6):
        args += ["--resolve", f"www.test:{env['port'] + i}:127.0.0.1"]
    for n in env["nginx"]:
        args += ["--resolve", f"web{n.index}.test:{n.port}:{n.address}"]
    return args


def curl(*args, timeout=60):
    cp = subprocess.run(["curl", "-sS", "--max-time", "30", *resolves(), *args], capture_output=True, text=True,
                        timeout=timeout)
    check(cp.returncode == 0, f"curl {' '.join(args)}: rc {cp.returncode}: {cp.stderr}")
    return cp.stdout


def head_of(text):
    """(status, {lower-case name: value}) of the first answer in curl -i output."""
    lines = [l.rstrip("\r") for l in text.split("\n")]  # text mode may have turned CRLF into LF already
    status = int(lines[0].split()[1])
    fields = {}
    for l in lines[1:]:
        if not l:
            break
        k, _, v = l.partition(":")
        fields[k.strip().lower()] = v.strip()
    return status, fields


def url(offset, path):
    return f"http://www.test:{env['port'] + offset}{path}"


def web_of(location):
    m = re.match(r"http://web(\d)\.test:\d+/", location or "")
    return int(m.group(1)) if m else None


def locations(offset, count, path="/p"):
    """The Location of `count` requests on one kept-alive curl connection."""
    out = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}\\n", *[url(offset, path)] * count)
    rows = [l.split(" ", 1) for l in out.splitlines() if l]
    check(len(rows) == count and all(r[0] == "302" for r in rows), f"statuses: {[r[0] for r in rows][:20]}")
    return [r[1] for r in rows]


@suite.case("the first answer is a 302 that keeps the path and the query; following it reaches web N")
def first_redirect():
    status, h = head_of(curl("-i", url(MAIN, "/shop/cart.html?item=7&n=2")))
    print(f"# 302 Location: {h.get('location')}", flush=True)
    check(status == 302, f"status {status}")
    n = web_of(h.get("location"))
    check(n in (1, 2, 3), f"Location {h.get('location')}")
    web = env["nginx"][n - 1]
    check(h["location"] == f"http://web{n}.test:{web.port}/shop/cart.html?item=7&n=2", f"Location {h['location']}")
    check(h.get("content-length") == "0" and "connection" not in h, f"fields {h}")
    # -L: curl follows to web N (nginx on its own address) and gets its answer.
    out = curl("-L", "-w", "\\n%{url_effective} %{num_redirects}", url(MAIN, "/x?y=1"))
    body, last = out.rsplit("\n", 1)
    body = body.strip()
    n = web_of(last.split()[0])
    check(n is not None and body == f"backend {n}" and last.endswith(" 1"), f"followed: {out!r}")
    # No query: none in the Location either.
    status, h = head_of(curl("-i", url(MAIN, "/plain")))
    check(h["location"].endswith("/plain"), f"Location {h['location']}")


@suite.case("weights 2:1:1 over 300 redirects (round_robin): 50/25/25 % within 5 points")
def weights():
    got = [web_of(l) for l in locations(MAIN, 300)]
    shares = {n: got.count(n) / len(got) * 100 for n in (1, 2, 3)}
    print(f"# shares over 300: web1 {shares[1]:.1f} %, web2 {shares[2]:.1f} %, web3 {shares[3]:.1f} %", flush=True)
    check(abs(shares[1] - 50) <= 5 and abs(shares[2] - 25) <= 5 and abs(shares[3] - 25) <= 5, f"shares {shares}")
    # Weighted turns interleave: never more than two web1 in a row.
    check("1,1,1" not in ",".join(map(str, got)), f"sequence {got[:24]}")


@suite.case("web1 disabled: no Location names it and its backup web4 (another service's) receives its share")
def backup():
    sock = env["server"].socket
    cp = subprocess.run([DLBACTL, "-s", sock, "backend", "web1", "disable"], capture_output=True, text=True,
                        timeout=10)
    check(cp.returncode == 0, f"dlbactl backend web1 disable: {cp.stdout}{cp.stderr}")
    try:
        got = [web_of(l) for l in locations(MAIN, 80)]
        print(f"# disabled web1 over 80: web2 {got.count(2)}, web3 {got.count(3)}, web4 {got.count(4)}, "
              f"web1 {got.count(1)}", flush=True)
        check(1 not in got, f"web1 named: {got}")
        check(30 <= got.count(4) <= 50, f"web4 (the backup) got {got.count(4)} of 80")
        # Following a backup redirect reaches web4's nginx.
        body = ""
        for _ in range(8):
            body = curl("-L", url(MAIN, "/b")).strip()
            if body == "backend 4":
                break
        check(body == "backend 4", f"never followed to web4: {body!r}")
        row = env["server"].backends()
        check(row["web4"]["redirects"] >= got.count(4) and row["web1"]["state"] == "disabled", f"rows {row}")
    finally:
        subprocess.run([DLBACTL, "-s", sock, "backend", "web1", "enable"], capture_output=True, timeout=10)
    got = [web_of(l) for l in locations(MAIN, 8)]
    check(1 in got and 4 not in got, f"after enable: {got}")


@suite.case("redirect_code 301, 307 and 308 are honoured, the connection kept")
def codes():
    for offset, code in ((C301, 301), (C307, 307), (C308, 308)):
        out = curl("-i", url(offset, "/a?b"), url(offset, "/c"), "-w", "%{num_connects}\\n")
        status, h = head_of(out)
        print(f"# {code}: status {status}, Location {h.get('location')}", flush=True)
        check(status == code and web_of(h.get("location")) == 2 and h["location"].endswith("/a?b"),
              f"{code}: {status} {h}")
        connects = [int(x) for x in re.findall(r"^(\d+)$", out, re.M)]
        check(connects == [1, 0], f"{code}: connections opened per request {connects} (keep-alive expected)")


@suite.case("redirect_close: Connection: close and the connection closed after the answer")
def close():
    with socket.create_connection(("127.0.0.1", env["port"] + CLOSE), timeout=10) as s:
        s.sendall(b"GET /z?q=1 HTTP/1.1\r\nHost: www.test\r\n\r\nGET /again HTTP/1.1\r\nHost: www.test\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode()
    print(f"# closing service answered {len(data)} bytes: {text.splitlines()[0]!r}, then EOF", flush=True)
    check(text.count("HTTP/1.1 302") == 1, f"answers: {text!r}")
    check("\r\nConnection: close\r\n" in text and re.search(r"Location: http://web3\.test:\d+/z\?q=1\r\n", text),
          f"answer: {text!r}")
    # The keep-alive service answers both requests on one connection.
    with socket.create_connection(("127.0.0.1", env["port"] + C301), timeout=10) as s:
        s.sendall(b"GET /1 HTTP/1.1\r\nHost: www.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: www.test\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 301") < 2:
            chunk = s.recv(65536)
            check(chunk, f"closed after {data!r}")
            data += chunk
    check(b"Connection: close" not in data, f"keep-alive answers: {data!r}")


@suite.case("cookie persistence: a new client gets SpServer for the chosen back end and keeps it")
def sticky():
    status, h = head_of(curl("-i", url(STICKY, "/login")))
    cookie = h.get("set-cookie", "")
    m = re.match(r"SpServer=(web\d); Path=/", cookie)
    check(status == 302 and m, f"first answer {status} {h}")
    key = m.group(1)
    out = curl("-o", "/dev/null", "-w", "%{redirect_url}\\n", "-H", f"Cookie: SpServer={key}",
               *[url(STICKY, "/p")] * 12)
    named = {web_of(l) for l in out.splitlines()}
    check(named == {int(key[3])}, f"with SpServer={key}: {named}")
    status, h = head_of(curl("-i", "-H", f"Cookie: SpServer={key}", url(STICKY, "/p")))
    check("set-cookie" not in h, f"a request the cookie decided got {h.get('set-cookie')}")


@suite.case("counters: redirects per back end in the table; the access log says redirect")
def counted():
    rows = env["server"].backends()
    print("# redirects: " + ", ".join(f"{k} {rows[k]['redirects']}" for k in sorted(rows)), flush=True)
    check(rows["web1"]["redirects"] >= 150 and rows["web2"]["redirects"] >= 75, f"rows {rows}")
    check(all(rows[k]["hits"] == 0 and rows[k]["open_conns"] == 0 for k in rows), f"no connection opened: {rows}")

    def lines():
        with open(env["access_log"]) as f:
            return [l for l in f.read().splitlines() if " redirect" in l]
    ls = wait_until(lambda: (lambda x: x if len(x) >= 300 else None)(lines()), 5, what="access log lines")
    print(f"# e.g. {ls[-1]}", flush=True)
    check(re.search(r'"GET /p" 302 \d+ web\d \d+ms round_robin redirect$', "\n".join(ls), re.M),
          f"access log: {ls[-3:]}")


@suite.case("a bad template is refused with file:line by --check-config and by check-reload")
def refused():
    r = env["root"].path
    bad = os.path.join(r, "bad.conf")
    with open(bad, "w") as f:
        f.write(config(env["port"], env["access_log"], web1_template="http://web1.test/%x"))
    line = next(i for i, l in enumerate(open(bad).read().splitlines(), 1) if "%x" in l)
    cp = subprocess.run([SERVER_BIN, "--config", bad, "--node", "1", "--check-config"], capture_output=True,
                        text=True, timeout=10)
    print(f"# --check-config: rc {cp.returncode}: {(cp.stdout + cp.stderr).strip()}", flush=True)
    check(cp.returncode != 0 and f"{bad}:{line}:" in cp.stdout + cp.stderr and "unknown macro '%x'" in
          cp.stdout + cp.stderr, f"--check-config: {cp.returncode} {cp.stdout}{cp.stderr}")
    reply = env["server"].monitor(f"check-reload {bad}")
    check(reply["ok"] is False and f"{bad}:{line}:" in reply["error"], f"check-reload: {reply}")
    with open(bad, "w") as f:
        f.write(config(env["port"], env["access_log"], web1_template="/relative/%d"))
    reply = env["server"].monitor(f"check-reload {bad}")
    check(reply["ok"] is False and f"{bad}:{line}:" in reply["error"] and "absolute" in reply["error"],
          f"check-reload: {reply}")
    # The running configuration still serves.
    check(web_of(locations(MAIN, 1)[0]) in (1, 2, 3), "not serving after the refusals")


if __name__ == "__main__":
    main(suite, setup, teardown)
