"""No credential may reach a cassette.

Live part (simulator): record fresh cassettes, in-process (where the real cookie and session key
are known) and through the CLI with writes, and grep them for the simulator's password, user and
session cookie/key values. Offline part: every committed cassette against patterns that match
any unscrubbed password, user name, cookie, session key or auth header.
"""
from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest

from cassette_replay import CASSETTES, clean_env, esxpath

USER = "esxpath@vsphere.local"  # the simulator's fixed user (tests/sim/README.md)
LEAKS = [
    re.compile(r"<(?:\w+:)?password\b[^>]*>(?!REDACTED<)[^<]"),
    re.compile(r"<(?:\w+:)?userName\b[^>]*>(?!REDACTED<)[^<]"),
    re.compile(r"vmware_soap_session=(?!\"?REDACTED)"),
    re.compile(r"session\[(?!REDACTED\])[^\]]"),
    re.compile(r"<key>(?!REDACTED<)[^<]*</key><userName>"),  # a UserSession's key
    re.compile(r"(?i)^\s*(?:authorization|proxy-authorization|vmware-api-session-id):\s*\n\s*- (?!REDACTED)",
               re.M),
    re.compile(re.escape(USER)),
]


def leaks_in(text: str) -> list[str]:
    return [m.group(0) for pattern in LEAKS for m in pattern.finditer(text)]


def assert_clean(text: str, *secrets: str) -> None:
    found = [s for s in secrets if s and s in text]
    assert not found, f"secret value(s) in the cassette: {[s[:3] + '...' for s in found]}"
    assert not leaks_in(text), leaks_in(text)[:5]


@pytest.mark.offline
def test_committed_cassettes_hold_no_credentials():
    cassettes = sorted(CASSETTES.glob("*.yaml"))
    assert cassettes, "no cassettes: run python3 tests/record_cassettes.py"
    for path in cassettes:
        text = path.read_text()
        assert not leaks_in(text), f"{path.name}: {leaks_in(text)[:5]}"


@pytest.mark.offline
@pytest.mark.parametrize("text", [
    '<password versionId="9.0.0.0">hunter2</password>',
    "<userName>administrator@vsphere.local</userName>",
    'Set-Cookie: vmware_soap_session="52a0c3"; Path=/',
    '<obj type="PropertyCollector">session[52b8-11]52c1</obj>',
    "<returnval><key>5213-aa</key><userName>",
])
def test_the_scan_would_see_a_leak(text):
    assert leaks_in(text)


@pytest.mark.sim
def test_fresh_in_process_recording_holds_no_password_user_cookie_or_session_key(lab, tmp_path):
    from esxpath.core.model import Scope
    from esxpath.vsphere import ConnectOptions, connect, read_inventory
    from esxpath.vsphere.recording import recording

    path = tmp_path / "fresh.yaml"
    with recording(str(path), "record"):
        session = connect(ConnectOptions(lab.url, lab.user, lab.password, ca_file=lab.ca_file))
        try:
            cookie = SimpleCookie(session.stub.cookie)["vmware_soap_session"].value
            key = session.content.sessionManager.currentSession.key  # a UserSession in the cassette
            read_inventory(session, Scope())  # threaded esxcli reads
        finally:
            session.close()
    assert cookie and key
    text = path.read_text()
    assert "currentSession" in text and "ExecuteSoap" in text  # the scan saw real traffic
    assert_clean(text, lab.password, lab.user, cookie, key)


@pytest.mark.sim
def test_fresh_cli_recordings_with_writes_and_a_failed_login_hold_no_credentials(lab, sim_env, tmp_path):
    env = clean_env(**{k: v for k, v in sim_env.items() if k.startswith("ESXPATH_")})
    runs = {"apply": (["apply", "--claim-rule"], env, 0),
            "badlogin": (["show"], {**env, "ESXPATH_PASSWORD": lab.password[::-1]}, 77)}
    for name, (argv, run_env, want) in runs.items():
        path = tmp_path / f"{name}.yaml"
        proc = esxpath(["--record", str(path), *argv], run_env)
        assert proc.returncode == want, proc.stderr
        assert_clean(path.read_text(), lab.password, lab.password[::-1], lab.user)


@pytest.mark.sim
@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
def test_verbose_recording_shows_no_secret_on_stderr(lab, sim_env, tmp_path, verbosity):
    # users attach exactly this run to bug reports (docs/operations.md)
    from cli_process import cli_env, run

    proc = run(cli_env(sim_env), verbosity, "--record", str(tmp_path / "c.yaml"), "show")
    assert proc.returncode == 0, proc.stderr
    assert lab.password not in proc.stderr
    assert not re.search(r"vmware_soap_session=(\"|&quot;)?[0-9a-f]{8}", proc.stderr), proc.stderr
    assert not re.search(r"session\[[0-9a-f-]{8,}", proc.stderr), proc.stderr
