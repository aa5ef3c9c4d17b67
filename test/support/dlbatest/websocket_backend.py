"""A WebSocket echo back end (Debian's python3-websockets 10.4) for the upgrade tests, run as its own process so
that a test can kill it mid-tunnel:

    /usr/bin/python3 -m dlbatest.websocket_backend NAME ADDRESS PORT

WebSocket: every message comes back as it was sent (no compression, no size limit, no pings). Its 101 carries
`X-Backend: NAME`, and on paths under /login a `Set-Cookie: JSESSIONID=...` (a session the cookie policy follows).
Plain HTTP on the same port: /plain answers 200 with the request's Upgrade and Connection fields as it received them
(JSON), /stats the number of WebSocket connections open now, /deny a 403 (a refused handshake)."""
import asyncio
import http
import json
import os
import sys

from dlbatest.procs import Proc
from dlbatest.tap import wait_until
from dlbatest.http_client import port_open


class WebSocketBackend:
    """The back end as a child process of the test (stopped at exit by Proc)."""

    def __init__(self, root, name, address, port):
        self.name, self.address, self.port = name, address, port
        self.log = os.path.join(root, f"ws-{name}.log")
        self.proc = None

    def start(self):
        support = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=support)
        self.proc = Proc(["/usr/bin/python3", "-m", "dlbatest.websocket_backend", self.name, self.address,
                          str(self.port)], self.log, name=f"ws-{self.name}", env=env)
        wait_until(lambda: port_open(self.address, self.port) or self.proc.poll() is not None, 10,
                   what=f"WebSocket back end {self.name} to listen")
        return self

    def kill(self):
        """kill -9: its sockets are closed by the kernel, no WebSocket close frame."""
        if self.proc:
            self.proc.kill_and_wait()

    def stop(self):
        if self.proc:
            self.proc.stop(timeout=3)


def main():
    import logging

    import websockets  # Debian's python3-websockets; only the back end process needs it

    logging.basicConfig(level=logging.DEBUG if os.environ.get("DLBA_WS_DEBUG") else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")

    name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    open_connections = set()

    async def echo(ws):
        open_connections.add(ws)
        try:
            async for message in ws:
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            open_connections.discard(ws)

    async def process_request(path, headers):
        def answer(status, body):
            return status, [("X-Backend", name), ("Content-Type", "application/json")], json.dumps(body).encode()

        if path.startswith("/plain"):
            return answer(http.HTTPStatus.OK, {"backend": name, "upgrade": headers.get("Upgrade"),
                                               "connection": headers.get("Connection")})
        if path.startswith("/stats"):
            return answer(http.HTTPStatus.OK, {"backend": name, "open": len(open_connections)})
        if path.startswith("/deny"):
            return answer(http.HTTPStatus.FORBIDDEN, {"backend": name, "denied": True})
        return None

    def extra_headers(path, headers):
        out = [("X-Backend", name)]
        if path.startswith("/login"):
            out.append(("Set-Cookie", f"JSESSIONID={os.urandom(8).hex()}; Path=/"))
        return out

    async def serve():
        async with websockets.serve(echo, address, port, process_request=process_request,
                                    extra_headers=extra_headers, compression=None, max_size=None,
                                    ping_interval=None, max_queue=16):
            await asyncio.Future()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
