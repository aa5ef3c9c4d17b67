# The namespace test topology of DESIGN §7, as shell functions. Sourced by scripts/topo.
# shellcheck shell=bash
#
#  [PREFIX-client]--[PREFIX-router]--+-- PREFIX-sw (bridge br0)
#                                    +-- PREFIX-n1..n3: eth0 (kernel), sch0 (DPDK scheduler port)
#                                    +-- PREFIX-web1..3
#
# Every address lives inside the namespaces; veth pairs are created directly inside them, so nothing of a
# topology ever appears in the root namespace and two prefixes never collide.

TOPO_NODES=(1 2 3)
TOPO_WEBS=(1 2 3)

TOPO_VIP=10.77.0.100
TOPO_DIRECT=10.77.0.4   # node N's direct IP (nodes[].direct_ip) is 10.77.0.4N, on lo of every node like the VIP
TOPO_LAN=10.77.0        # array LAN /24, on the bridge
TOPO_OUTSIDE=10.77.1    # client <-> router /24

# Every project prefix: 'd' then 1..11 lowercase letters/digits ("dt1234" for tests, "demo" for the demo).
TOPO_PREFIX_RE='^d[a-z0-9]{1,11}$'
TOPO_ROLE_RE='(client|router|sw|n[0-9]|web[0-9])'

topo_check_prefix() {
    [[ "$1" =~ $TOPO_PREFIX_RE ]] || die "bad PREFIX '$1': must match $TOPO_PREFIX_RE (e.g. dt\$\$)"
}

topo_rundir() { printf '/tmp/dlba-%s' "$1"; }

topo_namespaces() {  # all namespace names of a prefix, in creation order
    local p="$1" i
    printf '%s\n' "$p-sw" "$p-router" "$p-client"
    for i in "${TOPO_NODES[@]}"; do printf '%s\n' "$p-n$i"; done
    for i in "${TOPO_WEBS[@]}"; do printf '%s\n' "$p-web$i"; done
}

ns_exists() { [ -e "/run/netns/$1" ]; }
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

# Turn off the offloads on a veth end: AF_PACKET must see real frames with full checksums, not GSO super-frames
# or CHECKSUM_PARTIAL ones that DPDK would re-send broken. VLAN offloads too: with tx-vlan offload on, a tag the
# bridge took off on ingress travels on as skb metadata and XDP (the AF_XDP PMD) never sees it; with it off the
# tag is put back into the frame on the way out. Unsupported ones are ignored.
topo_no_offloads() {
    local ns="$1" dev="$2" f
    nsx "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 ||
        for f in tx rx tso gso gro; do nsx "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1 || true; done
    for f in txvlan rxvlan tx-vlan-stag-hw-insert rx-vlan-stag-hw-parse; do
        nsx "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1 || true
    done
}

# veth pair: DEV_A in NS_A, DEV_B in NS_B, both created in place.
topo_veth() {
    local nsa="$1" deva="$2" nsb="$3" devb="$4"
    ip link add "$deva" netns "$nsa" type veth peer name "$devb" netns "$nsb" || return 1
    topo_no_offloads "$nsa" "$deva"
    topo_no_offloads "$nsb" "$devb"
}

topo_new_ns() {
    local ns="$1"
    ip netns add "$ns" || return 1
    nsx "$ns" ip link set lo up
    # Nothing in the topology speaks IPv6: keep the links quiet (no DAD, MLD, router solicitations).
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# Bridge port in the switch namespace: attach and bring up.
topo_port() {
    local p="$1" dev="$2"
    nsx "$p-sw" ip link set "$dev" master br0
    nsx "$p-sw" ip link set "$dev" up
}

topo_up_fresh() {
    local p="$1" rd i ns
    rd="$(topo_rundir "$p")"
    mkdir -p -m 0755 "$rd"
    chmod 0755 "$rd"

    for ns in $(topo_namespaces "$p"); do topo_new_ns "$ns" || return 1; done

    # Switch: one Linux bridge, no STP, forwarding at once; no VLAN filtering, so tagged frames are switched
    # by MAC like any other (the scheduler must see them to count them).
    nsx "$p-sw" ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    # A switch forwards frames as they are. With br_netfilter loaded, the bridge would run bridged IPv4 through
    # netfilter, which drops malformed headers and holds fragments for reassembly before the scheduler sees them.
    nsx "$p-sw" ip link set br0 type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 \
        2>/dev/null || true
    if [ -d "/proc/sys/net/bridge" ]; then
        nsx "$p-sw" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
            net.bridge.bridge-nf-call-arptables=0 >/dev/null 2>&1 || true
    fi
    nsx "$p-sw" ip link set br0 up

    # client <-> router
    topo_veth "$p-client" eth0 "$p-router" eth0 || return 1
    nsx "$p-client" ip link set eth0 address 02:77:00:01:00:02
    nsx "$p-client" ip addr add "$TOPO_OUTSIDE.2/24" dev eth0
    nsx "$p-client" ip link set eth0 up
    nsx "$p-client" ip route add default via "$TOPO_OUTSIDE.1"
    nsx "$p-router" ip link set eth0 address 02:77:00:01:00:01
    nsx "$p-router" ip addr add "$TOPO_OUTSIDE.1/24" dev eth0
    nsx "$p-router" ip link set eth0 up

    # router <-> switch (array LAN)
    topo_veth "$p-router" eth1 "$p-sw" rt || return 1
    nsx "$p-router" ip link set eth1 address 02:77:00:00:00:01
    nsx "$p-router" ip addr add "$TOPO_LAN.1/24" dev eth1
    nsx "$p-router" ip link set eth1 up
    topo_port "$p" rt
    nsx "$p-router" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 >/dev/null

    # nodes: eth0 (kernel) and sch0 (DPDK) on the same switch
    for i in "${TOPO_NODES[@]}"; do
        ns="$p-n$i"
        topo_veth "$ns" eth0 "$p-sw" "n${i}e" || return 1
        topo_veth "$ns" sch0 "$p-sw" "n${i}s" || return 1
        topo_port "$p" "n${i}e"
        topo_port "$p" "n${i}s"
        # The VIP lives on lo; the kernel must never answer ARP for it (only the active scheduler does).
        nsx "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
            net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
            net.ipv4.conf.sch0.arp_ignore=1 net.ipv4.conf.sch0.arp_announce=2 >/dev/null
        nsx "$ns" ip addr add "$TOPO_VIP/32" dev lo
        for j in "${TOPO_NODES[@]}"; do nsx "$ns" ip addr add "$TOPO_DIRECT$j/32" dev lo; done
        nsx "$ns" ip link set eth0 address "02:77:00:00:01:0$i"
        nsx "$ns" ip addr add "$TOPO_LAN.1$i/24" dev eth0
        nsx "$ns" ip link set eth0 up
        nsx "$ns" ip route add default via "$TOPO_LAN.1"
        # sch0: DPDK's port. No IPv4, no IPv6; its scheduler-port IP (10.77.0.2N) is answered by DPDK.
        nsx "$ns" ip link set sch0 address "02:77:00:00:02:0$i"
        nsx "$ns" sysctl -qw net.ipv6.conf.sch0.disable_ipv6=1 >/dev/null
        nsx "$ns" ip link set sch0 up
        # The kernel takes nothing that arrives on sch0. AF_PACKET taps (DPDK's af_packet PMD) see a frame
        # before the netdev ingress hook, so the scheduler still gets everything.
        nsx "$ns" nft -f - <<EOF || return 1
table netdev dlba_sch0 {
    chain ingress {
        type filter hook ingress device "sch0" priority -500; policy drop;
        counter drop comment "kernel must not see scheduler-port traffic"
    }
}
EOF
        # Defence in depth beside the peer keys: the peer ports (table sync 7101, heartbeats 7102, status 7103,
        # config 7104: failover.* defaults) take nothing but the nodes' eth0 addresses. The client, the router
        # and the web servers are dropped and counted.
        nsx "$ns" nft -f - <<EOF || return 1
table inet dlba_peers {
    set nodes { type ipv4_addr; elements = { $(topo_node_ips) } }
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport { 7101, 7103, 7104 } ip saddr != @nodes counter drop comment "peer ports: nodes only"
        udp dport 7102 ip saddr != @nodes counter drop comment "heartbeats: nodes only"
    }
}
EOF
    done

    # web servers (back ends of later issues)
    for i in "${TOPO_WEBS[@]}"; do
        ns="$p-web$i"
        topo_veth "$ns" eth0 "$p-sw" "w$i" || return 1
        topo_port "$p" "w$i"
        nsx "$ns" ip link set eth0 address "02:77:00:00:03:0$i"
        nsx "$ns" ip addr add "$TOPO_LAN.3$i/24" dev eth0
        nsx "$ns" ip link set eth0 up
        nsx "$ns" ip route add default via "$TOPO_LAN.1"
    done

    date +%s >"$rd/topo.up"
}

# The nodes' eth0 addresses, comma-separated (the peer ports' allowed senders).
topo_node_ips() {
    local i out=""
    for i in "${TOPO_NODES[@]}"; do out+="${out:+, }$TOPO_LAN.1$i"; done
    printf '%s' "$out"
}

topo_complete() {
    local p="$1" ns
    [ -f "$(topo_rundir "$p")/topo.up" ] || return 1
    for ns in $(topo_namespaces "$p"); do ns_exists "$ns" || return 1; done
}

topo_up() {
    local p="$1"
    if topo_complete "$p"; then
        log "topology $p is already up"
        return 0
    fi
    topo_down "$p" quiet   # remnants of a half-built or crashed run
    local rc=0
    # In a subshell with errexit, so that any failed step stops the build (errexit is void inside 'if').
    set +e
    (set -e; topo_up_fresh "$p")
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        log "topology $p: setup failed, removing what was made"
        topo_down "$p" quiet
        return 1
    fi
}

# Kill every process in the namespace (TERM, then KILL after a bounded wait), then delete it.
topo_kill_ns() {
    local ns="$1" pids n
    ns_exists "$ns" || return 0
    pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    if [ -n "${pids// /}" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for n in $(seq 1 30); do   # up to 3 s
            pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
            [ -z "${pids// /}" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -n "${pids// /}" ] && kill -KILL $pids 2>/dev/null || true
        for n in $(seq 1 20); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    ip netns del "$ns" 2>/dev/null || true
}

topo_down() {
    local p="$1" quiet="${2:-}" ns found=0 rd
    # Every namespace of this prefix, including ones a different node count may have left.
    for ns in $(ls /run/netns 2>/dev/null | grep -E "^$p-$TOPO_ROLE_RE\$" || true); do
        found=1
        topo_kill_ns "$ns"
    done
    rd="$(topo_rundir "$p")"
    if [ -d "$rd" ]; then
        found=1
        rm -rf --one-file-system "$rd"
    fi
    # DPDK runtime directories of the processes that ran in it (by convention --file-prefix PREFIX-...)
    rm -rf --one-file-system "/var/run/dpdk/$p-"* 2>/dev/null || true
    [ -z "$quiet" ] && [ $found -eq 0 ] && log "topology $p: nothing to remove"
    return 0
}

# Every prefix that has at least one namespace of the project's pattern.
topo_all_prefixes() {
    ls /run/netns 2>/dev/null | sed -nE "s/^(d[a-z0-9]{1,11})-$TOPO_ROLE_RE\$/\\1/p" | sort -u
}

topo_status() {
    local p="$1" ns ok=0 i
    for ns in $(topo_namespaces "$p"); do
        if ns_exists "$ns"; then
            printf '%-14s up    %s\n' "$ns" "$(nsx "$ns" ip -br -4 addr show 2>/dev/null | grep -v '^lo ' | \
                awk '{printf "%s=%s ", $1, ($3 == "" ? "-" : $3)}')"
        else
            printf '%-14s MISSING\n' "$ns"; ok=1
        fi
    done
    for i in "${TOPO_NODES[@]}"; do
        ns="$p-n$i"
        ns_exists "$ns" || continue
        printf '%-14s sch0 kernel drops: %s\n' "$ns" "$(topo_sch0_drops "$p" "$i")"
    done
    local rd; rd="$(topo_rundir "$p")"
    if [ -d "$rd" ]; then
        local pidf
        for pidf in "$rd"/*/nginx.pid; do
            [ -f "$pidf" ] || continue
            printf '%-14s nginx pid %s\n' "$(basename "$(dirname "$pidf")")" "$(cat "$pidf")"
        done
    fi
    return $ok
}

# Packets the kernel's netdev-ingress chain on nodeN's sch0 has dropped.
topo_sch0_drops() {
    nsx "$1-n$2" nft list chain netdev dlba_sch0 ingress 2>/dev/null | \
        sed -nE 's/.*counter packets ([0-9]+) bytes.*/\1/p' | head -n1
}

# ---- prototype web servers (issue 2): nginx on each node (VIP:80, eth0:80) and on each web server ----

topo_nginx_conf() {  # DIR LISTEN... ; body text in $body
    local dir="$1" body="$2"; shift 2
    local l listens=""
    for l in "$@"; do listens+="        listen $l;"$'\n'; done
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# generated by scripts/topo for one test topology; never the system's nginx
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 512; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30;
    server {
$listens
        location = / { default_type text/plain; return 200 "$body\n"; }
        location = /big { root $(dirname "$dir")/www; }
        # Uploads (WebDAV PUT): nginx reads the whole body before it answers, as an application would; the slow
        # body test (e2e/slow_clients) needs a back end that waits for the body.
        location /upload/ { root $dir/tmp; dav_methods PUT; create_full_put_path on; client_max_body_size 1m; }
        # An application with sessions (cookie persistence): /login starts one, /logout ends it.
        location = /login {
            default_type text/plain;
            add_header Set-Cookie "JSESSIONID=\$request_id; Path=/; HttpOnly; SameSite=Lax" always;
            return 200 "$body\n";
        }
        location = /logout {
            default_type text/plain;
            add_header Set-Cookie "JSESSIONID=; Path=/; Max-Age=0" always;
            return 200 "$body\n";
        }
        # Any other path answers who served it and what was asked (URL hashing, session ids in URLs).
        location / { default_type text/plain; return 200 "$body \$uri\n"; }
    }
}
EOF
}

topo_nginx_start() {  # NS DIR
    local ns="$1" dir="$2" n
    # 9>&-: the daemon must not inherit scripts/topo's lock
    nsx "$ns" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 9>&- || return 1
    for n in $(seq 1 50); do [ -s "$dir/nginx.pid" ] && return 0; sleep 0.1; done
    log "nginx in $ns did not write its pid file"; return 1
}

topo_nginx_up() {  # PREFIX [webs]: with "webs", only the back-end web servers (the full array serves the VIP)
    local p="$1" only="${2:-}" rd i dir
    topo_complete "$p" || die "topology $p is not up (scripts/topo up $p)"
    rd="$(topo_rundir "$p")"
    mkdir -p -m 0755 "$rd/www"
    # /big: 20 MiB of random bytes, one file shared by every node (so a client can check the digest).
    if [ ! -s "$rd/www/big" ]; then
        head -c $((20 * 1024 * 1024)) /dev/urandom >"$rd/www/big.tmp" && mv "$rd/www/big.tmp" "$rd/www/big"
        sha256sum "$rd/www/big" | awk '{print $1}' >"$rd/www/big.sha256"
    fi
    chmod 0644 "$rd/www/big"
    for i in "${TOPO_NODES[@]}"; do
        [ "$only" = webs ] && break
        dir="$rd/n$i"
        [ -s "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null && continue
        topo_nginx_conf "$dir" "node $i" "$TOPO_VIP:80" "$TOPO_LAN.1$i:80"
        topo_nginx_start "$p-n$i" "$dir" || return 1
    done
    for i in "${TOPO_WEBS[@]}"; do
        dir="$rd/web$i"
        [ -s "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null && continue
        topo_nginx_conf "$dir" "web $i" "$TOPO_LAN.3$i:80"
        topo_nginx_start "$p-web$i" "$dir" || return 1
    done
}

topo_nginx_down() {
    local p="$1" rd pidf pid n
    rd="$(topo_rundir "$p")"
    for pidf in "$rd"/*/nginx.pid; do
        [ -f "$pidf" ] || continue
        pid="$(cat "$pidf" 2>/dev/null)"
        [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
        for n in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$pidf"
    done
    return 0
}
