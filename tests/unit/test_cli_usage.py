"""The CLI's own behaviour without any server: help, version, usage errors, exit codes."""
import subprocess
import sys

import pytest

from esxpath import __version__
from esxpath.errors import ExitStatus


def esxpath(*args, env=None):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run([sys.executable, "-m", "esxpath", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, stdin=subprocess.DEVNULL)


def test_version_and_help():
    r = esxpath("--version")
    assert r.returncode == 0 and __version__ in r.stdout
    r = esxpath("--help")
    assert r.returncode == 0
    for cmd in ("apply", "audit", "check", "show"):
        assert cmd in r.stdout


@pytest.mark.parametrize("args, status, text", [
    (["audit", "--bogus"], ExitStatus.USAGE, "No such option"),
    (["apply", "--iops", "0"], ExitStatus.USAGE, "--iops"),
    (["nosuchcommand"], ExitStatus.USAGE, "No such command"),
    (["show"], ExitStatus.USAGE, "--vcenter"),
    (["show", "--vcenter", "vc"], ExitStatus.USAGE, "--user"),
    (["show", "--vcenter", "vc", "--user", "u"], ExitStatus.CONFIG, "ESXPATH_PASSWORD"),
    (["audit", "--vcenter", "vc", "--user", "u"], ExitStatus.UNKNOWN, "ESXPATH_PASSWORD"),
])
def test_usage_errors_exit_non_zero_without_traceback(args, status, text):
    r = esxpath(*args)
    assert r.returncode == status, r.stderr
    assert text in r.stderr
    assert "Traceback" not in r.stderr


def test_iops_and_latency_exclude_each_other():
    r = esxpath("apply", "--iops", "1", "--latency",
                env={"ESXPATH_VCENTER": "127.0.0.1:9", "ESXPATH_USER": "u", "ESXPATH_PASSWORD": "p"})
    assert r.returncode == ExitStatus.USAGE, r.stderr
    assert "exclude" in r.stderr


def test_no_password_option_exists():
    for cmd in ("show", "apply", "audit", "check"):
        out = esxpath(cmd, "--help").stdout
        assert "--password-file" in out
        assert "--password " not in out and "--password=" not in out


@pytest.mark.parametrize("command", ["show", "apply", "check"])
def test_json_readers_get_a_document_when_vcenter_is_unreachable(command):
    import json
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = esxpath(command, "-o", "json", env={
        "ESXPATH_VCENTER": f"https://127.0.0.1:{port}/sdk", "ESXPATH_USER": "u",
        "ESXPATH_PASSWORD": "p"})
    assert r.returncode == ExitStatus.CONNECTION, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "esxpath/report/1" and doc["command"] == command
    assert doc["status"] == "UNKNOWN" and doc["findings"][0]["code"] == "error"
    assert "Traceback" not in r.stderr
