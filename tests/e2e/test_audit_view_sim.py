"""audit on the simulator, through the CLI, for what cron must see although path counts are fine:
a host whose AO group is the other controller's (`alua-view`), and with --san a peer that is
not ready to take over (the gate's readiness findings, also in `san check`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_process import IN_CLUSTER, cli_env, explain, report, run
from exporter_process import start, write_config
from test_san_check_sim import EUI1, EUI2, dumps, san_args


@pytest.fixture
def env(sim_env, lab):
    env = cli_env(sim_env)
    proc = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert proc.returncode == 0, explain(proc)
    yield env
    lab.reset()


def stale_esx03(lab, order: str) -> None:
    """After a failover to storage2, esx03 alone still sees storage1 AO and storage2 ANO."""
    steps = [("/failover", {"active": "storage2"}),
             ("/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"}),
             ("/host-alua", {"host": "esx03", "node": "storage2", "state": "ANO"})]
    for path, body in (steps if order == "failover first" else steps[1:] + steps[:1]):
        lab.post(path, body)


@pytest.mark.sim
@pytest.mark.parametrize("order", ("failover first", "host view first"))
def test_audit_names_a_host_on_the_other_controller(env, lab, order):
    stale_esx03(lab, order)
    doc = report(run(env, "audit", *IN_CLUSTER, "-o", "json"))
    assert doc is not None
    counts = {(h["name"], d["name"]): (d["counts"]["ao"], d["counts"]["ano"])
              for h in doc["hosts"] for d in h["devices"]}
    assert set(counts.values()) == {(2, 2)}  # path counts alone say nothing is wrong
    assert {(f["code"], f["host"], f["device"]) for f in doc["findings"]} == {
        ("alua-view", "esx03", EUI1), ("alua-view", "esx03", EUI2)}, doc["findings"]
    table = run(env, "audit", *IN_CLUSTER)
    assert table.returncode == 2, explain(table)
    line = next(ln for ln in table.stdout.splitlines() if EUI1 in ln and "sees" in ln)
    assert line.split()[0] == "DANGER", line
    for words in ("esx03", "sees TPG 1 AO", "3 of 4 hosts see TPG 2 AO"):
        assert words in line, table.stdout
    nagios = run(env, "audit", *IN_CLUSTER, "--format", "nagios")
    assert nagios.returncode == 2 and nagios.stdout.startswith("ESXPATH CRITICAL"), explain(nagios)
    assert "esx03" in nagios.stdout
    prom = run(env, "audit", *IN_CLUSTER, "-o", "prometheus")
    assert prom.returncode == 2 and "esxpath_audit_status 2" in prom.stdout, explain(prom)
    # the view heals: OK again
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": ""})
    lab.post("/host-alua", {"host": "esx03", "node": "storage2", "state": ""})
    ok = run(env, "audit", *IN_CLUSTER, "--format", "nagios")
    assert ok.returncode == 0 and ok.stdout.startswith("ESXPATH OK"), explain(ok)


@pytest.mark.sim
def test_audit_names_a_host_that_still_has_the_old_group_ao(env, lab):
    """Issue 22's item 1 estate: esx03 sees storage1 AO through the failover, so both groups."""
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"})
    lab.post("/failover", {"active": "storage2"})
    proc = run(env, "audit", *IN_CLUSTER, "-o", "json")
    assert proc.returncode == 2, explain(proc)
    found = [f for f in report(proc)["findings"] if f["code"] == "alua-view"]
    assert {(f["host"], f["severity"]) for f in found} == {("esx03", "DANGER")}, explain(proc)
    assert all("sees TPG 1 and TPG 2 AO" in f["message"] for f in found), explain(proc)


@pytest.mark.sim
def test_the_exporter_serves_it_as_danger(env, lab, tmp_path):
    stale_esx03(lab, "failover first")
    exp = start(write_config(tmp_path, lab, interval=3600))
    try:
        s = exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
        assert s["esxpath_audit_success"] == 1, s
        assert s["esxpath_audit_status"] == 2, s
        assert s['esxpath_findings{severity="danger"}'] == 2, s
    finally:
        rc, err = exp.stop()
    assert rc == 0, err


# ---------------------------------------------------------------- --san: the peer's readiness

@pytest.mark.sim
@pytest.mark.parametrize("control, code, words", [
    ({"disable_target": ["21:00:00:24:ff:54:09:32"]}, "san-peer-target",
     ("storage2", "21:00:00:24:ff:54:09:32", "disabled", "TPG 2")),
    ({"unexport": [EUI2]}, "san-peer-lun", ("storage2", EUI2, "does not export", "TPG 2")),
], ids=("disabled target", "LUN not exported"))
def test_audit_and_san_check_see_a_peer_not_ready(env, lab, tmp_path, control, code, words):
    files = dumps(env, lab, tmp_path)
    for argv in (("san", "check"), ("audit", *IN_CLUSTER)):
        ok = run(env, *argv, *san_args(files), "-o", "json")
        assert ok.returncode == 0, (argv, explain(ok))
    lab.post("/scst", {"node": "storage2", **control})
    files = dumps(env, lab, tmp_path)
    esxi_only = run(env, "audit", *IN_CLUSTER, "-o", "json")
    assert esxi_only.returncode == 0, explain(esxi_only)  # the hosts alone look fine
    for argv in (("san", "check"), ("audit", *IN_CLUSTER)):
        proc = run(env, *argv, *san_args(files), "-o", "json")
        assert proc.returncode == 2, (argv, explain(proc))
        found = [f for f in report(proc)["findings"] if f["code"] == code]
        assert found and {f["severity"] for f in found} == {"DANGER"}, (argv, explain(proc))
        assert any(all(w in f["message"] for w in words) for f in found), (argv, explain(proc))
    nagios = run(env, "audit", *IN_CLUSTER, *san_args(files), "--format", "nagios")
    assert nagios.returncode == 2 and nagios.stdout.startswith("ESXPATH CRITICAL"), explain(nagios)
    table = run(env, "san", "check", *san_args(files))
    assert table.returncode == 2, explain(table)
    assert any(ln.startswith("DANGER") and all(w in ln for w in words)
               for ln in table.stdout.splitlines()), explain(table)


@pytest.mark.sim
def test_audit_sees_a_lun_unexported_on_one_takeover_target(env, lab, tmp_path):
    """storage2 stops exporting a LUN on one of its two targets (the other still has it):
    the next failover loses that path on every host."""
    files = dumps(env, lab, tmp_path)
    peer = files[1]
    doc = json.loads(Path(peer).read_text(encoding="utf-8"))
    target = next(t for t in doc["targets"] if t["name"] == "21:00:00:24:ff:54:09:33")
    target["luns"] = [m for m in target["luns"] if m["device"] != "lun2_50332507772"]
    Path(peer).write_text(json.dumps(doc), encoding="utf-8")
    for argv in (("san", "check"), ("audit", *IN_CLUSTER)):
        proc = run(env, *argv, *san_args(files), "-o", "json")
        assert proc.returncode == 2, (argv, explain(proc))
        found = [f for f in report(proc)["findings"] if f["code"] == "san-peer-lun"]
        assert [f["device"] for f in found] == [EUI2], (argv, explain(proc))
        assert "21:00:00:24:ff:54:09:33" in found[0]["message"], (argv, explain(proc))
