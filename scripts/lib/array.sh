# The full array in a namespace topology: per node a dlba-scheduler (DPDK on sch0), a dlba-server on the VIP and
# a dlbad; nginx on web1..3 as the back ends; a test CA and a server certificate for HTTPS. Used by scripts/array,
# scripts/demo and the end-to-end tests. Needs lib/common.sh and lib/topo.sh.

ARRAY_BUILD="${DLBA_BUILD_DIR:-build}"
# A binary by its path in the build tree; with DLBA_BIN set (e.g. /usr/bin, the Debian package), the installed one.
array_bin() {
    if [ -n "${DLBA_BIN:-}" ]; then printf '%s/%s' "$DLBA_BIN" "${1##*/}"; else printf '%s/%s/%s' "$DLBA_ROOT" "$ARRAY_BUILD" "$1"; fi
}

# A private CA and a certificate for the VIP (and the name dlba.test), valid 30 days, in RUN/tls.
array_tls() {  # RUN
    local dir="$1/tls"
    [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] && return 0
    mkdir -p -m 0700 "$dir"
    (
        cd "$dir" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=DLBA test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=dlba.test" 2>/dev/null &&
        printf 'subjectAltName=DNS:dlba.test,IP:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
            "$TOPO_VIP" >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 30 \
            -extfile server.ext 2>/dev/null &&
        cat server.crt ca.pem >server.pem
    ) || { log "could not make the test certificates in $dir"; return 1; }
}

# The array's configuration: conf/dlba.conf with this run's TLS files, one copy per node (as on separate hosts,
# where `dlbactl config push` keeps the copies equal).
array_config() {  # RUN
    local run="$1" i
    sed -e "s|/etc/dlba/server.pem|$run/tls/server.pem|" -e "s|/etc/dlba/server.key|$run/tls/server.key|" \
        "$DLBA_ROOT/conf/dlba.conf" >"$run/array.conf"
    # The demo serves Prometheus metrics on every node's eth0 (README: Metrics); production examples leave it off.
    printf '\n# scripts/array: Prometheus metrics on each node'"'"'s eth0 IP\nmetrics = { listen = ":%s"; };\n' \
        "${DLBA_METRICS_PORT:-9100}" >>"$run/array.conf"
    for i in "${TOPO_NODES[@]}"; do
        cp "$run/array.conf" "$run/n$i.conf"
        # A test's per-node edit of its copy (e.g. another server.max_connections on one node): the command's
        # words, then the file and the node number.
        if [ -n "${DLBA_ARRAY_CONF_EDIT:-}" ]; then
            # shellcheck disable=SC2086
            $DLBA_ARRAY_CONF_EDIT "$run/n$i.conf" "$i" || { log "DLBA_ARRAY_CONF_EDIT failed on n$i.conf"; return 1; }
        fi
    done
}

array_wait_socket() {  # PATH SECONDS
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do [ -S "$1" ] && return 0; sleep 0.1; done
    return 1
}

# Starts a daemon on node I unless its socket RUN/nI.SOCK.sock is there already; each in its own session so that
# scripts/topo down finds and stops it. Its output goes to RUN/nI.LOG.log.
array_spawn() {  # PREFIX RUN I SOCK LOG COMMAND...
    local p="$1" run="$2" i="$3" sock="$4" out="$5"
    shift 5
    [ -S "$run/n$i.$sock.sock" ] && return 0
    nsx "$p-n$i" setsid "$@" >"$run/n$i.$out.log" 2>&1 </dev/null &
}

# Waits for that socket on every node; a daemon that did not start is reported with the end of its log.
array_wait_started() {  # RUN SOCK LOG SECONDS NAME
    local run="$1" sock="$2" out="$3" seconds="$4" name="$5" i
    for i in "${TOPO_NODES[@]}"; do
        array_wait_socket "$run/n$i.$sock.sock" "$seconds" ||
            { log "$name n$i did not start:"; tail -5 "$run/n$i.$out.log" >&2; return 1; }
    done
}

# Starts the three daemons on every node: schedulers, then DLBA servers, then the node daemons beside them.
array_start() {  # PREFIX [PMD]
    local p="$1" pmd="${2:-af_packet}" run i
    run="$(topo_rundir "$p")"
    array_tls "$run" || return 1
    array_config "$run"
    for i in "${TOPO_NODES[@]}"; do
        array_spawn "$p" "$run" "$i" sched scheduler "$(array_bin scheduler/dlba-scheduler)" --no-huge --no-pci \
            --no-shconf -m 512 -l $(( i % 2 )) --file-prefix "$p-n$i" --log-level lib.eal:warning \
            --vdev="net_${pmd}0,iface=sch0" -- --config "$run/n$i.conf" --node "$i" \
            --control-socket "$run/n$i.sched.sock"
    done
    array_wait_started "$run" sched scheduler 30 scheduler || return 1
    for i in "${TOPO_NODES[@]}"; do
        array_spawn "$p" "$run" "$i" server server "$(array_bin dlba_server/dlba-server)" --config "$run/n$i.conf" \
            --node "$i" --monitor-socket "$run/n$i.server.sock"
    done
    array_wait_started "$run" server server 15 dlba-server || return 1
    for i in "${TOPO_NODES[@]}"; do
        array_spawn "$p" "$run" "$i" dlbad dlbad "$(array_bin scheduler/dlbad)" --config "$run/n$i.conf" --node "$i" \
            --scheduler-socket "$run/n$i.sched.sock" --server-socket "$run/n$i.server.sock" \
            --monitor-socket "$run/n$i.dlbad.sock" --admin-state "$run/n$i.admin.state"
    done
    array_wait_started "$run" dlbad dlbad 15 dlbad || return 1
    # One scheduler elected, and the VIP answering through it.
    for i in $(seq 1 100); do
        array_active "$p" >/dev/null && nsx "$p-client" curl -s -o /dev/null -m 2 "http://$TOPO_VIP/" && return 0
        sleep 0.2
    done
    log "the array did not start serving the VIP within 20 s"
    return 1
}

array_active() {  # PREFIX: prints the active node's number
    local run i
    run="$(topo_rundir "$1")"
    for i in "${TOPO_NODES[@]}"; do
        if "$(array_bin common/ctl/dlbactl)" --socket "$run/n$i.sched.sock" --json status 2>/dev/null |
            grep -q '"role": *"active"'; then
            echo "$i"; return 0
        fi
    done
    return 1
}
