"""The exporter and `esxpath audit` give the same audit of the same estate: both call
app.audit.audit. On the simulator, with something to say in every part of it: a dead path (an
ESXi finding (the seed lab runs MRU), storage events within --since (a path down and back), the
SAN's own view disagreeing with the hosts' (from the storage nodes' `esxpath san dump`); one
profile of one config file."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cli_process import explain, run
from exporter_process import clean_env, write_config
from seedlab import SAN_NODES as NODES

pytestmark = pytest.mark.sim

SINCE = 3600.0  # --since 1h


def san_dumps(env: dict, lab, tmp_path: Path) -> list[str]:
    """Each storage node's `esxpath san dump`, as the node would run it; the files' paths."""
    out = []
    for node in NODES:
        proc = run(env, "san", "dump", "--sysfs-root", str(lab.scst_root(node)),
                   "--crm-mon-xml", str(lab.crm_mon_xml(node)), "--node", node)
        assert proc.returncode == 0, explain(proc)
        path = tmp_path / f"{node}.json"
        path.write_text(proc.stdout, encoding="utf-8")
        out.append(str(path))
    return out


def exporter_report(cfg: Path, files: list[str]):
    """The report of one exporter refresh of profile lab (the target the exporter command builds
    from the config), with the SAN dumps and --since the CLI is given."""
    from esxpath.app import config
    from esxpath.app.audit import AuditOptions
    from esxpath.app.exporter import AuditRunner
    from esxpath.app.san_inputs import SanInputs
    from esxpath.cli.exporter import _spec
    from esxpath.core.model import Policy
    policy = Policy(psp="VMW_PSP_RR", limit_type="iops", iops=1)  # audit's defaults
    spec = _spec(config.load(str(cfg), {}), "lab", 8, policy)
    san = SanInputs(tuple(files), (), timeout=60)
    audit = dataclasses.replace(spec.runner.audit,
                                options=AuditOptions(policy, san=san.read, since=SINCE))
    runner = AuditRunner(audit)
    try:
        return runner.run()
    finally:
        runner.close()


def without_window(doc: dict) -> dict:
    """The event window's ends are vCenter's clock at each read: the two runs differ there."""
    storage = {k: v for k, v in doc["storage"].items() if k not in ("start", "end")}
    return {**doc, "storage": storage}


def test_the_exporter_and_the_cli_give_the_same_audit_san_findings_and_since_included(
        lab, tmp_path):
    from esxpath.render.output import render
    cfg = write_config(tmp_path, lab, interval=60)
    env = clean_env()  # the profile names the vCenter, as the exporter's does
    # a path down and back: two storage events, an interval closed before either run
    for state in ("dead", "active"):
        lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": state})
    lab.post("/scst", {"node": "storage2", "group_state": {"2": "standby"}})
    files = san_dumps(env, lab, tmp_path)
    given = ["audit", "--config", str(cfg), "--profile", "lab",
             *(a for f in files for a in ("--san", f)), "--since", "1h"]
    cli_json = run(env, *given, "-o", "json")
    cli_prom = run(env, *given, "--format", "prometheus")
    report = exporter_report(cfg, files)

    doc = json.loads(cli_json.stdout)
    codes = {f["code"] for f in doc["findings"]}
    # every part of the audit has something to say, so the comparison covers each
    assert "storage-events" in codes and doc["storage"]["events"] == 2, explain(cli_json)
    assert any(f["code"] == "psp" for f in doc["findings"]), codes
    assert any(c.startswith("san-") for c in codes), codes
    assert without_window(json.loads(render(report, "json"))) == without_window(doc)
    assert render(report, "prometheus") == cli_prom.stdout
    assert cli_json.returncode == cli_prom.returncode == int(report.severity) == 2
