"""Issue 22: `check --after-failover` keeps the gate's promise after the move, through the CLI
against the simulator. Each estate is made with the control API (tests/sim/README.md), the
baseline is what `check -o json` printed before the move, and the verdict is the exit code and
the lines an admin reads."""
from __future__ import annotations

import json

import pytest

from cli_process import SCST, cli_env, run
from test_gate_cases import compliant_lab, lines_with, load, out_err

pytestmark = pytest.mark.sim

LUN1, LUN2 = SCST
TO2 = ("check", "--after-failover", "--to-tpg", "2")


@pytest.fixture
def env(lab, sim_env):
    yield cli_env(sim_env)
    lab.reset()


def baseline(env, tmp_path, *scope: str) -> str:
    """`esxpath check -o json` before the move, SAFE, saved as the admin would."""
    proc = run(env, "check", "-o", "json", *scope)
    assert proc.returncode == 0, out_err(proc)
    path = tmp_path / "before.json"
    path.write_text(proc.stdout, encoding="utf-8")
    return str(path)


# item 1 ------------------------------------------------------------- a host still on the old group

def test_item1_a_host_still_seeing_the_old_group_ao_is_not_complete(lab, env, tmp_path):
    load(lab, compliant_lab())
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"})
    base = baseline(env, tmp_path)
    lab.post("/failover", {"active": "storage2"})
    for extra in ((), ("--baseline", base)):
        proc = run(env, *TO2, *extra)
        assert proc.returncode == 2, out_err(proc)
        assert "FAILOVER NOT COMPLETE" in proc.stdout.splitlines()[-1], out_err(proc)
        for dev in SCST:
            assert lines_with(proc.stdout, "esx03", dev, "TPG 1 is still AO beside TPG 2"), \
                out_err(proc)
        assert not lines_with(proc.stdout, "DANGER", "esx01"), out_err(proc)
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": ""})
    proc = run(env, *TO2, "--baseline", base)
    assert proc.returncode == 0 and "FAILOVER COMPLETE" in proc.stdout, out_err(proc)


# item 2 ------------------------------------------------------------- the move cost redundancy

def test_item2_a_new_ao_path_dead_is_not_complete_against_the_baseline(lab, env, tmp_path):
    load(lab, compliant_lab())
    base = baseline(env, tmp_path)
    doc = json.loads(open(base, encoding="utf-8").read())
    esx03 = next(h for h in doc["hosts"] if h["name"] == "esx03")
    assert {(d["name"], d["ao_tpg"], d["ao_paths"]) for d in esx03["devices"]} == \
        {(LUN1, 1, 2), (LUN2, 1, 2)}
    lab.post("/failover", {"active": "storage2"})
    lab.post("/path", {"host": "esx03", "device": LUN1, "path": "vmhba2:C0:T1:L1",
                       "state": "dead"})
    proc = run(env, *TO2, "--baseline", base)
    assert proc.returncode == 2, out_err(proc)
    [reason] = lines_with(proc.stdout, "DANGER", "esx03", LUN1)
    assert "TPG 2 has 1 live AO path(s), fewer than the 2" in reason, out_err(proc)
    assert "--allow-redundancy-loss" in reason
    assert len(lines_with(proc.stdout, "DANGER")) == 1, out_err(proc)
    # waived: complete, and the summary names the waiver as the gate does
    proc = run(env, *TO2, "--baseline", base, "--allow-redundancy-loss")
    assert proc.returncode == 0, out_err(proc)
    assert "rule lowered by --allow-redundancy-loss" in proc.stdout.splitlines()[-1]
    # no baseline: the redundancy half is not judged, and the summary line says so
    proc = run(env, *TO2, "-o", "json")
    assert proc.returncode == 0, out_err(proc)
    assert json.loads(proc.stdout)["not_judged"] == ["redundancy"]
    table = run(env, *TO2)
    assert "not judged: redundancy (no --baseline)" in table.stdout.splitlines()[-1], \
        out_err(table)


# the baseline itself -------------------------------------------------------------------

def test_a_baseline_that_is_not_a_check_document_exits_78_in_one_line(lab, env, tmp_path):
    load(lab, compliant_lab())
    audit = tmp_path / "audit.json"
    audit.write_text(run(env, "audit", "-o", "json").stdout, encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    for path in (audit, garbage, tmp_path / "absent.json"):
        proc = run(env, *TO2, "--baseline", str(path))
        assert proc.returncode == 78, out_err(proc)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], out_err(proc)
    proc = run(env, "check", "--baseline", str(audit))  # only after the move
    assert proc.returncode == 64, out_err(proc)


def test_a_host_absent_from_the_baseline_cannot_be_verified(lab, env, tmp_path):
    load(lab, compliant_lab())
    base = baseline(env, tmp_path, "--host", "esx01")
    lab.post("/failover", {"active": "storage2"})
    proc = run(env, *TO2, "--baseline", base, "-o", "json")
    assert proc.returncode == 3, out_err(proc)
    found = {(f["code"], f["host"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {("baseline-missing", h) for h in ("esx02", "esx03", "esx04", "esx05")}


def test_a_baseline_where_the_target_was_already_ao_is_not_a_move(lab, env, tmp_path):
    load(lab, compliant_lab())
    lab.post("/failover", {"active": "storage2"})
    base = tmp_path / "after.json"
    base.write_text(run(env, *TO2, "-o", "json").stdout, encoding="utf-8")
    proc = run(env, *TO2, "--baseline", str(base))
    assert proc.returncode == 2 and lines_with(proc.stdout, "was already the AO group"), \
        out_err(proc)


# names --------------------------------------------------------------------------------

def test_node_tpg_names_the_controller_in_the_output(lab, env, tmp_path):
    load(lab, compliant_lab())
    proc = run(env, "check", "--node-tpg", "storage2=2", "--node-tpg", "storage1=1")
    assert proc.returncode == 0, out_err(proc)
    assert "SAFE to fail over to TPG 2 (storage2)" in proc.stdout.splitlines()[-1]
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"})
    lab.post("/failover", {"active": "storage2"})
    proc = run(env, *TO2, "--node-tpg", "storage2=2", "--node-tpg", "storage1=1", "-o", "json")
    assert proc.returncode == 2, out_err(proc)
    doc = json.loads(proc.stdout)
    assert doc["tpg_names"] == {"1": "storage1", "2": "storage2"}
    assert any("TPG 1 (storage1) is still AO beside TPG 2 (storage2)" in f["message"]
               for f in doc["findings"]), out_err(proc)
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": ""})
    proc = run(env, *TO2, "--node-tpg", "storage2=2")
    assert proc.returncode == 0, out_err(proc)
    assert "FAILOVER COMPLETE: TPG 2 (storage2) is the only AO group" in proc.stdout, out_err(proc)
    for bad in ("storage2", "storage2=2=3", "x=1"):
        proc = run(env, "check", "--node-tpg", bad, "--node-tpg", "storage2=1")
        assert proc.returncode == 64, (bad, out_err(proc))


def test_san_dumps_name_the_controllers_and_clash_with_a_wrong_node_tpg(lab, env, tmp_path):
    from test_san_check_sim import dumps, san_args
    load(lab, compliant_lab())
    san = san_args(dumps(env, lab, tmp_path))
    proc = run(env, "check", *san)
    assert proc.returncode == 0, out_err(proc)
    assert "SAFE to fail over to TPG 2 (storage2)" in proc.stdout.splitlines()[-1], out_err(proc)
    proc = run(env, "check", *san, "--node-tpg", "storage1=2", "-o", "json")
    assert proc.returncode == 3, out_err(proc)
    [clash] = [f for f in json.loads(proc.stdout)["findings"] if f["code"] == "node-names"]
    assert "storage1" in clash["message"] and "storage2" in clash["message"]


# no open All-Paths-Down, no device lost --------------------------------------------------

def test_a_permanent_device_loss_in_the_window_is_not_complete(lab, env, tmp_path):
    load(lab, compliant_lab())
    base = baseline(env, tmp_path)
    lab.post("/failover", {"active": "storage2"})
    lab.post("/lun-state", {"host": "esx03", "device": LUN2, "state": ["lostCommunication"]})
    lab.post("/lun-state", {"host": "esx03", "device": LUN2, "state": ["ok"]})
    proc = run(env, *TO2, "--baseline", base)
    assert proc.returncode == 2, out_err(proc)
    [reason] = lines_with(proc.stdout, "DANGER")
    assert "esx03" in reason and LUN2 in reason and "permanent device loss" in reason
    proc = run(env, *TO2, "--baseline", base, "--no-events")
    assert proc.returncode == 0, out_err(proc)
    assert "not judged: All-Paths-Down/PDL (--no-events)" in proc.stdout.splitlines()[-1]
