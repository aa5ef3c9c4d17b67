"""ARP for the VIP as the router sees it on its LAN port: frames built and parsed by hand (no scapy: fast enough to
ask every 10 ms), a watcher that times who speaks for the VIP, and probes that count who answers."""
import contextlib
import socket
import struct
import threading
import time

from dlbatest.netns import packet_socket, receive_frames
from dlbatest.topo import ROUTER_LAN_IP, ROUTER_LAN_MAC, VIP

ETH_P_ARP = 0x0806


def _mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def _mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def arp_request_frame(mac, sender_ip, target_ip):
    """A broadcast ARP request from `mac` (sender `sender_ip`) for `target_ip`, padded to 60 bytes."""
    src = _mac_bytes(mac)
    frame = b"\xff" * 6 + src + struct.pack("!H", ETH_P_ARP)
    frame += struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src + socket.inet_aton(sender_ip)
    frame += b"\x00" * 6 + socket.inet_aton(target_ip)
    return frame + b"\x00" * (60 - len(frame))


def arp_request(target_ip=VIP):
    """The router's LAN port asking for target_ip."""
    return arp_request_frame(ROUTER_LAN_MAC, ROUTER_LAN_IP, target_ip)


def arp_announcement(mac, ip=VIP):
    """A gratuitous ARP (request, sender = target = ip) from `mac`, broadcast: a host claiming the address."""
    return arp_request_frame(mac, ip, ip)


def parse_arp(frame):
    """(op, sender MAC, sender IP, target IP) of an ARP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    op = struct.unpack("!H", frame[20:22])[0]
    return op, _mac_str(frame[22:28]), socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])


def router_arp_socket(topo):
    """An AF_PACKET socket for ARP on the router's LAN port (eth1)."""
    return packet_socket(topo.ns("router"), "eth1", ETH_P_ARP)


class ArpWatcher:
    """On the router's LAN port: records every ARP frame that speaks for the VIP (answers to our requests and
    gratuitous announcements), and asks for the VIP every `interval` seconds while running. Bounded by max_s."""

    def __init__(self, topo, interval=0.01, max_s=60):
        self.topo = topo
        self.interval = interval
        self.max_s = max_s
        self.seen = []  # (monotonic time, op, sender MAC)
        self.sent = 0
        self._stop = threading.Event()
        self._rx = router_arp_socket(topo)
        self._tx = router_arp_socket(topo)
        self._threads = []

    def __enter__(self):
        self._threads = [threading.Thread(target=self._receive, daemon=True)]
        if self.interval:
            self._threads.append(threading.Thread(target=self._ask, daemon=True))
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        for s in (self._rx, self._tx):
            with contextlib.suppress(OSError):
                s.close()

    def _ask(self):
        req = arp_request()
        deadline = time.monotonic() + self.max_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self._tx.send(req)
                self.sent += 1
            self._stop.wait(self.interval)

    def _receive(self):
        deadline = time.monotonic() + self.max_s
        self._rx.settimeout(0.05)
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                frame, addr = self._rx.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            a = parse_arp(frame)
            if a and a[2] == VIP:
                self.seen.append((time.monotonic(), a[0], a[1], a[3]))

    def first_other(self, since, old_mac):
        """(time, MAC) of the first frame speaking for the VIP after `since` from a MAC other than old_mac."""
        for t, op, mac, target in list(self.seen):
            if t >= since and mac != old_mac:
                return t, mac
        return None

    def first_kinds(self, since, mac):
        """Time after `since` of the first gratuitous announcement and of the first answer to the router's
        requests from `mac` (None when not seen)."""
        garp = answer = None
        for t, op, m, target in list(self.seen):
            if t < since or m != mac:
                continue
            if target == VIP and garp is None:
                garp = t - since
            elif op == 2 and target == ROUTER_LAN_IP and answer is None:
                answer = t - since
        return garp, answer


def arp_probes(topo, count, spacing):
    """Sends `count` ARP requests for the VIP, `spacing` seconds apart; returns, per request, the set of MACs that
    answered it (replies only, within the spacing)."""
    answers = []
    tx = router_arp_socket(topo)
    rx = router_arp_socket(topo)
    try:
        req = arp_request()
        for _ in range(count):
            tx.send(req)
            frames = receive_frames(rx, spacing, lambda f: (lambda a: bool(a) and a[0] == 2 and a[2] == VIP)(
                parse_arp(f)), limit=20)
            answers.append(sorted({parse_arp(f)[1] for f in frames}))
    finally:
        tx.close()
        rx.close()
    return answers
