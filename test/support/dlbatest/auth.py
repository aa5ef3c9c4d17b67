"""Peer authentication from the tests' side (common/auth/envelope.hpp): the fixed test keys the configurations
carry, sealing and opening envelopes, and the messages an attacker (or a replay) would send: heartbeats over UDP,
requests to the TCP peer ports. Sockets are made inside a namespace (dlbatest.netns), so the source address is
that namespace's."""
import hashlib
import hmac
import os
import socket
import struct
import time

from dlbatest.netns import ns_socket

# conf/dlba.conf's key (and test/support/dlbatest/server.py's, test/pcap's): public, for tests only.
TEST_KEY = "6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94"
# Second and third keys for rotation cases, and one nobody holds.
TEST_KEY_2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
TEST_KEY_3 = "9a8b7c6d5e4f30211203f4e5d6c7b8a99aabbccddeeff00112233445566778a1"
UNKNOWN_KEY = "deadbeefcafef00d0123456789abcdef0123456789abcdefdeadbeefcafef00d"

MAGIC = 0x444C4241
HEADER = struct.Struct("!IBBHQQII")
KIND = {"heartbeat": 1, "sync_request": 2, "sync_answer": 3, "sweep_request": 4, "sweep_answer": 5,
        "config_request": 6, "config_answer": 7}
OPERATOR = 0

HEARTBEAT_PORT, SYNC_PORT, STATUS_PORT, CONFIG_PORT = 7102, 7101, 7103, 7104


def now_us():
    return time.time_ns() // 1000


def key_id(key):
    """auth::key_id: what `dlbactl failover` shows of a key (auth.key_ids, the signing key first)."""
    return hmac.new(bytes.fromhex(key), b"dlba key id", hashlib.sha256).hexdigest()[:8]


def seal(kind, sender, payload, key=TEST_KEY, counter=None, nonce=None):
    """An envelope: header, payload, HMAC-SHA256 over both with `key` (hex)."""
    counter = now_us() if counter is None else counter
    nonce = (int.from_bytes(os.urandom(8), "big") or 1) if nonce is None else nonce
    head = HEADER.pack(MAGIC, 1, KIND[kind], sender, counter, nonce, len(payload), 0)
    return head + payload + hmac.new(bytes.fromhex(key), head + payload, hashlib.sha256).digest()


def parse(data):
    """(kind, sender, counter, nonce, payload) of an envelope (the tag is not checked), or None."""
    if len(data) < HEADER.size + 32:
        return None
    magic, fmt, kind, sender, counter, nonce, length, _ = HEADER.unpack_from(data)
    if magic != MAGIC or fmt != 1 or len(data) != HEADER.size + length + 32:
        return None
    return kind, sender, counter, nonce, data[HEADER.size:HEADER.size + length]


def nonce_of(data):
    return HEADER.unpack_from(data)[5]


def heartbeat(node, term, active=True, dataplane_ok=True, table_version=0, config_id=0, load=255):
    """common/heartbeat.hpp's 40 bytes, format 2 (the load byte: 0..100, 255 not known)."""
    flags = (1 if active else 0) | (2 if dataplane_ok else 0)
    return struct.pack("!IHHQQQBB6x", 0x444C4248, 2, node, term, table_version, config_id, flags, load)


def send_udp(ns, dst_ip, port, data):
    s = ns_socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(data, (dst_ip, port))
    finally:
        s.close()


def read_envelope(sock):
    """One envelope from a stream socket, or b"" when the peer closes first."""
    data = b""
    while len(data) < HEADER.size:
        chunk = sock.recv(HEADER.size - len(data))
        if not chunk:
            return data
        data += chunk
    length = HEADER.unpack_from(data)[6]
    want = HEADER.size + length + 32
    while len(data) < want:
        chunk = sock.recv(min(65536, want - len(data)))
        if not chunk:
            return data
        data += chunk
    return data


def exchange(ns, dst_ip, port, data, timeout=3, src_port=0):
    """Sends `data` on a TCP connection made in namespace ns; returns what came back until the peer closed (b""
    when it closed unanswered). None when the connection could not be made."""
    s = ns_socket(ns, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src_port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", src_port))
        try:
            s.connect((dst_ip, port))
        except OSError:
            return None
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def tcp_reachable(ns, dst_ip, port, timeout=1.0):
    s = ns_socket(ns, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((dst_ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()
