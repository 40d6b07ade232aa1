"""connect(): URL forms, TLS verification (also for 127.0.0.1, where pyVmomi would skip it),
and the error classes for servers that are not there or are not vCenter. Real sockets, real TLS,
no mocking; the vCenter side is covered by the simulator tests."""
import datetime
import http.server
import ipaddress
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from esxpath.errors import ConnectionFailed, TlsError, UsageError
from esxpath.vsphere.session import ConnectOptions, Endpoint, connect, parse_url


@pytest.mark.parametrize("url, expected", [
    ("vc.example.com", Endpoint("vc.example.com", 443, "/sdk")),
    ("vc:8443", Endpoint("vc", 8443, "/sdk")),
    ("https://vc/sdk", Endpoint("vc", 443, "/sdk")),
    ("https://vc.example.com:9443/sdk/", Endpoint("vc.example.com", 9443, "/sdk")),
    ("https://127.0.0.1:40123/sdk", Endpoint("127.0.0.1", 40123, "/sdk")),
    ("[::1]:8443", Endpoint("::1", 8443, "/sdk")),
])
def test_parse_url(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize("url", ["", "http://vc/sdk", "https://:443/sdk", "vc:notaport"])
def test_parse_url_rejects(url):
    with pytest.raises(UsageError):
        parse_url(url)


def _self_signed(tmp_path, name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file = tmp_path / f"{name}.pem"
    key_file = tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


class _NotVcenter(http.server.BaseHTTPRequestHandler):
    """An HTTPS server that answers, but not as vSphere (a web server on the wrong port)."""

    def do_GET(self):
        body = b"<html>hello</html>"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    cert, key = _self_signed(tmp_path, "server")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotVcenter)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/sdk", cert
    httpd.shutdown()
    httpd.server_close()


def _opts(url, **kw):
    return ConnectOptions(url=url, user="u", password="secret-pw", timeout=5, **kw)


def test_wrong_ca_fails_tls_even_for_127_0_0_1(https_server, tmp_path):
    url, _ = https_server
    other_ca, _ = _self_signed(tmp_path, "other")
    with pytest.raises(TlsError) as err:
        connect(_opts(url, ca_file=other_ca))
    msg = str(err.value)
    assert "certificate verify failed" in msg and "--ca-file" in msg and "--insecure" in msg
    assert "secret-pw" not in msg


def test_system_cas_do_not_trust_a_self_signed_localhost(https_server):
    url, _ = https_server
    with pytest.raises(TlsError):
        connect(_opts(url))


def test_right_ca_reaches_server_that_is_not_vcenter(https_server):
    url, cert = https_server
    with pytest.raises(ConnectionFailed) as err:
        connect(_opts(url, ca_file=cert))
    assert not isinstance(err.value, TlsError)
    assert "not a vCenter" in str(err.value)


def test_insecure_skips_verification(https_server):
    url, _ = https_server
    with pytest.raises(ConnectionFailed) as err:
        connect(_opts(url, insecure=True))
    assert not isinstance(err.value, TlsError)


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ConnectionFailed) as err:
        connect(_opts(f"127.0.0.1:{port}"))
    assert "refused" in str(err.value)


def test_unresolvable_host():
    with pytest.raises(ConnectionFailed) as err:
        connect(_opts("no-such-host.invalid"))
    assert "resolve" in str(err.value)
