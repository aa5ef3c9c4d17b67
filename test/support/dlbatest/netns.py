"""Network namespaces from inside this process: a thread enters one for a block, so that the sockets it makes there
(TCP clients, AF_PACKET, raw ICMP) stay there; and raw frames sent and received on a namespace's interface."""
import contextlib
import ctypes
import os
import socket
import time

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003


@contextlib.contextmanager
def netns(name):
    """The calling thread is in namespace `name` inside the block; sockets made there stay there."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
        yield
    finally:
        if _libc.setns(orig, CLONE_NEWNET) != 0:
            os._exit(99)  # never continue in the wrong namespace
        os.close(orig)
        os.close(target)


def ns_socket(ns, family, kind, proto=0):
    with netns(ns):
        return socket.socket(family, kind, proto)


def packet_socket(ns, dev, ethertype=ETH_P_ALL):
    """AF_PACKET raw socket on DEV in namespace ns (ETH_P_ALL by default)."""
    s = ns_socket(ns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
    s.bind((dev, 0))
    return s


def receive_frames(sock, seconds, match, limit=1000):
    """Frames received on sock for `seconds` for which match(frame bytes) is true (at most `limit`)."""
    out = []
    deadline = time.monotonic() + seconds
    while len(out) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            frame, addr = sock.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if match(frame):
            out.append(frame)
    return out
