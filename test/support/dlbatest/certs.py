"""TLS material for the dlba-server tests: a test CA, server certificates for 127.0.0.1 signed by it, ticket keys.
(The e2e array makes its own for the VIP: scripts/lib/array.sh.)"""
import os

from dlbatest.procs import run

SERVER_EXTENSIONS = ("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                     "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")


def _new_key(key, out, subject, *x509):
    run(["openssl", "req", *x509, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
         "-out", out, "-subj", subject])


def sign_server_certificate(root, name, ca, ca_key, key, subject="/CN=127.0.0.1"):
    """A new P-256 key written to `key` and a certificate for 127.0.0.1 (and localhost) signed by the CA, valid
    two days. Returns the chain (the certificate, then the CA's), written to root/NAME-chain.pem."""
    csr, crt, ext = (os.path.join(root, f"{name}.{x}") for x in ("csr", "pem", "ext"))
    with open(ext, "w") as f:
        f.write(SERVER_EXTENSIONS)
    _new_key(key, csr, subject)
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
         "-days", "2", "-extfile", ext])
    chain = os.path.join(root, f"{name}-chain.pem")
    with open(chain, "w") as out, open(crt) as a, open(ca) as b:
        out.write(a.read() + b.read())
    return chain


def make_certificates(root):
    """A test CA (root/ca.pem, its key root/ca.key) and a server certificate for 127.0.0.1 signed by it. Returns
    (ca, chain, key) paths."""
    ca_key, ca = os.path.join(root, "ca.key"), os.path.join(root, "ca.pem")
    _new_key(ca_key, ca, "/CN=DLBA test CA", "-x509", "-days", "2")
    key = os.path.join(root, "server.key")
    return ca, sign_server_certificate(root, "server", ca, ca_key, key), key


def ticket_key():
    return os.urandom(80).hex()
