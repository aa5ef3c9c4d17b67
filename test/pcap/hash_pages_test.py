#!/usr/bin/python3
"""`dlbactl hash --all` over more than one page: the scheduler answers a page of 65,536 assigned buckets at a time
and dlbactl must fetch and join every page. 120,000 SYNs from distinct client addresses (a raw pcap written here,
no scapy: it is fast) go through the real binary on net_pcap into a 262,144-bucket table, leaving ~95,000 buckets
assigned; the listing must hold exactly the number the table's meta counts, each bucket once, in order.

usage: hash_pages_test.py DLBA_SCHEDULER DLBACTL
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taplib  # noqa: E402

RESULTS = taplib.Results()
check = RESULTS.check
FRAMES = 120000
PAGE = 65536  # ControlPlane::kHashPageRows

CONFIG = """
array = { name = "pages"; vip = "10.77.0.100"; tcp_ports = [80]; };
scheduler = { table_size = 262144; bucket_idle_timeout = 300; control_socket = "%s"; };
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11"; sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12"; sched_mac = "02:77:00:00:02:02"; sched_ip = "10.77.0.22"; }
);
"""


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn_frame(i):
    src = (10 << 24) | (78 << 16) | (i // 50000 << 8)  # 10.78.x.0/24 blocks, 50,000 ports each
    sport = 10000 + i % 50000
    tcp = struct.pack("!HHIIBBHHH", sport, 80, i, 0, 5 << 4, 0x02, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, struct.pack("!I", src),
                     bytes([10, 77, 0, 100]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex("027700000201" "027700000001") + b"\x08\x00"  # to the scheduler port from the router
    return eth + ip + tcp


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(FRAMES):
            fr = syn_frame(i)
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)) + fr)


def ctl(dlbactl, sock, *args):
    cp = subprocess.run([dlbactl, "-s", sock, "--json", "--timeout", "10000", *args], capture_output=True, text=True,
                        timeout=120)
    return cp.returncode, cp.stdout, cp.stderr


def main():
    sched, dlbactl = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="dlba-pages-")
    proc = None
    try:
        sock = os.path.join(work, "s.sock")
        conf = os.path.join(work, "dlba.conf")
        with open(conf, "w") as f:
            f.write(CONFIG % sock)
        pcap = os.path.join(work, "in.pcap")
        write_pcap(pcap)
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0", "--log-level=error",
               "--file-prefix", "dlba-pages-%d" % os.getpid(),
               "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (pcap, os.path.join(work, "out.pcap"))]
        proc = subprocess.Popen([sched, *eal, "--", "--config", conf, "--node", "1", "--role", "active"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        rx = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(sock):
                rc, out, _ = ctl(dlbactl, sock, "counters")
                if rc == 0:
                    rx = dict(json.loads(out)["rows"]).get("rx", 0)
                    if rx >= FRAMES:
                        break
            time.sleep(0.2)
        check(rx == FRAMES, "the scheduler received every SYN", "rx=%s want %d" % (rx, FRAMES))
        rc, out, err = ctl(dlbactl, sock, "hash")
        assigned = json.loads(out)["meta"]["assigned"] if rc == 0 else 0
        check(assigned > PAGE, "more buckets assigned than one page holds", "assigned=%s (rc %s %s)" % (assigned, rc, err))
        rc, out, err = ctl(dlbactl, sock, "hash", "--all")
        doc = json.loads(out) if rc == 0 else {"rows": [], "meta": {}}
        buckets = [r[0] for r in doc["rows"]]
        print("# %d SYNs, %d buckets assigned, hash --all listed %d rows" % (FRAMES, assigned, len(buckets)))
        check(rc == 0 and len(buckets) == assigned > PAGE, "hash --all lists every assigned bucket across pages",
              "rc %s, %d rows for %d assigned: %s" % (rc, len(buckets), assigned, err[-300:]))
        check(buckets and buckets == sorted(set(buckets)), "each bucket once, in order")
        check(doc["meta"].get("next_bucket", 0) is None, "the joined listing says no page is left")
        check(doc["rows"] and all(r[1] in (1, 2) for r in doc["rows"]), "every listed bucket names a configured node")
    except Exception as e:
        check(False, "harness ran to completion", repr(e))
    finally:
        rc = taplib.stop(proc)
        check(rc == 0, "scheduler stops cleanly", "rc=%s" % rc)
        shutil.rmtree(work, ignore_errors=True)
    return RESULTS.finish()


if __name__ == "__main__":
    sys.exit(main())
