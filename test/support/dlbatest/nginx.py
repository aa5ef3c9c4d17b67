"""Real back ends for the dlba-server tests, on loopback: Debian's nginx, each with its own prefix, config, pid
file and logs on its own 127.0.0.x address, answering which back end it is (body "backend N", header X-Backend: N)
and setting the session cookie JSESSIONID on /login; and a small Python back end that echoes what it received
(method, framing, length, digest, forwarding headers) for the body tests."""
import hashlib
import http.server
import os
import socketserver
import threading
import time

from dlbatest.http_client import port_open
from dlbatest.procs import Proc
from dlbatest.tap import wait_until


class Nginx:
    """One nginx back end on address:port with its own prefix under `root`."""

    def __init__(self, root, index, address, port, extra_locations="", tls=None):
        """tls: (certificate chain, key) to listen with TLS only; its access log then records, per request,
        `$ssl_protocol $ssl_session_reused $connection $connection_requests $request`."""
        self.index = index
        self.address = address
        self.port = port
        self.dir = os.path.join(root, f"nginx{index}")
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.www, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "dav"), exist_ok=True)
        d = self.dir
        self.conf = os.path.join(d, "nginx.conf")
        self.access_log = os.path.join(d, "access.log")
        listen = f"listen {address}:{port} reuseport;"
        log_format = ""
        access_log = f"access_log {d}/access.log;"
        if tls:
            listen = (f"listen {address}:{port} ssl reuseport;\n    ssl_certificate {tls[0]};\n"
                      f"    ssl_certificate_key {tls[1]};\n    ssl_protocols TLSv1.2 TLSv1.3;")
            log_format = ('log_format tlsinfo "$ssl_protocol $ssl_session_reused $connection '
                          '$connection_requests $request";')
            access_log = f"access_log {d}/access.log tlsinfo;"
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
  {log_format}
  {access_log}
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  default_type text/plain;
  keepalive_requests 100000;
  server {{
    {listen}
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
        self.proc = Proc(["nginx", "-c", self.conf, "-p", self.dir + "/"], os.path.join(self.dir, "out.log"))
        wait_until(lambda: port_open(self.address, self.port), 10, what=f"nginx {self.index} to listen")
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()

    def kill(self):
        if self.proc:
            self.proc.kill_and_wait()
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


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def write_big_file(backends, size, name="files/big.bin"):
    """The same `size` bytes (a whole number of MiB, random) at www/NAME of every back end; returns their
    sha256."""
    block = os.urandom(1 << 20)
    for b in backends:
        path = os.path.join(b.www, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            for i in range(size >> 20):
                f.write(hashlib.sha256(block + bytes([i])).digest() * 32768)
    return sha256_file(path)
