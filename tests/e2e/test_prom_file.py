"""audit --prom-file (issue 15, item 2): a failed metrics write never hides the estate's state,
and the textfile says when its result is stale."""
from __future__ import annotations

import re
import time

import pytest

from cli_process import cli_env, run

pytestmark = pytest.mark.sim


@pytest.fixture
def env(lab, sim_env):
    return cli_env(sim_env)


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    assert m, f"{name} missing in:\n{text}"
    return float(m.group(1))


def test_success_then_failure_keeps_the_last_success_time(lab, env, tmp_path):
    prom = tmp_path / "esxpath.prom"
    assert run(env, "apply").returncode == 0
    before = time.time()
    ok = run(env, "audit", "--quiet", "--prom-file", str(prom))
    assert ok.returncode == 0, ok.stderr
    text = prom.read_text()
    assert metric(text, "esxpath_audit_status") == 0 and metric(text, "esxpath_audit_success") == 1
    last = metric(text, "esxpath_audit_last_success_timestamp_seconds")
    assert last >= before - 1
    bad = run(dict(env, ESXPATH_PASSWORD="wrong"), "audit", "--quiet", "--prom-file", str(prom))
    assert bad.returncode == 3, bad.stderr
    text = prom.read_text()
    assert metric(text, "esxpath_audit_status") == 3 and metric(text, "esxpath_audit_success") == 0
    assert metric(text, "esxpath_audit_last_success_timestamp_seconds") == last


# a directory (a device node, a FIFO) is refused before the audit with 78: test_output_files.py
@pytest.mark.parametrize("target", ["no-such-directory/esxpath.prom", "x" * 300])
def test_a_failed_write_still_exits_with_the_estates_status(lab, env, tmp_path, target):
    # DANGER estate: both ANO paths of a LUN dead on esx02
    assert run(env, "apply").returncode == 0
    for hba in ("vmhba2", "vmhba3"):
        lab.post("/path", {"host": "esx02", "path": f"{hba}:C0:T1:L1", "state": "dead"})
    path = tmp_path / target
    proc = run(env, "audit", "--quiet", "--prom-file", str(path))
    assert proc.returncode == 2, proc.stderr  # DANGER, not a configuration error
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("esxpath: error:")]
    assert len(errors) == 1 and "cannot write" in errors[0], proc.stderr
    assert not list(tmp_path.glob(".esxpath-*.tmp"))  # no temporary file left behind


def test_when_only_the_small_pair_fits_it_is_written(tmp_path, monkeypatch):
    from esxpath.app import promfile

    prom = tmp_path / "esxpath.prom"
    prom.write_text("esxpath_audit_status 0\nesxpath_audit_last_success_timestamp_seconds 100.000\n")
    real = promfile.write_atomic

    def full_disk(path, text):  # the big document does not fit, the pair does
        if "esxpath_audit_status" in text:
            raise promfile.ConfigError(f"cannot write {path}: No space left on device")
        real(path, text)

    monkeypatch.setattr(promfile, "write_atomic", full_disk)
    problem = promfile.publish(str(prom), "esxpath_audit_status 2\n")
    assert problem and "No space left" in problem and "success 0" in problem
    text = prom.read_text()
    assert "esxpath_audit_status" not in text  # the old OK is gone
    assert metric(text, "esxpath_audit_success") == 0
    assert metric(text, "esxpath_audit_last_success_timestamp_seconds") == 100
