#!/usr/bin/python3
"""dlba.conf(5) documents every setting the configuration loader accepts, and nothing else.

The loader's keys come from its source: every group's parser in common/config/*.cpp lists the keys it accepts in
one `in.only_keys(group, {...})` call (unknown keys are refused there), so those lists are the loader's whole key
set. GROUPS below says which group each call reads (the call is known by its file and its first two keys, which
does not change when a key is added to the list). The man page documents each setting on a line of its own that
starts with its full path in bold: `*server.timeouts.idle_ms* = ...`.

Usage: man_keys_test.py SOURCE_ROOT. Prints TAP.
"""
import os
import re
import sys

# (file, first key, second key) of an only_keys call -> the path of the group it reads ("" = the top level).
GROUPS = {
    ("config.cpp", "array", "scheduler"): "",
    ("array_section.cpp", "name", "vip"): "array",
    ("scheduler_section.cpp", "table_size", "hash"): "scheduler",
    ("scheduler_section.cpp", "spin_polls", "sleep_min_us"): "scheduler.idle_poll",
    ("scheduler_section.cpp", "count", "interval_ms"): "scheduler.gratuitous_arp",
    ("scheduler_section.cpp", "table_size", "timeout_ms"): "scheduler.fragments",
    ("failover_section.cpp", "sync_port", "sync_interval_ms"): "failover",
    ("load_section.cpp", "source", "high_pct"): "failover.load",
    ("nodes_section.cpp", "number", "eth0_mac"): "nodes[]",
    ("server_section.cpp", "listeners", "workers"): "server",
    ("server_section.cpp", "address", "port"): "server.listeners[]",
    ("server_section.cpp", "header_ms", "handshake_ms"): "server.timeouts",
    ("server_section.cpp", "max_header_bytes", "max_header_count"): "server.limits",
    ("server_section.cpp", "max_concurrent_streams", "max_header_list_bytes"): "server.http2",
    ("metrics_section.cpp", "listen", "histogram"): "metrics",
    ("tls_section.cpp", "certificate", "key"): "tls",
    ("backends_section.cpp", "key", "address"): "backends[]",
    ("backend_tls_section.cpp", "enabled", "verify"): "backends[].tls",
    ("backend_check_section.cpp", "path", "interval_ms"): "backends[].check",
    ("backend_check_section.cpp", "port", "interval_ms"): "backends[].agent",
    ("services_section.cpp", "name", "backends"): "services[]",
    ("services_section.cpp", "idle_per_backend", "idle_timeout_ms"): "services[].pool",
    ("qos_section.cpp", "timeout_ms", "max_queued"): "services[].queue",
    ("qos_section.cpp", "class", "path_prefix"): "services[].classes[]",
    ("cdn_section.cpp", "host", "match"): "services[].cdn",
    ("routes_section.cpp", "host", "path_prefix"): "server.listeners[].routes[]",
    ("pin_section.cpp", "entry", "exit"): "services[].pin",
}

ONLY_KEYS = re.compile(r"only_keys\(\s*\w+\s*,\s*\{([^}]*)\}")
DOCUMENTED = re.compile(r"^\*([a-z0-9_]+(?:\[\])?(?:\.[a-z0-9_]+(?:\[\])?)*)\*", re.M)


def loader_keys(root):
    """{full key path: 'file:line'}, and the problems found on the way (calls GROUPS does not know)."""
    keys, problems = {}, []
    folder = os.path.join(root, "common", "config")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".cpp") or name == "reader.cpp":
            continue
        src = open(os.path.join(folder, name)).read()
        for m in ONLY_KEYS.finditer(src):
            where = f"common/config/{name}:{src.count(chr(10), 0, m.start()) + 1}"
            listed = re.findall(r'"([^"]+)"', m.group(1))
            group = GROUPS.get((name, *(listed + ["", ""])[:2]))
            if group is None:
                problems.append(f"{where}: only_keys {{{', '.join(listed)}}} reads a group this test does not know: "
                                f"add ({name!r}, {listed[0]!r}, {(listed + [''])[1]!r}): '<group path>' to GROUPS in "
                                f"test/unit/docs/man_keys_test.py and document its keys in docs/man/dlba.conf.5.scd")
                continue
            for k in listed:
                keys[f"{group}.{k}" if group else k] = where
    return keys, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..")
    page = os.path.join(root, "docs", "man", "dlba.conf.5.scd")
    documented = set(DOCUMENTED.findall(open(page).read()))
    keys, problems = loader_keys(root)
    results = []

    results.append(("the loader's only_keys calls are all known to this test", problems))
    results.append(("the loader's key list was found (more than 100 keys)",
                    [] if len(keys) > 100 else [f"only {len(keys)} keys found: the scan of common/config is broken"]))
    missing = [f"key '{k}' (accepted by {keys[k]}) is not documented in docs/man/dlba.conf.5.scd: add a line "
               f"'*{k}* = ...' with its meaning" for k in sorted(keys) if k not in documented]
    results.append(("dlba.conf(5) documents every key the loader accepts", missing))
    extra = [f"key '{k}' is documented in docs/man/dlba.conf.5.scd but the loader (common/config/*.cpp) does not "
             f"accept it" for k in sorted(documented) if k not in keys]
    results.append(("dlba.conf(5) documents no key the loader refuses", extra))

    print(f"1..{len(results)}")
    failed = 0
    for i, (title, errors) in enumerate(results, 1):
        print(f"{'not ok' if errors else 'ok'} {i} - {title}")
        for e in errors:
            print(f"# {e}")
        failed += bool(errors)
    print(f"# {len(keys)} keys accepted by the loader, {len(documented)} documented")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
