#!/usr/bin/python3
"""Configuration reload of a running scheduler (request `reload` and SIGHUP): node changes take effect, a file
with errors is refused with file:line and the running configuration stays, and what cannot change while running
(table size, hash, VIP, ...) is refused with the reason.

usage: reload_test.py DLBA_SCHEDULER DLBACTL
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taplib  # noqa: E402

RESULTS = taplib.Results()
check = RESULTS.check


NODE = """  {{ number = {n}; eth0_mac = "02:77:00:00:01:0{n}"; eth0_ip = "10.77.0.1{n}"; sched_mac = "02:77:00:00:02:0{n}";
    sched_ip = "10.77.0.2{n}"; weight = {w}; enabled = {e}; }}"""


def config(sock, table_size=1024, weights=(1, 1, 1), enabled=(True, True, True)):
    nodes = ",\n".join(NODE.format(n=i + 1, w=w, e="true" if en else "false")
                       for i, (w, en) in enumerate(zip(weights, enabled)))
    return ('array = { name = "reload"; vip = "10.77.0.100"; tcp_ports = [80]; };\n'
            'scheduler = { table_size = %d; control_socket = "%s"; };\nnodes = (\n%s\n);\n' % (table_size, sock, nodes))


def main():
    sched, ctl = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="dlba-reload-")
    proc = None

    def ask(*args):
        r = subprocess.run([ctl, "--socket", sock, "--json", *args], capture_output=True, text=True, timeout=10)
        return r.returncode, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else None), r.stderr

    def rows():
        _, doc, _ = ask("status")
        cols = [c["name"] for c in doc["columns"]]
        return {r[0]: dict(zip(cols, r)) for r in doc["rows"]}

    try:
        sock = os.path.join(work, "s.sock")
        conf = os.path.join(work, "dlba.conf")
        with open(conf, "w") as f:
            f.write(config(sock))
        empty = os.path.join(work, "empty.pcap")
        with open(empty, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", "256", "-l", "0", "--log-level=error",
               "--file-prefix", "dlba-reload-%d" % os.getpid(),
               "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (empty, os.path.join(work, "out.pcap"))]
        proc = subprocess.Popen([sched, *eal, "--", "--config", conf, "--node", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not os.path.exists(sock) and proc.poll() is None:
            time.sleep(0.1)
        check(os.path.exists(sock), "scheduler starts")

        # 1. Weight change and a disabled node take effect.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 5, 1), enabled=(True, True, False)))
        rc, doc, _ = ask("raw", "reload")
        check(rc == 0 and doc and doc.get("ok"), "a valid change is reloaded", str(doc))
        r = rows()
        check(r[2]["weight"] == 5 and r[3]["state"] == "disabled", "new weight and enabled flag are in effect", str(r))

        # 2. A file with an error is refused with file:line; nothing changes.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 7, 1)).replace("weight = 7;", "weight = 7;\n  colour = \"blue\";"))
        rc, doc, err = ask("raw", "reload")
        msg = (doc or {}).get("error", "") + err
        check(rc != 0 and (conf + ":") in msg and "colour" in msg, "a bad file is refused with file:line and the reason", msg)
        check(rows()[2]["weight"] == 5, "after a refused reload the running configuration stays")

        # 3. What cannot change while running is refused with the reason.
        with open(conf, "w") as f:
            f.write(config(sock, table_size=2048, weights=(1, 9, 1)))
        rc, doc, err = ask("raw", "reload")
        msg = (doc or {}).get("error", "") + err
        check(rc != 0 and "table_size" in msg, "changing the table size while running is refused", msg)
        check(rows()[2]["weight"] == 5, "and changes nothing")

        # 4. SIGHUP reloads too.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 3, 1)))
        proc.send_signal(signal.SIGHUP)
        ok = False
        for _ in range(50):
            if rows()[2]["weight"] == 3:
                ok = True
                break
            time.sleep(0.1)
        check(ok, "SIGHUP reloads the configuration")
        check(proc.poll() is None, "the scheduler keeps running through reloads")
    except Exception as e:
        check(False, "harness ran to completion", repr(e))
    finally:
        taplib.stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    return RESULTS.finish()


if __name__ == "__main__":
    sys.exit(main())
