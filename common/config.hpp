// The array configuration: one libconfig file describes the whole array and every node loads the same file.
// Loading validates everything; a bad file is refused as a whole with file:line and a reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bucket_hash.hpp"
#include "net_types.hpp"

namespace dlba {

struct NodeConfig {
    uint16_t number = 0;  // 1..255, the value stored in buckets
    MacAddr eth0_mac;     // kernel port: where the scheduler sends this node's packets
    uint32_t eth0_ip = 0;
    MacAddr sched_mac;    // DPDK scheduler port
    uint32_t sched_ip = 0;  // answered (ARP, ICMP echo) by the data plane itself
    uint32_t weight = 1;
    bool enabled = true;
    uint32_t priority = 100;  // scheduler election: higher wins, then the lower node number
};

// The node daemon (dlbad): liveness, election, table sync, status sweep. Ports are on each node's eth0 IP.
struct FailoverConfig {
    uint16_t sync_port = 7101;           // TCP: standby schedulers pull the bucket map from the active
    uint32_t sync_interval_ms = 100;
    uint32_t journal_size = 65536;       // changes kept for delta sync
    uint16_t heartbeat_port = 7102;      // UDP: dlbad heartbeats
    uint32_t heartbeat_interval_ms = 50;
    uint32_t dead_after_ms = 250;        // a peer silent this long is gone
    uint32_t probe_misses = 4;           // missed data-plane probes (one per heartbeat interval) before takeover
    uint16_t status_port = 7103;         // TCP: the status daemon answers the sweep
    uint16_t config_port = 7104;         // TCP: `dlbactl config push` prepares and commits a new file here
    uint32_t sweep_delay_ms = 1000;      // pause after each status sweep
    uint32_t sweep_timeout_ms = 300;     // per attempt
    uint32_t sweep_retries = 2;          // further attempts before a node is marked failed
    std::string monitor_socket = "/run/dlba/dlbad.sock";
};

struct IdlePollConfig {
    uint32_t spin_polls = 256;     // empty polls before the loop starts to sleep
    uint32_t sleep_min_us = 20;    // first sleep; doubles on every further empty poll...
    uint32_t sleep_max_us = 1000;  // ...up to this
};

struct SchedulerConfig {
    uint32_t table_size = 65536;
    HashKind hash = HashKind::mix;
    uint64_t hash_seed = 0x6a09e667f3bcc908ULL;
    uint32_t bucket_idle_timeout_s = 300;
    std::string control_socket = "/run/dlba/scheduler.sock";
    IdlePollConfig idle_poll;
    uint32_t garp_count = 3;
    uint32_t garp_interval_ms = 200;
    uint32_t garp_refresh_ms = 10000;  // while active, one more gratuitous ARP this often (0 = never)
    uint32_t fragment_table_size = 4096;
    uint32_t fragment_timeout_ms = 2000;
};

// ---- DLBA server (dlba-server) sections: optional in the file, validated whenever present ----

// Which forwarding header the server adds for the back end (the client's address, the protocol, the host).
enum class ForwardedHeader : uint8_t { x_forwarded_for, forwarded, both, none };
const char* forwarded_header_name(ForwardedHeader f);

// How a service picks a back end for a request.
enum class BalancePolicy : uint8_t {
    cookie,         // persistent cookie: SpServer=<back-end key>, injected next to the session cookie
    url_session,    // a session id in the URL, consistently hashed (every node decides the same)
    url_hash,       // consistent hash of the request target (caches stay hot)
    least_conn,     // fewest open connections relative to weight
    response_time,  // lowest average response time (EWMA) times load, relative to weight
};
const char* balance_policy_name(BalancePolicy p);

enum class SessionIdPlace : uint8_t { query, path };  // "?sid=ABC" or ";jsessionid=ABC"

struct ListenerConfig {
    uint32_t address = 0;  // IPv4, host order; defaults to the array's VIP
    uint16_t port = 0;
    bool tls = false;
    std::string service;   // name of the service whose back ends serve this listener
    size_t service_index = 0;
};

struct ServerTimeouts {
    uint32_t header_ms = 10000;            // first byte of a request (or accept) to the end of its head; 408 after
    uint32_t idle_ms = 60000;              // keep-alive: no byte of a next request for this long closes
    uint32_t body_ms = 30000;              // request body inactivity; also a client not reading the response
    uint32_t backend_connect_ms = 3000;    // connect() to a back end; then it is marked down and another tried
    uint32_t backend_response_ms = 60000;  // back end silent this long once it has the request: 504 or close
    uint32_t shutdown_ms = 10000;          // SIGTERM: in-flight requests get this long to finish
};

struct ServerLimits {
    uint32_t max_header_bytes = 32768;  // header section (431 above)
    uint32_t max_header_count = 100;    // header fields (431 above)
    uint32_t max_uri_bytes = 8192;      // request target (414 above)
    uint64_t max_body_bytes = 0;        // request body, 0 = unlimited (413 above)
};

struct ServerConfig {
    std::vector<ListenerConfig> listeners;
    uint32_t workers = 0;  // worker threads, 0 = one per online core
    std::string monitor_socket = "/run/dlba/server.sock";
    uint32_t max_connections = 10000;  // client connections open at once in this process
    ServerTimeouts timeouts;
    ServerLimits limits;
    ForwardedHeader forwarded = ForwardedHeader::x_forwarded_for;
    std::string access_log;  // "" = off, "stderr", or a file path (appended)
};

// A session-ticket key: 80 bytes given as 160 hex digits, laid out as 16 bytes key name, 32 bytes HMAC-SHA256 key,
// 32 bytes AES-256 key. The first key of the list encrypts new tickets; every key decrypts (rotation: prepend the
// new key, keep the previous one after it for one ticket lifetime).
struct TicketKey {
    std::array<uint8_t, 16> name{};
    std::array<uint8_t, 32> hmac{};
    std::array<uint8_t, 32> aes{};
};

struct TlsConfig {
    std::string certificate;  // PEM: the server certificate followed by its chain
    std::string key;          // PEM private key
    int certificate_line = 0;  // where they were set, so dlba-server can name the line when a file is unusable
    int key_line = 0;
    std::vector<TicketKey> ticket_keys;  // empty: tickets still work, but only on the process that issued them
    uint32_t ticket_lifetime_s = 7200;
};

struct BackendConfig {
    std::string key;  // what SpServer carries; unique, cookie-value characters only
    uint32_t address = 0;
    uint16_t port = 80;
    uint32_t weight = 1;  // 0 = never chosen
    bool enabled = true;
};

struct ServiceConfig {
    std::string name;
    std::vector<size_t> backends;  // indexes into ArrayConfig::backends
    BalancePolicy policy = BalancePolicy::least_conn;
    BalancePolicy fallback = BalancePolicy::least_conn;  // requests without a (valid) cookie or session id
    std::string session_cookie;                         // cookie policy: the application's session cookie
    std::string inject_cookie = "SpServer";
    bool strip_injected = true;  // remove the injected cookie from Cookie before forwarding
    std::string url_session_param;
    SessionIdPlace url_session_in = SessionIdPlace::query;
    double hash_bound_load = 0;  // url hashing with bounded loads: c >= 1, 0 = off
    uint32_t retries = 2;        // further back ends tried after a failed connect
    uint32_t down_interval_ms = 5000;  // a back end marked down is tried again after this long
    uint32_t pool_idle_per_backend = 0;  // idle back-end connections kept per back end (per worker), 0 = none
    uint32_t pool_idle_timeout_ms = 10000;
};

struct ArrayConfig {
    std::string source;  // file it was loaded from
    std::string name = "dlba";
    uint32_t vip = 0;
    std::vector<uint16_t> tcp_ports;
    std::vector<uint16_t> udp_ports;
    SchedulerConfig scheduler;
    FailoverConfig failover;
    std::vector<NodeConfig> nodes;
    // The DLBA server's sections; absent (nullopt / empty) when the file has none.
    std::optional<ServerConfig> server;
    std::optional<TlsConfig> tls;
    std::vector<BackendConfig> backends;
    std::vector<ServiceConfig> services;

    const NodeConfig* node(uint16_t number) const;
    const ServiceConfig* service(const std::string& wanted) const;
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the error is not tied to a line (file missing)
    std::string reason;

    std::string str() const;  // "file:line: reason"
};

using ConfigResult = std::variant<ArrayConfig, ConfigError>;

ConfigResult load_config(const std::string& path);
// Same rules on text held in memory (tests, fuzzing, configs received over the wire); `name` stands for the file.
ConfigResult parse_config(const std::string& text, const std::string& name);

}  // namespace dlba
