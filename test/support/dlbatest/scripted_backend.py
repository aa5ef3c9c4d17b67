"""A scripted back end on loopback: it answers each request with exactly the bytes a test gives it (malformed
framing included), and records which connection each request came on and when the proxy closed a connection, so a
test can see whether a connection was reused.

    backend = ScriptedBackend("127.0.0.31", port).start()
    backend.script(b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nContent-Length: 4\\r\\n\\r\\nabcd")
    ... one request through the proxy ...
    backend.last_request()  # (connection number, request head)

Requests take the scripted answers in order, whatever connection they come on; with none left they get a clean one
(200, Content-Length: 2, body "ok", X-Conn: <connection number>). An answer is bytes, or an Answer: segments sent with
a pause before each, and whether to close the connection after it. Every socket read is bounded; threads are daemons
and stop() closes everything."""
import socket
import threading
import time


class Answer:
    """segments: bytes, or (pause_s, bytes) sent after sleeping pause_s; close: close the connection after it."""

    def __init__(self, *segments, close=False):
        self.segments = [s if isinstance(s, tuple) else (0.0, s) for s in segments]
        self.close = close


def clean_answer(conn):
    return Answer(f"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Conn: {conn}\r\n\r\nok".encode())


class ScriptedBackend:
    def __init__(self, address, port):
        self.address = address
        self.port = port
        self._lock = threading.Lock()
        self._answers = []
        self._requests = []  # (connection number, request head)
        self._closed = set()  # numbers of the connections that have ended
        self._connections = 0
        self._socks = []
        self._stopping = False
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((address, port))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.close()
                except OSError:
                    pass

    def script(self, *answers):
        """The next requests' answers, in order (bytes or Answer)."""
        with self._lock:
            self._answers.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    def requests(self):
        with self._lock:
            return list(self._requests)

    def last_request(self):
        with self._lock:
            return self._requests[-1] if self._requests else (None, b"")

    def connections(self):
        with self._lock:
            return self._connections

    def closed(self, conn):
        """True once connection number `conn` has ended: the proxy closed it (or an Answer with close did)."""
        with self._lock:
            return conn in self._closed

    def _accept_loop(self):
        while not self._stopping:
            try:
                s, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._connections += 1
                n = self._connections
                self._socks.append(s)
            threading.Thread(target=self._serve, args=(s, n), daemon=True).start()

    def _serve(self, s, n):
        s.settimeout(30)
        buf = b""
        try:
            while not self._stopping:
                while b"\r\n\r\n" not in buf:
                    b = s.recv(65536)
                    if not b:
                        return
                    buf += b
                head, buf = buf.split(b"\r\n\r\n", 1)
                with self._lock:
                    self._requests.append((n, head))
                    answer = self._answers.pop(0) if self._answers else clean_answer(n)
                for pause, data in answer.segments:
                    if pause:
                        time.sleep(pause)
                    s.sendall(data)
                if answer.close:
                    return
        except OSError:
            pass  # reset by the proxy: closed as well
        finally:
            with self._lock:
                self._closed.add(n)
            try:
                s.close()
            except OSError:
                pass
