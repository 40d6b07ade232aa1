"""Bad inputs: each one is a one-line error with its documented exit code, and writes nothing.

Every case runs `esxpath apply` (the command that would write) as a subprocess with the
simulator's env, changed as the case says; the simulator's write log must stay empty.
Exit codes (esxpath --help): 64 usage, 65 scope matched nothing, 69 connection/TLS, 77
authentication, 78 configuration; apply reports an unverifiable host with 3.
"""
from __future__ import annotations

import datetime as dt
import http.server
import os
import stat
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cli_process import assert_one_line_error, cli_env, explain, run, writes

pytestmark = pytest.mark.sim


# ---------------------------------------------------------------- certificates and servers

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="esxpath test CA"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, *, expired=False):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.timezone.utc)
    start, end = ((now - dt.timedelta(days=60), now - dt.timedelta(days=1)) if expired
                  else (now - dt.timedelta(days=1), now + dt.timedelta(days=30)))
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                       x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end).add_extension(san, critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pem(path, cert, key=None):
    data = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


class _Html(http.server.BaseHTTPRequestHandler):
    """Something that is not vSphere: a web page for every request."""

    def _answer(self):
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def log_message(self, *a):
        pass


class _Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed handshakes are what these servers are for


def serve(tls_pem=None):
    """An HTML server on 127.0.0.1 (HTTPS when given cert+key PEM); returns (url, stop)."""
    srv = _Quiet(("127.0.0.1", 0), _Html)
    if tls_pem:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_pem)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    scheme = "https" if tls_pem else "http"
    return f"{scheme}://127.0.0.1:{srv.server_address[1]}/sdk", srv.shutdown


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_ca()
    good_key, good = make_leaf(ca_key, ca)
    old_key, old = make_leaf(ca_key, ca, expired=True)
    _, other_ca = make_ca("some other CA")
    return {"ca": write_pem(d / "ca.pem", ca), "other_ca": write_pem(d / "other-ca.pem", other_ca),
            "good": write_pem(d / "good.pem", good, good_key),
            "expired": write_pem(d / "expired.pem", old, old_key)}


# ---------------------------------------------------------------- the table
# id -> (setup(ctx) -> (args, env overrides, cleanup), exit code, words the error line must carry)

def _plain(args, **env):
    return lambda ctx: (args, env, None)


def _expired(ctx):
    url, stop = serve(ctx["pki"]["expired"])
    return [], {"ESXPATH_VCENTER": url, "ESXPATH_CA_FILE": ctx["pki"]["ca"]}, stop


def _not_vcenter_https(ctx):
    url, stop = serve(ctx["pki"]["good"])
    return [], {"ESXPATH_VCENTER": url, "ESXPATH_CA_FILE": ctx["pki"]["ca"]}, stop


def _not_vcenter_http(ctx):
    url, stop = serve()
    return [], {"ESXPATH_VCENTER": url.replace("http://", "https://")}, stop


def _password_file_missing(ctx):
    return ["--password-file", str(ctx["tmp"] / "no-such-file")], {"ESXPATH_PASSWORD": None}, None


def _password_file_world_readable(ctx):
    p = ctx["tmp"] / "pw"
    p.write_text(ctx["lab"].password + "\n")
    p.chmod(0o644)
    return ["--password-file", str(p)], {"ESXPATH_PASSWORD": None}, None


def _password_file_group_readable(ctx):
    p = ctx["tmp"] / "pw"
    p.write_text(ctx["lab"].password + "\n")
    p.chmod(0o640)  # owner-only is the rule, as the wrapper's env file has it
    return ["--password-file", str(p)], {"ESXPATH_PASSWORD": None}, None


def _password_in_url_option(ctx):
    host = ctx["lab"].url.split("://", 1)[1]
    return ["--vcenter", f"https://u:{ctx['lab'].password}@{host}"], {}, None


def _password_in_env_url(ctx):
    host = ctx["lab"].url.split("://", 1)[1]
    return [], {"ESXPATH_VCENTER": None, "GOVC_URL": f"https://u:{ctx['lab'].password}@{host}"}, None


def _password_file_not_utf8(ctx):
    p = ctx["tmp"] / "pw"
    p.write_bytes(b"\xff\xfe secret\n")
    p.chmod(0o600)
    return ["--password-file", str(p)], {"ESXPATH_PASSWORD": None}, None


def _replay_corrupt(ctx):
    p = ctx["tmp"] / "corrupt.yaml"
    p.write_text("interactions: [\n  - {not yaml\n")
    return ["--replay", str(p)], {}, None


def _record_unwritable(ctx):
    return ["--record", "/proc/esxpath-cassette.yaml"], {}, None  # /proc takes no new files


def _esxcli_missing(ctx):
    # The simulator has no switch that removes esxcli from a host; the nearest it offers is a
    # host whose RetrieveManagedMethodExecuter always fails. Its hosts are then unverifiable.
    ctx["lab"].post("/faults", {"method": "RetrieveManagedMethodExecuter", "count": 100000,
                                "fault": "SystemError", "host": "esx02"})
    return ["--host", "esx02"], {}, None


def _fifo(ctx, name="fifo"):
    p = ctx["tmp"] / name
    os.mkfifo(p)
    return str(p)


def _dir(ctx):
    p = ctx["tmp"] / "a-directory"
    p.mkdir()
    return str(p)


def _config_dir(ctx):  # read because a profile is asked for (docs/config.md)
    return ["--config", _dir(ctx), "--profile", "lab"], {}, None


def _replay_empty(ctx):
    p = ctx["tmp"] / "empty.yaml"
    p.write_text("")
    return ["--replay", str(p)], {}, None


def _replay_no_interactions(ctx):
    p = ctx["tmp"] / "none.yaml"
    p.write_text("interactions: []\nversion: 1\n")
    return ["--replay", str(p)], {}, None


# issue 23: inputs that are not regular files are refused at once (a FIFO used to hang), and
# the codes the docs give; output targets that are not regular files: test_output_files.py
NOT_REGULAR_CASES = {
    "password-file-fifo": (lambda ctx: (["--password-file", _fifo(ctx)],
                                        {"ESXPATH_PASSWORD": None}, None), 78, "a FIFO"),
    "password-file-directory": (lambda ctx: (["--password-file", _dir(ctx)],
                                             {"ESXPATH_PASSWORD": None}, None), 78, "a directory"),
    "password-file-device": (_plain(["--password-file", "/dev/zero"], ESXPATH_PASSWORD=None), 78,
                             "a character device"),
    "config-directory": (_config_dir, 78, "a directory"),
    "config-fifo": (lambda ctx: (["--config", _fifo(ctx), "--profile", "lab"], {}, None), 78,
                    "a FIFO"),
    "ca-file-fifo": (lambda ctx: (["--ca-file", _fifo(ctx)], {}, None), 78, "a FIFO"),
    "ca-file-directory": (lambda ctx: (["--ca-file", _dir(ctx)], {}, None), 78, "a directory"),
    "replay-empty-cassette": (_replay_empty, 78, "empty"),
    "replay-cassette-without-interactions": (_replay_no_interactions, 78, "no recorded session"),
    "replay-fifo": (lambda ctx: (["--replay", _fifo(ctx)], {}, None), 78, "a FIFO"),
    "replay-device": (_plain(["--replay", "/dev/zero"]), 78, "a character device"),
    "replay-directory": (lambda ctx: (["--replay", _dir(ctx)], {}, None), 78, "a directory"),
    "record-device": (_plain(["--record", "/dev/full"]), 78, "a character device"),
    "record-fifo": (lambda ctx: (["--record", _fifo(ctx)], {}, None), 78, "a FIFO"),
    "record-directory": (lambda ctx: (["--record", _dir(ctx)], {}, None), 78, "a directory"),
    "url-port-0": (_plain([], ESXPATH_VCENTER="https://127.0.0.1:0/sdk"), 64, "port"),
    "url-port-0-bare": (_plain(["--vcenter", "127.0.0.1:0"]), 64, "port"),
}

CASES = {
    "url-refused": (lambda ctx: ([], {"ESXPATH_VCENTER": f"https://127.0.0.1:{free_port()}/sdk"},
                                 None), 69, "refused"),
    "url-not-https": (_plain([], ESXPATH_VCENTER="ftp://127.0.0.1/sdk"), 64, "https"),
    "url-bad-port": (_plain([], ESXPATH_VCENTER="https://127.0.0.1:99999/sdk"), 64, "port"),
    "url-unresolvable": (_plain([], ESXPATH_VCENTER="https://no-such-host.invalid/sdk"), 69,
                         "no-such-host.invalid"),
    "unknown-datacenter": (_plain(["--datacenter", "DC9"]), 65, "DC9"),
    "unknown-cluster": (_plain(["--cluster", "no-such-cluster"]), 65, "no-such-cluster"),
    "unknown-host": (_plain(["--host", "esx99"]), 65, "esx99"),
    "glob-matches-nothing": (_plain(["--device", "eui.ffff*"]), 65, "eui.ffff*"),
    "iops-0": (_plain(["--iops", "0"]), 64, "--iops"),
    "iops-with-latency": (_plain(["--iops", "1", "--latency"]), 64, "--latency"),
    "password-file-missing": (_password_file_missing, 78, "no-such-file"),
    "password-file-world-readable": (_password_file_world_readable, 78, "chmod"),
    "wrong-password": (_plain([], ESXPATH_PASSWORD="not-the-password"), 77, ""),
    "certificate-expired": (_expired, 69, "expired"),
    "ca-does-not-match": (lambda ctx: ([], {"ESXPATH_CA_FILE": ctx["pki"]["other_ca"]}, None),
                          69, "certificate"),
    "not-a-vcenter-https": (_not_vcenter_https, 69, "not a vCenter"),
    "not-a-vcenter-plain-http": (_not_vcenter_http, 69, ""),
    "esxcli-missing": (_esxcli_missing, 3, "esx02"),
    # issue 15: numbers, URLs and passwords that used to slip through or crash
    "timeout-nan": (_plain(["--timeout", "nan"]), 64, "finite"),
    "timeout-inf": (_plain(["--timeout", "inf"]), 64, "finite"),
    "url-ipv6-unclosed": (_plain([], ESXPATH_VCENTER="https://[::1/sdk"), 64, "URL"),
    "url-user-bad-port": (_plain([], ESXPATH_VCENTER="https://u@127.0.0.1:99999/sdk"), 64, "port"),
    "url-with-spaces": (_plain([], ESXPATH_VCENTER="vc example com"), 64, "host name"),
    "password-in-url-option": (_password_in_url_option, 64, "ESXPATH_PASSWORD"),
    "password-in-env-url": (_password_in_env_url, 64, "ESXPATH_PASSWORD"),
    "password-file-group-readable": (_password_file_group_readable, 78, "chmod 600"),
    "password-file-not-utf8": (_password_file_not_utf8, 78, "UTF-8"),
    "replay-corrupt-cassette": (_replay_corrupt, 78, "cannot read cassette"),
    "record-unwritable": (_record_unwritable, 78, "cannot write cassette"),
    **NOT_REGULAR_CASES,
}

GLOBAL_OPTIONS = ("--record", "--replay")  # they go before the command


@pytest.mark.parametrize("case", CASES)
def test_bad_input(lab, sim_env, pki, tmp_path, case):
    setup, code, words = CASES[case]
    args, overrides, cleanup = setup({"lab": lab, "pki": pki, "tmp": tmp_path})
    try:
        split = 2 if args[:1] and args[0] in GLOBAL_OPTIONS else 0
        proc = run(cli_env(sim_env, **overrides), *args[:split], "apply", *args[split:],
                   timeout=120)
    finally:
        if cleanup:
            cleanup()
    assert proc.returncode == code, explain(proc)
    if code == 3:  # not an error of the run: the host is reported, the others untouched
        assert "Traceback" not in proc.stderr, explain(proc)
        assert words in proc.stdout + proc.stderr, explain(proc)
    else:
        line = assert_one_line_error(proc)
        assert words.lower() in line.lower(), f"{line!r} does not mention {words!r}"
    assert writes(lab) == [], f"{case} wrote {writes(lab)}"
    assert lab.password not in proc.stdout + proc.stderr  # not even in an error about it
    for dev in ("/dev/full", "/dev/zero"):  # named by some cases: never replaced
        assert stat.S_ISCHR(os.lstat(dev).st_mode), f"{case}: {dev} is no longer a device"
