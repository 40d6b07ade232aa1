"""connect(): URL forms, TLS verification (also for 127.0.0.1, where pyVmomi would skip it),
and the error classes for servers that are not there or are not vCenter. Real sockets, real TLS,
no mocking; the vCenter side is covered by the simulator tests."""
import http.server
import socket
import ssl
import sys
import threading
from pathlib import Path

import pytest

from esxpath.errors import ConnectionFailed, TlsError, UsageError
from esxpath.vsphere.session import ConnectOptions, Endpoint, connect, parse_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from selfsigned import self_signed  # noqa: E402


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
    cert, key = self_signed(tmp_path, "server")
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
    other_ca, _ = self_signed(tmp_path, "other")
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
