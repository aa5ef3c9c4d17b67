"""Helpers for the dlba-server integration tests (run by meson with Debian's /usr/bin/python3).

- TAP: one line per test case, diagnostics as '# ' lines; every case has a time limit (SIGALRM).
- A temporary directory per run holding every config, log, certificate and pid file; removed at the end.
- Real back ends: Debian's nginx, each with its own prefix, config, pid file and logs, on its own 127.0.0.x
  address; each answers which back end it is (body "backend N", header X-Backend: N) and sets the session cookie
  JSESSIONID on /login. A small Python back end echoes request bodies (digest, length, framing) for body tests.
- dlba-server processes started from a generated config and stopped with SIGTERM (then SIGKILL), bounded waits.
- Every loop is bounded in count and time; everything started is stopped in `finally`/atexit.
"""
import atexit
import hashlib
import http.server
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PYTHON = "/usr/bin/python3"


class TestFailure(Exception):
    pass


class CaseTimeout(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def wait_until(fn, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        if time.monotonic() >= deadline:
            raise TestFailure(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last})" if last else ""))
        time.sleep(interval)


def free_port(address="127.0.0.1"):
    """A TCP port nobody listens on at `address` right now."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def port_open(address, port):
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def run(cmd, timeout=30, check_rc=True, input=None):
    try:
        cp = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout, input=input,
                            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"command timed out after {timeout}s: {' '.join(map(str, cmd))}") from e
    if check_rc and cp.returncode != 0:
        raise TestFailure(f"command failed ({cp.returncode}): {' '.join(map(str, cmd))}\n"
                          f"{cp.stdout.decode(errors='replace')}{cp.stderr.decode(errors='replace')}")
    return cp


# ---- processes --------------------------------------------------------------------------------------------------

_processes = []


def stop_process(p, timeout=10):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def _stop_all():
    for p in reversed(_processes):
        try:
            stop_process(p, timeout=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_stop_all)


def start_process(cmd, log_path, **kw):
    log = open(log_path, "ab")
    p = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         **kw)
    log.close()
    _processes.append(p)
    return p


# ---- back ends --------------------------------------------------------------------------------------------------

class Nginx:
    """One nginx back end on address:port with its own prefix under `root`."""

    def __init__(self, root, index, address, port, extra_locations=""):
        self.index = index
        self.address = address
        self.port = port
        self.dir = os.path.join(root, f"nginx{index}")
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.www, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "dav"), exist_ok=True)
        d = self.dir
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
# One process (no master): killing it kills the back end, with no orphaned worker left listening.
master_process off;
daemon off;
user root;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  default_type text/plain;
  keepalive_requests 100000;
  server {{
    listen {address}:{port} reuseport;
    root {self.www};
    add_header X-Backend {index} always;
    location = /login {{
      add_header Set-Cookie "JSESSIONID=session-{index}-$connection; Path=/; Max-Age=3600; HttpOnly" always;
      add_header X-Backend {index} always;
      return 200 "login at backend {index}\\n";
    }}
    location = /logout {{
      add_header Set-Cookie "JSESSIONID=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT" always;
      add_header X-Backend {index} always;
      return 200 "logout at backend {index}\\n";
    }}
    location /files/ {{ }}
    location /dav/ {{
      root {d};
      dav_methods PUT;
      client_max_body_size 100m;
      create_full_put_path on;
    }}
    {extra_locations}
    location / {{ return 200 "backend {index}\\n"; }}
  }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = start_process(["nginx", "-c", self.conf, "-p", self.dir + "/"], os.path.join(self.dir, "out.log"))
        wait_until(lambda: port_open(self.address, self.port), 10, what=f"nginx {self.index} to listen")
        return self

    def stop(self):
        if self.proc:
            stop_process(self.proc)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        # nginx's worker process may outlive a SIGKILLed master for a moment; wait until the port is closed.
        wait_until(lambda: not port_open(self.address, self.port), 5, what=f"nginx {self.index} to stop")


class EchoBackend:
    """A Python back end that answers every request with what it received: method, framing, length, SHA-256."""

    def __init__(self, address, port, delay=0.0):
        self.address = address
        self.port = port
        self.delay = delay
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                te = self.headers.get("Transfer-Encoding", "")
                if "chunked" in te.lower():
                    data = b""
                    while True:
                        line = self.rfile.readline(1024)
                        size = int(line.split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                                pass
                            return data, "chunked"
                        data += self.rfile.read(size)
                        self.rfile.readline(8)
                n = int(self.headers.get("Content-Length", "0"))
                return self.rfile.read(n), "length" if "Content-Length" in self.headers else "none"

            def _answer(self):
                data, framing = self._body()
                if outer.delay:
                    time.sleep(outer.delay)
                text = (f"method={self.command} framing={framing} length={len(data)} "
                        f"sha256={hashlib.sha256(data).hexdigest()} "
                        f"xff={self.headers.get('X-Forwarded-For', '')} "
                        f"proto={self.headers.get('X-Forwarded-Proto', '')} "
                        f"cookie={self.headers.get('Cookie', '')}\n").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(text)))
                self.send_header("X-Backend", "echo")
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = do_PUT = _answer

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((address, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---- TLS material ------------------------------------------------------------------------------------------------

def make_certificates(root):
    """A test CA and a server certificate for 127.0.0.1 signed by it. Returns (ca, chain, key) paths."""
    ca_key, ca = os.path.join(root, "ca.key"), os.path.join(root, "ca.pem")
    key, csr, crt = os.path.join(root, "server.key"), os.path.join(root, "server.csr"), os.path.join(root, "server.pem")
    ext = os.path.join(root, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=DLBA test CA"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=127.0.0.1"])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
         "-days", "2", "-extfile", ext])
    chain = os.path.join(root, "chain.pem")
    with open(chain, "w") as out, open(crt) as a, open(ca) as b:
        out.write(a.read() + b.read())
    return ca, chain, key


def ticket_key():
    return os.urandom(80).hex()


# ---- dlba-server ------------------------------------------------------------------------------------------------

ARRAY = """array = { name = "test"; vip = "127.0.0.1"; tcp_ports = [80, 443]; };
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11"; sched_mac = "02:77:00:00:02:01";
    sched_ip = "10.77.0.21"; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12"; sched_mac = "02:77:00:00:02:02";
    sched_ip = "10.77.0.22"; }
);
"""


class DlbaServer:
    def __init__(self, binary, root, name, config_text, node=1):
        self.binary = binary
        self.root = root
        self.name = name
        self.config = os.path.join(root, f"{name}.conf")
        self.log = os.path.join(root, f"{name}.log")
        self.socket = os.path.join(root, f"{name}.sock")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.node = node
        self.proc = None

    def start(self, wait_for=(), netns=None):
        cmd = [self.binary, "--config", self.config, "--node", self.node, "--monitor-socket", self.socket]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.proc = start_process(cmd, self.log)
        wait_until(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, 10,
                   what=f"{self.name} to start")
        check(self.proc.poll() is None, f"{self.name} exited at start:\n{self.log_text()}")
        for address, port in wait_for:
            wait_until(lambda: port_open(address, port), 10, what=f"{self.name} to listen on {port}")
        return self

    def stop(self):
        if self.proc:
            stop_process(self.proc)
            return self.proc.returncode
        return None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def config_text(backends, services, listeners, server_extra="", tls=""):
    """backends: [(key, address, port)], services: [str groups], listeners: [(address, port, tls, service)]."""
    b = ",\n".join(f'  {{ key = "{k}"; address = "{a}"; port = {p}; }}' for k, a, p in backends)
    s = ",\n".join(f"  {{ {x} }}" for x in services)
    l = ",\n".join(f'    {{ address = "{a}"; port = {p}; tls = {"true" if t else "false"}; service = "{sv}"; }}'
                   for a, p, t, sv in listeners)
    return (ARRAY + f"backends = (\n{b}\n);\nservices = (\n{s}\n);\n" +
            f"server = {{\n  listeners = (\n{l}\n  );\n{server_extra}\n}};\n" + tls)


# ---- raw HTTP ----------------------------------------------------------------------------------------------------

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


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else None


# ---- TAP --------------------------------------------------------------------------------------------------------

class Suite:
    def __init__(self):
        self.cases = []
        self.failed = 0

    def case(self, title, timeout=60):
        def register(fn):
            self.cases.append((title, fn, timeout))
            return fn
        return register

    @staticmethod
    def diag(text):
        for line in str(text).rstrip().splitlines():
            print(f"# {line}", flush=True)

    def run(self, setup, teardown, diagnostics=lambda: ""):
        print(f"1..{len(self.cases)}", flush=True)

        def on_alarm(signum, frame):
            raise CaseTimeout("test case took too long")

        signal.signal(signal.SIGALRM, on_alarm)
        setup_error = None
        try:
            try:
                signal.alarm(120)
                setup()
            except Exception as e:  # noqa: BLE001 - reported in TAP; every case fails
                setup_error = f"setup failed: {e}"
                self.diag(traceback.format_exc())
            finally:
                signal.alarm(0)
            for i, (title, fn, timeout) in enumerate(self.cases, 1):
                if setup_error:
                    print(f"not ok {i} - {title}", flush=True)
                    self.diag(setup_error)
                    self.failed += 1
                    continue
                start = time.monotonic()
                try:
                    signal.alarm(timeout)
                    fn()
                    signal.alarm(0)
                    print(f"ok {i} - {title}", flush=True)
                    self.diag(f"{time.monotonic() - start:.1f}s")
                except Exception as e:  # noqa: BLE001
                    signal.alarm(0)
                    self.failed += 1
                    print(f"not ok {i} - {title}", flush=True)
                    if isinstance(e, (TestFailure, CaseTimeout)):
                        self.diag(f"{type(e).__name__}: {e}")
                    self.diag(traceback.format_exc())
                    try:
                        self.diag(diagnostics())
                    except Exception:  # noqa: BLE001
                        pass
        finally:
            signal.alarm(0)
            teardown()
        return 1 if self.failed else 0


class TempRoot:
    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def main_guard(fn):
    try:
        sys.exit(fn())
    except KeyboardInterrupt:
        sys.exit(130)
