"""Test support for DLBA's integration suites and benchmark drivers (test/integration, test/pcap, test/server,
test/failover, test/push, test/e2e; scripts/bench-failover, scripts/bench-proxy). meson and those scripts put
test/support on PYTHONPATH; the suites import what they use from the modules:

  tap          TAP output: Suite (cases with time limits), Results (checks of a script), check, wait_until, main
  procs        processes (Proc), commands (run), temporary directories; cleanup at exit and on SIGTERM
  paths        the source and build trees, scripts and binaries
  netns        entering a namespace from a thread, raw frames on a namespace's interface
  topo         the scripts/topo topology: addresses, Topology, clients in its client namespace
  http_client  ports, raw exchanges, HTTP/1.1 answers read by their framing
  ctl          control and monitor sockets, through dlbactl or directly; dlba-table rows
  config       variants of conf/dlba.conf for schedulers and node daemons
  scheduler    dlba-scheduler on a topology's node
  dlbad        dlbad on a topology's node
  failover     the failover array: a scheduler and dlbad on every node, dlbad electing
  arp          ARP for the VIP from the router: frames, a watcher, probes
  load         client load that checks every answer (through the VIP, or to a dlba-server on loopback)
  capture      tcpdump in a namespace, for diagnostics
  pcap         dlba-scheduler on net_pcap, capture files
  nginx        nginx and Python echo back ends on loopback
  scripted_backend  a back end that answers exactly the bytes a test gives, and records connection reuse
  certs        a test CA, server certificates, ticket keys
  server       dlba-server processes and their configuration
  array        the scripts/array Pentaflow of the e2e tests; byte counters; the e2e scripts' setup and end
  clients      the e2e tests' own client threads through the VIP
  chromium     headless Chromium over the DevTools protocol
  loadgen      wrk and h2load: command lines and their output

Every wait, loop and thread is bounded in count and time; everything started or made is stopped or removed in
the suites' teardown, at exit and on SIGTERM.
"""
