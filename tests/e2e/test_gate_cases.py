"""The twelve cases of issue 13, each through the command line against the simulator.

Every test loads the estate it needs into the simulator (POST /load of the seed lab, made
compliant, with one change), runs esxpath as an admin would and judges exit code and output.
"""
from __future__ import annotations

import copy
import json
import subprocess
import time

import pytest

from cli_process import ROOT, SCST, cli_env, run, start
from failover_oracle import SEED_LAB

pytestmark = pytest.mark.sim

LUN1, LUN2 = SCST
WRAPPER = ROOT / "commands" / "pacemaker" / "esxpath-failover"


@pytest.fixture
def env(lab, sim_env):
    return cli_env(sim_env)


def compliant_lab(**host_edits) -> dict:
    """The seed lab after `esxpath apply` (RR, iops=1); host_edits: {host: {field: value}}."""
    sc = copy.deepcopy(SEED_LAB)
    for lun in sc["luns"]:
        if lun["vendor"] == "SCST_BIO":
            lun.update(psp="VMW_PSP_RR", rr={"limit_type": "iops", "iops": 1, "bytes": 10485760})
    for h in sc["hosts"]:
        h.update(host_edits.get(h["name"], {}))
    return sc


def load(lab, sc: dict) -> None:
    lab.post("/load", sc)


def out_err(proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


def dead(host: str, runtime: str, device: str = LUN1) -> dict:
    return {"device": device, "path": runtime, "state": "dead"}


# 1 ---------------------------------------------------------------- lost redundancy

def one_hba_to_storage2(host: str = "esx03") -> dict:
    """host's vmhba3 reaches storage1 (and the NetApp) only: 1 path to storage2, 2 to storage1."""
    zone = SEED_LAB["zoning"]["vmhba3"]
    return compliant_lab(**{host: {"zoning": {"vmhba3": [zone[0], zone[2]]}}})


def test_1_lost_redundancy_is_not_safe_and_names_the_host(lab, env):
    load(lab, one_hba_to_storage2())
    proc = run(env, "check")
    assert proc.returncode == 2, out_err(proc)
    for dev in SCST:
        reason = lines_with(proc.stdout, "esx03", dev, "TPG 2")
        assert reason and "1 live ANO path" in reason[0] and "2 live AO path" in reason[0], out_err(proc)
    assert not lines_with(proc.stdout, "DANGER", "esx01"), out_err(proc)


def test_1_the_admin_may_accept_the_loss_and_the_output_says_so(lab, env):
    load(lab, one_hba_to_storage2())
    proc = run(env, "check", "--allow-redundancy-loss", "-o", "json")
    assert proc.returncode == 0, out_err(proc)
    doc = json.loads(proc.stdout)
    assert doc["waivers"] == ["--allow-redundancy-loss"] and doc["status"] == "OK"
    table = run(env, "check", "--allow-redundancy-loss")
    assert "--allow-redundancy-loss" in table.stdout.splitlines()[-1], out_err(table)


# 2 ---------------------------------------------------------------- --to-tpg naming the AO group

def test_2_to_tpg_naming_the_ao_group_is_refused_even_with_dead_peer_paths(lab, env):
    paths = [dead("esx03", f"vmhba{a}:C0:T1:L1") for a in (2, 3)]
    load(lab, compliant_lab(esx03={"paths": paths}))
    proc = run(env, "check", "--to-tpg", "1")
    assert proc.returncode == 2, out_err(proc)
    assert lines_with(proc.stdout, "TPG 1 is the active/optimized group now"), out_err(proc)
    assert "SAFE to fail over" not in proc.stdout.replace("NOT SAFE", "")


def _wrapper(env, *args):
    return subprocess.run(["bash", str(WRAPPER), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _wrapper_env(env, tmp_path):
    esxpath = tmp_path / "esxpath"
    esxpath.write_text(f"#!/bin/sh\nexec {subprocess.list2cmdline([__import__('sys').executable])}"
                       " -m esxpath \"$@\"\n")
    esxpath.chmod(0o755)
    crm = tmp_path / "crm"
    crm.write_text("#!/bin/sh\necho \"crm $*\" >> \"$(dirname \"$0\")/moves\"\n")
    crm.chmod(0o755)
    return dict(env, PATH=f"{tmp_path}:{env.get('PATH', '')}")


def test_2_wrapper_refuses_the_ao_group_and_weakening_pass_through_options(lab, env, tmp_path):
    load(lab, compliant_lab())
    wenv = _wrapper_env(env, tmp_path)
    proc = _wrapper(wenv, "--to", "storage2", "--to-tpg", "1", "--tool", "crm")
    assert proc.returncode == 2, out_err(proc)
    assert not (tmp_path / "moves").exists()
    for extra in (["--to-tpg", "1"], ["--min-paths", "1"], ["--allow-redundancy-loss"],
                  ["--after-failover"], ["--wait", "5"], ["-o", "table"]):
        proc = _wrapper(wenv, "--to", "storage2", "--tool", "crm", "--dry-run", "--", *extra)
        assert proc.returncode == 64, (extra, out_err(proc))
        assert extra[0] in proc.stderr
    # the fake crm says nothing of the master: the node is named (issue 22 item 6: no guess)
    proc = _wrapper(wenv, "--to", "storage2", "--node-tpg", "storage2=2", "--tool", "crm",
                    "--dry-run", "--", "--cluster", "storage-cluster")
    assert proc.returncode == 0, out_err(proc)
    assert "TPG 2 (storage2)" in proc.stderr  # the group the gate really checked is named
    assert not (tmp_path / "moves").exists()


# 3 ---------------------------------------------------------------- after-failover needs a group

def test_3_after_failover_without_a_group_is_a_usage_error(lab, env):
    proc = run(env, "check", "--after-failover")
    assert proc.returncode == 64, out_err(proc)
    assert "--to-tpg" in proc.stderr and "--from-tpg" in proc.stderr


def test_3_after_failover_when_nothing_moved_is_not_complete(lab, env):
    load(lab, compliant_lab())
    for group in (("--to-tpg", "2"), ("--from-tpg", "1")):
        proc = run(env, "check", "--after-failover", *group)
        assert proc.returncode == 2, out_err(proc)
        assert "FAILOVER NOT COMPLETE" in proc.stdout
    lab.post("/failover", {"active": "storage2"})
    proc = run(env, "check", "--after-failover", "--from-tpg", "1")
    assert proc.returncode == 0 and "FAILOVER COMPLETE" in proc.stdout, out_err(proc)


# 4 ---------------------------------------------------------------- standby takeover: one rule

def test_4_standby_partner_audit_and_check_agree(lab, env):
    sc = compliant_lab()
    next(n for n in sc["storage_nodes"] if n["name"] == "storage2")["state"] = "STBY"
    load(lab, sc)
    audit = run(env, "audit")
    assert audit.returncode == 2, out_err(audit)
    for args in ((), ("--to-tpg", "2")):
        check = run(env, "check", *args)
        assert check.returncode == 2, out_err(check)
    assert lines_with(check.stdout, "TPG 2 is STBY"), out_err(check)


# 5 ---------------------------------------------------------------- useANO=1

def test_5_use_ano_is_drift_and_apply_turns_it_off(lab, env):
    sc = compliant_lab()
    sc["luns"][0]["rr"]["use_ano"] = True
    load(lab, sc)
    audit = run(env, "audit")
    assert audit.returncode == 1 and lines_with(audit.stdout, LUN1, "useANO=1"), out_err(audit)
    apply = run(env, "apply")
    assert apply.returncode == 0, out_err(apply)
    state = lab.get("/state")
    assert not any(h["devices"][LUN1]["use_ano"] for h in state["hosts"].values())
    again = run(env, "audit")
    assert again.returncode == 0, out_err(again)


# 6 ---------------------------------------------------------------- maintenance mode

def test_6_maintenance_mode_is_read_and_shown(lab, env):
    load(lab, compliant_lab(esx02={"maintenance": True}))
    proc = run(env, "show", "-o", "json")
    assert proc.returncode == 0, out_err(proc)
    hosts = {h["name"]: h for h in json.loads(proc.stdout)["hosts"]}
    assert hosts["esx02"]["maintenance"] is True and hosts["esx01"]["maintenance"] is False
    assert lines_with(run(env, "show").stdout, "esx02", "maintenance mode")


# 7 ---------------------------------------------------------------- unreadable storage property

def test_7_unreadable_storage_property_is_unverifiable_not_empty(lab, env):
    load(lab, compliant_lab(esx04={"storage_unreadable": True}))
    show = run(env, "show", "-o", "json")
    assert show.returncode == 3, out_err(show)
    esx04 = next(h for h in json.loads(show.stdout)["hosts"] if h["name"] == "esx04")
    assert "unreadable" in esx04["error"]
    check = run(env, "check")
    assert check.returncode == 3 and lines_with(check.stdout, "esx04", "cannot verify"), out_err(check)


# 8 ---------------------------------------------------------------- LUN operational state

@pytest.mark.parametrize("state", ["degraded", "lostCommunication", "off"])
def test_8_lun_operational_state_is_reported(lab, env, state):
    load(lab, compliant_lab())
    lab.post("/lun-state", {"host": "esx03", "device": LUN2, "state": [state]})
    audit = run(env, "audit")
    assert audit.returncode == 2 and lines_with(audit.stdout, "esx03", LUN2, state), out_err(audit)
    check = run(env, "check")
    assert check.returncode == 2 and lines_with(check.stdout, "esx03", LUN2, state), out_err(check)


# 9 ---------------------------------------------------------------- HPP devices

def test_9_hpp_devices_are_never_planned_and_shown_as_not_managed(lab, env):
    sc = copy.deepcopy(SEED_LAB)  # as found: MRU, so the other LUN does get planned
    sc["luns"][0]["mpp"] = "HPP"
    load(lab, sc)
    show = run(env, "show")
    assert lines_with(show.stdout, LUN1, "HPP, not managed"), out_err(show)
    dry = run(env, "apply", "--dry-run", "-o", "json")
    planned = {c["device"] for c in json.loads(dry.stdout)["plan"]}
    assert planned == {LUN2}, out_err(dry)
    apply = run(env, "apply")
    assert {w["device"] for w in lab.get("/stats")["writes"]} == {LUN2}, out_err(apply)


# 10 --------------------------------------------------------------- transitioning, offline

def test_10_offline_paths_count_as_dead_and_states_are_named(lab, env):
    load(lab, compliant_lab(esx01={"paths": [
        {"device": LUN1, "path": "vmhba2:C0:T1:L1", "state": "offline"},
        {"device": LUN1, "path": "vmhba3:C0:T1:L1", "state": "transitioning"}]}))
    proc = run(env, "show", "-o", "json")
    dev = next(d for h in json.loads(proc.stdout)["hosts"] if h["name"] == "esx01"
               for d in h["devices"] if d["name"] == LUN1)
    assert {p["tpg_state"] for p in dev["paths"] if p["tpg_id"] == 2} == {"OFFL", "TRANS"}
    assert dev["counts"]["dead"] == 1 and dev["counts"]["ano"] == 0
    check = run(env, "check")
    assert check.returncode == 2 and lines_with(check.stdout, "esx01", LUN1, "TPG 2"), out_err(check)


def test_10_after_failover_wait_keeps_waiting_through_transitioning(lab, env):
    load(lab, compliant_lab())
    lab.post("/node", {"name": "storage2", "state": "TRANS"})  # the move has begun
    waiting = start(env, "check", "--after-failover", "--to-tpg", "2", "--wait", "60",
                    "--interval", "0.2", "-o", "json")
    try:
        time.sleep(1.5)  # several polls see TRANS: still waiting, not failed
        assert waiting.poll() is None
        lab.post("/failover", {"active": "storage2"})
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    assert all(t is not None for t in json.loads(out)["timings"].values())


# 11 --------------------------------------------------------------- a group judged by all its paths

@pytest.mark.parametrize("runtime", ["vmhba2:C0:T0:L1", "vmhba3:C0:T0:L1"])
@pytest.mark.parametrize("state", ["standby", "unavailable"])
def test_11_one_odd_ao_path_is_named_not_decisive(lab, env, runtime, state):
    load(lab, compliant_lab(esx02={"paths": [{"device": LUN1, "path": runtime, "state": state}]}))
    proc = run(env, "check")
    assert proc.returncode == 0, out_err(proc)  # 2 takeover paths for the 1 AO path left
    note = lines_with(proc.stdout, "NOTE", "esx02", LUN1, runtime)
    assert note and "TPG 1" in note[0], out_err(proc)


# 12 --------------------------------------------------------------- output that agrees with itself

def test_12_show_json_status_follows_a_disconnected_host(lab, env):
    load(lab, compliant_lab(esx02={"connection": "disconnected"}))
    proc = run(env, "show", "-o", "json")
    assert proc.returncode == 3 and json.loads(proc.stdout)["status"] == "UNKNOWN", out_err(proc)


def test_12_watch_over_an_empty_scope_is_unknown(lab, env):
    proc = run(env, "watch", "--vendor", "NOBODY", "--duration", "0", "-o", "json")
    assert proc.returncode == 3 and json.loads(proc.stdout)["status"] == "UNKNOWN", out_err(proc)


def test_12_standby_partner_is_not_called_unreachable(lab, env):
    sc = compliant_lab()
    next(n for n in sc["storage_nodes"] if n["name"] == "storage2")["state"] = "STBY"
    load(lab, sc)
    proc = run(env, "audit")
    assert "unreachable" not in proc.stdout
    assert lines_with(proc.stdout, "no live active/non-optimized path", "TPG 2 STBY"), out_err(proc)


def test_12_default_limit_type_is_not_printed_as_iops(lab, env):
    sc = compliant_lab()
    sc["luns"][0]["rr"] = {"limit_type": "default", "iops": 1, "bytes": 10485760}
    load(lab, sc)
    audit = run(env, "audit")
    assert lines_with(audit.stdout, LUN1, "default (iops 1), want iops 1"), out_err(audit)
    dry = run(env, "apply", "--dry-run")
    assert lines_with(dry.stdout, LUN1, "default (iops 1) -> iops 1"), out_err(dry)


def test_12_unavailable_group_paths_are_not_live_in_json(lab, env):
    sc = compliant_lab()
    next(n for n in sc["storage_nodes"] if n["name"] == "storage2")["state"] = "UNAV"
    load(lab, sc)
    proc = run(env, "show", "-o", "json")
    dev = json.loads(proc.stdout)["hosts"][0]["devices"][0]
    tpg2 = next(t for t in dev["tpgs"] if t["id"] == 2)
    assert dev["counts"]["unavailable"] == 2
    assert (tpg2["state"], tpg2["live"], tpg2["other"]) == ("UNAV", 0, 2)
