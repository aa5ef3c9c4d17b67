#!/usr/bin/python3
"""Failover benchmark (run by scripts/bench-failover): N kill -9s of the active scheduler under light load.

For each kill: 10 keep-alive sessions (one request each every 0.2 s) and 5 downloads (1 MiB at 256 KiB/s) run
through the VIP; once they are established and the standbys' tables have caught up, the active scheduler is killed
and the router's LAN port times the first ARP frame for the VIP from another scheduler (the router asks every
10 ms). The killed scheduler is then restarted (its dlbad kept running) and rejoins as a standby before the next
kill. Prints one line per kill, then the median and worst takeover, the survival of the connections, the computed
keepalived reference, and last `takeover_ms=<median>`.

MODE "with-dlbad": each kill takes the active node's dlbad with its scheduler (kill -9 of both at once): the peers'
own detectors decide then (stale heartbeats, missed probes), not the killed scheduler's daemon. Both are restarted
after. MODE "host": every process of the active node dies (scheduler, dlbad and its web server: kill -9 of all in
its namespace), as when the host goes; the connections served by that node cannot survive, so only those on the
other nodes are expected intact (the sessions know their node; the downloads do not and are reported only).

Usage: bench_failover.py KILLS [scheduler|with-dlbad|host]   (environment: DLBA_SCHEDULER, DLBA_DLBACTL,
DLBA_DLBAD, DLBA_SOURCE_ROOT; PYTHONPATH=test/support)
"""
import os
import statistics
import sys
import time

from dlbatest.arp import ArpWatcher
from dlbatest.config import failover_config
from dlbatest.failover import Array
from dlbatest.load import SessionDriver, Sessions, SlowDownloads
from dlbatest.tap import wait_until
from dlbatest.topo import VIP, Topology, curl, node_of_mac, sched_mac, wait_client_quiet

SESSIONS = 10
DOWNLOADS = 5
DL_RATE = 256 * 1024
DL_BYTES = 1024 * 1024
SYNC_INTERVAL = 0.1

# keepalived's defaults (VRRP, RFC 5798 timers as keepalived implements them): advert_int 1 s, priority 128.
# A backup declares the master down after Master_Down_Interval = 3 x advert_int + Skew_Time, with
# Skew_Time = (256 - priority) / 256 x advert_int. Computed here, keepalived is not run.
KA_ADVERT_S = 1.0
KA_PRIORITY = 128
KA_DOWN_MS = (3 * KA_ADVERT_S + (256 - KA_PRIORITY) / 256 * KA_ADVERT_S) * 1000


def log(text):
    print(text, flush=True)


def one_kill(topo, arr, i, mode="scheduler"):
    a = arr.wait_one_active(timeout=10)
    wait_client_quiet(topo, timeout=15)
    sessions = Sessions(topo, SESSIONS)
    driver = SessionDriver(sessions, period=0.2)
    driver.start()
    dls = None
    try:
        dls = SlowDownloads(topo, DOWNLOADS, rate=DL_RATE, length=DL_BYTES, spacing=0, max_time=60)
        time.sleep(0.5)
        wait_until(lambda: arr.standbys_synced(a), 5, 0.05, "the standbys to catch up")
        time.sleep(3 * SYNC_INTERVAL)
        with ArpWatcher(topo, interval=0.01) as w:
            time.sleep(0.1)
            old = sched_mac(a)
            t_kill = time.monotonic()
            if mode == "host":
                arr.kill_namespace(a)
            else:
                if mode == "with-dlbad":
                    arr.kill9(arr.dlbad[a])
                arr.kill9(arr.sched[a])
            t, mac = wait_until(lambda: w.first_other(t_kill, old), 5, 0.005, "a new ARP answer for the VIP")
            new = arr.wait_one_active(timeout=5, exclude=(a,))
            agree = time.monotonic() - t_kill
        rounds = sessions.rounds
        wait_until(lambda: sessions.rounds >= rounds + 5, 15, 0.05, "five more session rounds")
        driver.finish()
        results = dls.finish(timeout=30)
    finally:
        driver.stop_event.set()
        driver.join(5)
        sessions.close()
        if dls:
            dls.kill()
    takeover_ms = (t - t_kill) * 1000
    dl_ok = sum(ok for ok, _ in results)
    s_ok = sessions.intact()
    if mode == "host":
        # Only the sessions on the surviving nodes count; the downloads are reported, not counted.
        others = [j for j, n in enumerate(sessions.first) if n != a]
        lost = len(sessions.conns) - len(others)
        s_ok = sum(1 for j in others if j not in sessions.errors)
        log(f"kill {i}: host of node {a} -> node {node_of_mac(mac)} (dlbad: node {new}), takeover "
            f"{takeover_ms:.0f} ms (every dlbad agreed after {agree * 1000:.0f} ms), sessions on the other nodes "
            f"{s_ok}/{len(others)} ({lost} were on the lost host), downloads {dl_ok}/{DOWNLOADS} (not counted)")
        for j in others:
            if j in sessions.errors:
                log(f"  session broken: {sessions.errors[j]}")
        arr.start_nginx(a)
        arr.start_scheduler(a)
        arr.start_dlbad(a)
        wait_until(lambda: arr.wait_one_active(timeout=5) != a, 5, 0.1, "no pre-emption")
        wait_until(lambda: arr.standbys_synced(arr.wait_one_active(timeout=5)), 10, 0.05,
                      "the restarted one to sync")
        # The sweep must see the host live again before the next kill (its buckets were freed when it failed).
        wait_until(lambda: not arr.status_rows(arr.wait_one_active(timeout=5))[a]["failed"], 15, 0.1,
                      f"node {a} live again")
        return takeover_ms, agree * 1000, s_ok, len(others)
    log(f"kill {i}: node {a} -> node {node_of_mac(mac)} (dlbad: node {new}), takeover {takeover_ms:.0f} ms "
        f"(every dlbad agreed after {agree * 1000:.0f} ms), sessions {s_ok}/{SESSIONS}, downloads "
        f"{dl_ok}/{DOWNLOADS}")
    for ok, d in results:
        if not ok:
            log(f"  download broken: {d}")
    for d in sessions.errors.values():
        log(f"  session broken: {d}")
    if sessions.errors or dl_ok < DOWNLOADS:
        log(arr.log_tails(8))
    # The killed scheduler (and daemon) come back and rejoin as a standby.
    arr.start_scheduler(a)
    if mode == "with-dlbad":
        arr.start_dlbad(a)
    wait_until(lambda: arr.wait_one_active(timeout=5) != a, 5, 0.1, "no pre-emption")
    wait_until(lambda: arr.standbys_synced(arr.wait_one_active(timeout=5)), 10, 0.05, "the restarted one to sync")
    return takeover_ms, agree * 1000, s_ok + dl_ok, SESSIONS + DOWNLOADS


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    mode = sys.argv[2] if len(sys.argv) > 2 else "scheduler"
    if mode not in ("scheduler", "with-dlbad", "host"):
        log(f"bench-failover: unknown mode {mode!r}")
        return 2
    topo = Topology(prefix=f"dfb{os.getpid()}")
    arr = None
    started = time.monotonic()
    try:
        with topo:
            config = failover_config(os.path.join(topo.rundir, "bench.conf"), idle_timeout=300)
            arr = Array(topo, config)
            arr.start_all()
            wait_until(lambda: curl(topo, f"http://{VIP}/", timeout=2)[0] == 0, 10, 0.2, "the VIP")
            log(f"array up in {time.monotonic() - started:.1f} s; {kills} kills, each under {SESSIONS} keep-alive "
                f"sessions and {DOWNLOADS} downloads ({DL_BYTES // 1024} KiB at {DL_RATE // 1024} KiB/s)")
            if mode != "scheduler":
                log({"with-dlbad": "each kill takes the active node's dlbad too",
                     "host": "each kill takes every process of the active node (scheduler, dlbad, web server)"}[mode])
            rows = [one_kill(topo, arr, i + 1, mode) for i in range(kills)]
            arr.stop_all()
    except Exception as e:  # noqa: BLE001 - reported, then a non-zero exit
        log(f"bench-failover: {type(e).__name__}: {e}")
        if arr:
            log(arr.log_tails(4))
            arr.stop_all()
        return 1
    takeovers = [r[0] for r in rows]
    agrees = [r[1] for r in rows]
    ok = sum(r[2] for r in rows)
    total = sum(r[3] for r in rows)
    median = statistics.median(takeovers)
    log("")
    log(f"takeover (kill -9 to the first ARP frame for the VIP from the new scheduler), {kills} kills: "
        f"median {median:.0f} ms, worst {max(takeovers):.0f} ms, best {min(takeovers):.0f} ms")
    log(f"every dlbad agrees on the new active: median {statistics.median(agrees):.0f} ms, worst {max(agrees):.0f} ms")
    what = "on the surviving nodes " if mode == "host" else ""
    log(f"connections established before the kill {what}that completed intact: {ok}/{total} "
        f"({100.0 * ok / total:.0f}%)")
    log(f"reference, keepalived defaults (computed, not measured): advert_int {KA_ADVERT_S:.0f} s, priority "
        f"{KA_PRIORITY}: master down after 3 x {KA_ADVERT_S:.0f} s + skew {(256 - KA_PRIORITY) / 256:.1f} s = "
        f"{KA_DOWN_MS:.0f} ms; DLBA median is {median / KA_DOWN_MS:.2f} of that ({KA_DOWN_MS / median:.1f}x faster)")
    log(f"wall time {time.monotonic() - started:.1f} s")
    log(f"takeover_ms={median:.0f}")
    return 0 if ok == total else 2


if __name__ == "__main__":
    sys.exit(main())
