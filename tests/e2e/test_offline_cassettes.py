"""Replay every cassette in cassettes/ with `esxpath --replay` (record mode none).

Needs neither Go nor the simulator: no connection settings in the environment, no network,
no stdin. Each replay must give the recorded exit code and stdout (cassettes/expected.json,
written by tests/record_cassettes.py) and play every recorded interaction exactly once.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from cassette_replay import (CASSETTES, EXPECTED, ROOT, clean_env, esxpath, load_expected, normalize,
                             replay)

pytestmark = pytest.mark.offline

EXPECTED_CASES = load_expected() if EXPECTED.exists() else {}

# What the cassettes must cover (issue 6): show, apply with writes, audit in each format,
# check safe/unsafe/after failover, provision, the main error paths.
REQUIRED = {"show", "apply", "audit-table", "audit-json", "audit-nagios", "audit-prometheus",
            "check-safe", "check-unsafe", "check-after-failover", "provision", "unprovision",
            "error-wrong-password", "error-unknown-cluster"}


def test_expected_file_lists_every_required_cassette():
    assert EXPECTED.exists(), "cassettes/expected.json missing: run python3 tests/record_cassettes.py"
    missing = REQUIRED - set(EXPECTED_CASES)
    assert not missing, f"no cassette for {sorted(missing)}"
    on_disk = {p.stem for p in CASSETTES.glob("*.yaml")}
    assert on_disk == set(EXPECTED_CASES), "cassettes/*.yaml and expected.json disagree"


@pytest.mark.parametrize("name", sorted(EXPECTED_CASES))
def test_replay_gives_the_recorded_exit_code_and_output(name):
    case = EXPECTED_CASES[name]
    proc = replay(name, case["argv"])
    assert "replay of" not in proc.stderr, proc.stderr  # every interaction played, none missing
    assert proc.returncode == case["exit"], proc.stderr
    assert normalize(proc.stdout) == normalize(case["stdout"])
    if case.get("stderr_contains"):
        assert case["stderr_contains"] in proc.stderr


def test_replay_of_apply_performs_the_writes_it_recorded():
    # The recorded apply wrote (PSP through SetMultipathLunPolicy, IOPS through esxcli); replay
    # answers those same calls in order, or it reports unplayed interactions.
    text = (CASSETTES / "apply.yaml").read_text()
    assert "SetMultipathLunPolicy" in text
    assert "roundrobin.deviceconfig.set" in text.lower()
    assert EXPECTED_CASES["apply"]["exit"] == 0


NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("replay tried to open a network connection")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
from esxpath.cli import run
sys.argv[0] = "esxpath"
run()
"""


@pytest.mark.parametrize("name", ["show", "apply", "check-unsafe"])
def test_replay_opens_no_network_connection(name):
    case = EXPECTED_CASES[name]
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK, "--replay", str(CASSETTES / f"{name}.yaml"),
                           *case["argv"]], env=clean_env(), cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, normalize(proc.stdout)) == (case["exit"], normalize(case["stdout"])), \
        proc.stderr


@pytest.mark.parametrize("parallel", ["1", "3", "16"])
def test_threaded_reads_replay_the_same_whatever_the_interleaving(parallel):
    # Recorded with 8 workers; answers are handed out per request key (host moref, esxcli
    # command), so any thread schedule, even a sequential one, gets each host its own answers.
    case = EXPECTED_CASES["show-json"]
    proc = replay("show-json", [*case["argv"], "--parallel", parallel])
    assert (proc.returncode, proc.stdout) == (case["exit"], case["stdout"]), proc.stderr


def test_replaying_a_different_command_fails_loudly():
    proc = replay("show", ["show", "--cluster", "storage-cluster", "-o", "json"])
    assert proc.returncode == 70, (proc.returncode, proc.stderr)
    assert "replay of" in proc.stderr and "not played" in proc.stderr


def test_replaying_a_command_that_asks_more_fails_loudly():
    proc = replay("error-unknown-cluster", ["apply"])
    assert proc.returncode != 0
    assert "not in the cassette" in proc.stderr


def test_replay_needs_no_password_and_never_prompts():
    # clean_env() has no ESXPATH_PASSWORD, stdin is /dev/null: a prompt would fail with 78.
    proc = replay("show", EXPECTED_CASES["show"]["argv"])
    assert proc.returncode == EXPECTED_CASES["show"]["exit"]
    assert "password" not in proc.stderr.lower()


def test_record_and_replay_exclude_each_other(tmp_path):
    proc = esxpath(["--record", str(tmp_path / "x.yaml"), "--replay",
                    str(CASSETTES / "show.yaml"), "show"], clean_env())
    assert proc.returncode == 64 and "exclude each other" in proc.stderr


def test_replay_of_a_missing_cassette_is_a_usage_error(tmp_path):
    proc = esxpath(["--replay", str(tmp_path / "nothing.yaml"), "show"], clean_env())
    assert proc.returncode == 64
