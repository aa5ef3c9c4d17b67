#!/usr/bin/python3
"""testssl.sh (Debian's package, 3.0) against the VIP on 443 from the client namespace, through the whole
Pentaflow (issue 5). Its exit code does not reflect findings, so its JSON is parsed: no finding of severity MEDIUM
or above may remain apart from those that the private test PKI causes (listed below, with the reason for each).
TAP, one line per case; root.

How it is run, and why:
- --add-ca with the test CA: testssl then checks the chain of trust against it, so `cert_chain_of_trust` is
  *checked* (it must pass), not excluded.
- DAYS2WARN1=7, DAYS2WARN2=3: scripts/lib/array.sh issues the test certificate for 30 days, and testssl's defaults
  (60 and 30 days) would always call it HIGH ("expires < 30 days"). With thresholds below its lifetime the
  expiry check still runs: an expired or about-to-expire certificate is still reported.
- NXCONNECT=127.0.0.1:0 and --nodns none: testssl probes its openssl with connections to the name "invalid.";
  the namespaces have no resolver, and those lookups alone would take ~100 s of timeouts. No DNS is involved in
  what is tested (the target is the VIP's address).
"""
import json
import os
import subprocess

from dlbatest import array
from dlbatest.tap import Suite, TestFailure, check
from dlbatest.topo import VIP

suite = Suite("e2e-testssl")
state = {}
TESTSSL = "/usr/bin/testssl"
SEVERITIES = ["DEBUG", "INFO", "OK", "LOW", "MEDIUM", "HIGH", "CRITICAL"]

# Findings caused by the private, self-signed test CA (scripts/lib/array.sh array_tls), not by the DLBA server's
# TLS: a test CA has no revocation service, no Certificate Transparency logs, and an IP address has no DNS CAA.
TEST_PKI_IDS = {
    "cert_revocation": "the test CA publishes neither a CRL nor an OCSP responder (testssl: HIGH)",
    "cert_crlDistributionPoints": "no CRL distribution point in a certificate of the test CA",
    "cert_ocspURL": "no OCSP URL in a certificate of the test CA",
    "OCSP_stapling": "nothing to staple without an OCSP responder",
    "cert_mustStapleExtension": "no OCSP responder, so no must-staple",
    "certificate_transparency": "a private CA does not log to Certificate Transparency",
    "DNS_CAArecord": "CAA is a DNS record for public CAs; the VIP is an address without DNS in the namespaces",
}
# Findings about the *application's* HTTP response headers (testssl's header checks on "/"): the DLBA server
# forwards the back end's headers unchanged, and the test back ends (nginx from scripts/topo) set none of
# X-Frame-Options, X-Content-Type-Options, Content-Security-Policy, ... nor HSTS. Not a property of the load
# balancer's TLS; listed separately so that it stays visible in the output.
BACKEND_HEADER_IDS = {
    "security_headers": "no security header in the back end's response (testssl: MEDIUM)",
    "HSTS": "the back end does not send Strict-Transport-Security (testssl: LOW)",
}


def sev_rank(sev):
    return SEVERITIES.index(sev) if sev in SEVERITIES else -1


def findings():
    check("findings" in state, "testssl did not run (previous case)")
    return state["findings"]


@suite.case("testssl.sh runs against the VIP on 443 from the client namespace and writes its JSON", timeout=300)
def case_run():
    arr = state["array"]
    out = os.path.join(state["workdir"], "testssl.json")
    # Every check group of testssl's default run but client simulation (-c: ~30 handshakes that name which
    # browsers would connect; it reports no finding with a severity), left out to keep the run short.
    cmd = ["ip", "netns", "exec", arr.ns("client"), TESTSSL, "-p", "-s", "-f", "-S", "-P", "-h", "-U",
           "--jsonfile", out, "--warnings", "off", "--quiet",
           "--color", "0", "--openssl", "/usr/bin/openssl", "--nodns", "none", "--add-ca", arr.ca(),
           "--connect-timeout", "5", "--openssl-timeout", "5", f"{VIP}:443"]
    env = dict(os.environ, NXCONNECT="127.0.0.1:0", DAYS2WARN1="7", DAYS2WARN2="3")
    try:
        cp = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=270, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestFailure("testssl.sh took more than 270 s") from e
    state["stdout"] = cp.stdout
    check(os.path.exists(out), f"testssl.sh wrote no JSON (exit {cp.returncode}):\n{cp.stdout[-1500:]}"
                               f"{cp.stderr[-500:]}")
    with open(out) as f:
        doc = json.load(f)
    check(isinstance(doc, list) and doc, f"unexpected JSON from testssl.sh: {str(doc)[:300]}")
    state["findings"] = doc
    by_sev = {}
    for f in doc:
        by_sev[f.get("severity")] = by_sev.get(f.get("severity"), 0) + 1
    scan = next((f["finding"] for f in doc if f.get("id") == "scanTime"), "?")
    Suite.diag(f"testssl.sh exit {cp.returncode} (does not reflect findings); {len(doc)} findings "
               f"{dict(sorted(by_sev.items()))}; scan time {scan} s")
    check(any(f.get("id") == "TLS1_3" for f in doc), "the JSON holds no protocol findings: the scan did not run")


@suite.case("no finding of severity MEDIUM or above apart from the test PKI's (and the back end's headers)")
def case_severity():
    bad, excluded = [], []
    for f in findings():
        fid, sev = f.get("id", ""), f.get("severity", "")
        line = f"{sev} {fid}: {f.get('finding', '')}"
        if sev not in SEVERITIES and sev != "WARN":
            bad.append(line + "   [unknown severity: testssl could not run a check?]")
            continue
        if sev_rank(sev) < sev_rank("LOW") and sev != "WARN":
            continue
        base = fid.split(" <cert#")[0]  # ids get " <cert#N>" when the server has several certificates
        if base in TEST_PKI_IDS:
            excluded.append(f"{line}   [excluded: test PKI: {TEST_PKI_IDS[base]}]")
        elif base in BACKEND_HEADER_IDS:
            excluded.append(f"{line}   [excluded: back-end response headers: {BACKEND_HEADER_IDS[base]}]")
        elif sev_rank(sev) >= sev_rank("MEDIUM"):
            bad.append(line)
        else:
            Suite.diag(line)  # LOW and WARN (testssl's own warnings, e.g. about the local openssl)
    for line in excluded:
        Suite.diag(line)
    check(not bad, f"{len(bad)} finding(s) of severity MEDIUM or above:\n" + "\n".join(bad))


@suite.case("protocols TLS 1.2 and 1.3 only, forward secrecy, chain of trust passes against the test CA, "
            "certificate valid for the VIP, session tickets resume")
def case_positive():
    f = {x["id"]: x for x in findings()}

    def finding(fid):
        check(fid in f, f"testssl reported no '{fid}'")
        return f[fid]["finding"]
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        check(finding(proto).startswith("not offered"), f"{proto}: {finding(proto)}")
    for proto in ("TLS1_2", "TLS1_3"):
        check(finding(proto).startswith("offered"), f"{proto}: {finding(proto)}")
    check(f["PFS"]["severity"] == "OK", f"forward secrecy: {f['PFS']}")
    check(finding("cert_chain_of_trust").startswith("passed"), f"chain of trust: {finding('cert_chain_of_trust')}")
    check(VIP in finding("cert_subjectAltName").split(), f"SAN: {finding('cert_subjectAltName')}")
    check(f["cert_trust"]["severity"] == "OK", f"hostname trust: {f['cert_trust']}")
    check(finding("sessionresumption_ticket") == "supported", f"tickets: {finding('sessionresumption_ticket')}")
    Suite.diag(f"negotiated: {finding('cipher_negotiated')}; TLS 1.2 order: {finding('cipherorder_TLSv1_2')}; "
               f"TLS 1.3: {finding('cipherorder_TLSv1_3')}; expiry: {finding('cert_expirationStatus')}")


def diagnostics():
    out = []
    if state.get("stdout"):
        out.append("--- testssl.sh output (end)")
        out.append("\n".join(state["stdout"].splitlines()[-25:]))
    return "\n".join(out)


if __name__ == "__main__":
    array.main(suite, state, lambda: array.bring_up(state, "dlba-e2e-testssl-", [(TESTSSL, "testssl.sh")]),
               diagnostics)
