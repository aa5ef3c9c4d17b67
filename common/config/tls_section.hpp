// The 'tls' section: the DLBA server's certificate and key files, and its session-ticket keys.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

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
    // An OpenSSL 3 provider loaded beside the default one for every TLS context of the server (a hardware
    // accelerator's, e.g. QAT): its name and, optionally, the directory it is found in.
    std::string provider;
    std::string provider_path;
    int provider_line = 0;
};

// The section is optional (nullopt when absent); present, it needs the certificate and the key.
std::optional<TlsConfig> read_tls_section(const ConfigReader& in, const libconfig::Setting& root);

}  // namespace dlba
