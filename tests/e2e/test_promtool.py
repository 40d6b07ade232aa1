"""Prometheus' own checker on what esxpath really writes and on the alerting rules.

promtool comes from Debian's prometheus package, which tests/sim/build installs when it is
missing (simlab.ensure_test_tools); a promtool that cannot be installed fails these tests.
`promtool check metrics` lints an exposition (exit 0 only without a problem: a name ending in
_total that is not a counter is one); `promtool check rules` parses the rules and their PromQL.
"""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from cli_process import IN_CLUSTER, cli_env, explain, run
from simlab import ensure_test_tools

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "commands" / "monitoring" / "esxpath-rules.yml"
EVENTS = "esxpath_storage_events_total"


def promtool() -> str:
    ensure_test_tools()
    exe = shutil.which("promtool")
    assert exe, "promtool is missing although tests/sim/build ran"
    return exe


def check_metrics(text: str) -> None:
    proc = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, ""), proc.stdout + proc.stderr


def type_of(text: str, name: str) -> str:
    (line,) = [x for x in text.splitlines() if x.startswith(f"# TYPE {name} ")]
    return line.split()[-1]


def test_the_rules_file_passes_promtool_check_rules():
    proc = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


def test_promtool_fails_a_total_that_is_a_gauge():
    """The check has teeth: the old output's shape is refused."""
    text = f'# HELP {EVENTS} x\n# TYPE {EVENTS} gauge\n{EVENTS}{{host="a"}} 1\n'
    proc = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and "_total" in proc.stdout + proc.stderr


@pytest.mark.sim
def test_audit_prometheus_output_and_prom_file_pass_promtool(lab, sim_env, tmp_path):
    lab.post("/path", {"host": "esx04", "path": "vmhba3:C0:T1:L2", "state": "dead"})
    lab.post("/path", {"host": "esx04", "path": "vmhba3:C0:T1:L2", "state": "active"})
    prom = tmp_path / "esxpath.prom"
    proc = run(cli_env(sim_env), "audit", *IN_CLUSTER, "--since", "15m", "--format", "prometheus",
               "--prom-file", str(prom))
    assert proc.returncode in (0, 1), explain(proc)
    for text in (proc.stdout, prom.read_text()):
        assert f'{EVENTS}{{host="esx04",type="esx.problem.storage.redundancy.degraded"}} 1' in text
        assert type_of(text, EVENTS) == "counter"
        check_metrics(text)


def _window_report():
    from esxpath.core import storage_events as se
    from esxpath.core.model import Report
    from unit.factory import compliant  # tests/unit/factory.py: the seed lab as model objects

    inv = compliant()
    t0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    host = inv.hosts[0].name
    events = [se.StorageEvent(host=host, time=t0 + timedelta(seconds=5), type=se.APD_START,
                              device="eui.3163393161633461")]
    w = se.build_window(events, t0, t0 + timedelta(minutes=5), hosts=[h.name for h in inv.hosts])
    return Report(command="audit", inventory=inv, storage=w,
                  findings=tuple(se.storage_findings(w, "5m")))


def test_the_exporter_serves_storage_events_as_a_counter_promtool_accepts():
    """A target's page as a scrape renders it (TargetState is the collector the WSGI app of
    `/metrics?target=` serves), with a result that has storage events."""
    from esxpath.app.exporter import TargetSpec, TargetState

    class Runner:
        def run(self):
            return _window_report()

        def close(self) -> None:
            pass

    state = TargetState(TargetSpec("lab", "vc:443", 60, Runner()))  # type: ignore[arg-type]
    assert state.refresh()
    text = generate_latest(state.registry).decode()
    assert f'{EVENTS}{{' in text and type_of(text, EVENTS) == "counter"
    check_metrics(text)


@pytest.mark.sim
def test_a_real_exporter_scrape_passes_promtool(lab, tmp_path):
    from exporter_process import start, write_config

    exp = start(write_config(tmp_path, lab, interval=60))
    try:
        exp.wait_for(lambda s: s.get("esxpath_audit_pending") == 0, "a first result")
        for query in ("target=lab", ""):
            status, text = exp.get(query)
            assert status == 200, text
            check_metrics(text)
    finally:
        exp.stop()
