// A back end's 'tls' group: what it turns on, its defaults, and the refusals with file:line.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

const std::string kPlain = R"(address = "127.0.0.12"; port = 8081; enabled = false; })";

std::string with_tls(const std::string& group) {
    return replace(kServerFileText, kPlain,
                   R"(address = "127.0.0.12"; port = 8081; enabled = false; tls = )" + group + "; }");
}

}  // namespace

TEST_CASE("backend tls: off unless given; the group's values and defaults", "[config][server][tls]") {
    const Config plain = loaded(kServerFileText, "srv.conf");
    CHECK_FALSE(plain.backends[1].tls.enabled);

    const Config c = loaded(with_tls(R"({ ca_file = "/etc/dlba/ca.pem"; sni = "web.example"; })"), "srv.conf");
    const BackendTlsConfig& t = c.backends[1].tls;
    CHECK(t.enabled);  // the group alone turns it on
    CHECK(t.verify == BackendVerify::required);
    CHECK(t.ca_file == "/etc/dlba/ca.pem");
    CHECK(t.ca_line == 28);
    CHECK(t.sni == BackendSni::name);
    CHECK(t.sni_name == "web.example");
    CHECK(t.certificate.empty());

    const Config h = loaded(with_tls(R"({ verify = "none"; sni = "host"; certificate = "c.pem"; key = "k.pem"; })"),
                            "srv.conf");
    CHECK(h.backends[1].tls.verify == BackendVerify::none);
    CHECK(h.backends[1].tls.sni == BackendSni::host);
    CHECK(h.backends[1].tls.key == "k.pem");

    const Config off = loaded(with_tls("{ enabled = false; }"), "srv.conf");
    CHECK_FALSE(off.backends[1].tls.enabled);
}

TEST_CASE("backend tls errors name file, line and reason", "[config][server][tls]") {
    check_refusals("srv.conf", {
        {"unknown key", with_tls("{ cafile = \"x\"; }"), 28, "cafile"},
        {"bad verify", with_tls("{ verify = \"maybe\"; }"), 28, "is not one of"},
        {"IP address as SNI", with_tls("{ sni = \"10.0.0.1\"; }"), 28, "DNS name"},
        {"SNI with a space", with_tls("{ sni = \"a b\"; }"), 28, "DNS name"},
        {"certificate without key", with_tls("{ certificate = \"c.pem\"; }"), 28, "both 'certificate' and 'key'"},
        {"empty ca_file", with_tls("{ ca_file = \"\"; }"), 28, "is empty"},
        {"ca_file with verify none", with_tls("{ verify = \"none\"; ca_file = \"x\"; }"), 28, "would ignore it"},
        {"not a group", with_tls("true"), 28, "must be a group"},
    });
}
