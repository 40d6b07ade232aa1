"""esxpath san check, audit --san and check --san end to end on the simulator: POST /scst (or
/host-alua) makes the SAN's side disagree with the hosts', `esxpath san dump` reads each
storage node's sysfs tree and crm_mon XML, `esxpath san check` sees the finding. A consistent
lab gives none; the gate refuses a failover to a peer that is not ready although ESXi looks
fine. Bad dumps are one line naming the file, with the documented exit code."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_process import IN_CLUSTER, cli_env, esxpath_argv, report, run
from seedlab import EUI1, EUI2, SAN_NODES as NODES



@pytest.fixture
def env(sim_env, lab):
    yield cli_env(sim_env)
    lab.reset()  # the next test (or another file's) finds a consistent SAN


def dumps(env, lab, tmp_path: Path) -> list[str]:
    """`esxpath san dump` of each storage node, as the node would run it; the files' paths."""
    out = []
    for node in NODES:
        proc = run(env, "san", "dump", "--sysfs-root", str(lab.scst_root(node)),
                   "--crm-mon-xml", str(lab.crm_mon_xml(node)), "--node", node)
        assert proc.returncode == 0, proc.stderr
        path = tmp_path / f"{node}.json"
        path.write_text(proc.stdout, encoding="utf-8")
        out.append(str(path))
    return out


def san_args(files: list[str]) -> list[str]:
    return [a for f in files for a in ("--san", f)]


def san_check(env, lab, tmp_path, *extra: str):
    proc = run(env, "san", "check", *san_args(dumps(env, lab, tmp_path)), "-o", "json", *extra)
    doc = report(proc)
    assert doc is not None, proc.stderr
    return proc, doc


def explain(proc) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@pytest.mark.sim
def test_consistent_lab_gives_no_finding(env, lab, tmp_path):
    proc, doc = san_check(env, lab, tmp_path)
    assert (proc.returncode, doc["status"], doc["findings"]) == (0, "OK", []), explain(proc)
    assert doc["command"] == "san check" and len(doc["hosts"]) == 5


@pytest.mark.sim
def test_consistent_after_a_failover(env, lab, tmp_path):
    lab.post("/failover", {"active": "storage2"})
    proc, doc = san_check(env, lab, tmp_path)
    assert (proc.returncode, doc["findings"]) == (0, []), explain(proc)


# what to make disagree -> (finding code, exit code, words of one of its messages)
CASES = {
    "setup_id": ([("/scst", {"node": "storage2", "setup_id": 5})],
                 "san-setup-id", 2, ("storage1 0", "storage2 5")),
    "id not produced": ([("/scst", {"node": "storage2", "setup_id": 5})],
                        "san-id-unknown", 2, ("storage2", EUI1, "setup_id 5")),
    "ids collide": ([("/scst", {"node": "storage2", "t10_dev_id": {EUI2: "1c91ac4a-other"}})],
                    "san-id-collision", 2, ("storage2", EUI1, "1c91ac4a-other")),
    "device no host sees": ([("/scst", {"node": "storage1", "extra_device": "disk99"})],
                            "san-device-unseen", 1, ("storage1", "disk99", "seen by no host")),
    "tpg id unknown": ([("/scst", {"node": "storage2", "group_id": {"1": 7}})],
                       "san-tpg-unknown", 2, ("TPG 1", "storage2", "2, 7")),
    "rtp id unknown": ([("/scst", {"node": "storage1",
                                   "rel_tgt_id": {"21:00:00:24:ff:54:09:80": 9}})],
                       "san-rtp-unknown", 1, ("RTP_id 1", "storage1", "21:00:00:24:ff:54:09:80=9")),
    "state differs from a host": ([("/host-alua", {"host": "esx03", "node": "storage2",
                                                   "state": "STBY"})],
                                  "san-state", 2, ("esx03", "nonoptimized", "STBY")),
    "offline group the hosts use": ([("/scst", {"node": n, "group_state": {"2": "offline"}})
                                     for n in NODES],
                                    "san-state", 2, ("offline", "OFFL", "ANO")),
    "split brain": ([("/scst", {"node": "storage2", "group_state": {"2": "standby"}})],
                    "san-split-brain", 2, ("storage1 says nonoptimized", "storage2 says standby")),
    "both active": ([("/scst", {"node": "storage2", "group_state": {"1": "active", "2": "active"}})],
                    "san-both-active", 2, ("more than one group is active", "by storage2")),
    "stopped node still nonoptimized": ([("/scst", {"node": "storage2", "stopped": True})],
                                        "san-stopped-active", 2,
                                        ("storage2", "stopped", "still reports nonoptimized")),
    "master's group not AO": ([("/scst", {"node": "storage1", "role": "unpromoted"}),
                               ("/scst", {"node": "storage2", "role": "promoted"})],
                              "san-master", 2, ("master storage2", "TPG 2", "ANO")),
    "two masters": ([("/scst", {"node": "storage2", "role": "promoted"})],
                    "san-master", 2, ("storage1 and storage2 promoted",)),
}


@pytest.mark.sim
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_disagreement_is_found(env, lab, tmp_path, case):
    posts, code, status, words = CASES[case]
    for path, body in posts:
        lab.post(path, body)
    proc, doc = san_check(env, lab, tmp_path)
    found = [f for f in doc["findings"] if f["code"] == code]
    assert found, explain(proc)
    assert proc.returncode == status, explain(proc)
    assert any(all(w in f["message"] for w in words) for f in found), explain(proc)
    assert all(f["code"].startswith("san-") for f in doc["findings"]), explain(proc)


@pytest.mark.sim
def test_audit_with_san_joins_the_report(env, lab, tmp_path):
    files = dumps(env, lab, tmp_path)
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    ok = run(env, "audit", *IN_CLUSTER, *san_args(files), "-o", "nagios")
    assert ok.returncode == 0 and ok.stdout.startswith("ESXPATH OK"), explain(ok)
    lab.post("/scst", {"node": "storage2", "group_state": {"2": "standby"}})
    files = dumps(env, lab, tmp_path)
    proc = run(env, "audit", *IN_CLUSTER, *san_args(files), "-o", "nagios")
    assert proc.returncode == 2 and proc.stdout.startswith("ESXPATH CRITICAL"), explain(proc)
    assert "storage2 says standby" in proc.stdout
    prom = run(env, "audit", *IN_CLUSTER, *san_args(files), "-o", "prometheus")
    assert "esxpath_audit_status 2" in prom.stdout, explain(prom)
    without = run(env, "audit", *IN_CLUSTER, "-o", "json")
    assert without.returncode == 0, explain(without)  # the hosts alone look fine


# ---------------------------------------------------------------- the gate

def gate(env, files: list[str], *extra: str):
    proc = run(env, "check", *IN_CLUSTER, *san_args(files), "-o", "json", *extra)
    return proc, report(proc)


@pytest.mark.sim
@pytest.mark.parametrize("control, code, words", [
    ({"disable_target": ["21:00:00:24:ff:54:09:32"]}, "san-peer-target",
     ("storage2", "21:00:00:24:ff:54:09:32", "disabled", "TPG 2")),
    ({"unexport": [EUI2]}, "san-peer-lun", ("storage2", EUI2, "does not export", "TPG 2")),
], ids=("disabled target", "LUN not exported"))
def test_check_refuses_when_the_peer_is_not_ready(env, lab, tmp_path, control, code, words):
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    proc, doc = gate(env, dumps(env, lab, tmp_path))
    assert proc.returncode == 0 and doc["status"] == "OK", explain(proc)
    assert "SAFE to fail over to TPG 2" in run(env, "check", *IN_CLUSTER, *san_args(
        dumps(env, lab, tmp_path))).stdout
    lab.post("/scst", {"node": "storage2", **control})
    esxi_only = run(env, "check", *IN_CLUSTER, "-o", "json")
    assert esxi_only.returncode == 0, explain(esxi_only)  # ESXi looks fine
    proc, doc = gate(env, dumps(env, lab, tmp_path))
    assert proc.returncode == 2 and doc["status"] == "DANGER", explain(proc)
    found = [f for f in doc["findings"] if f["code"] == code]
    assert any(all(w in f["message"] for w in words) for f in found), explain(proc)
    table = run(env, "check", *IN_CLUSTER, *san_args(dumps(env, lab, tmp_path)))
    assert table.returncode == 2 and "NOT SAFE to fail over" in table.stdout, explain(table)


@pytest.mark.sim
def test_check_with_the_active_node_only_cannot_verify_the_peer(env, lab, tmp_path):
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    files = dumps(env, lab, tmp_path)
    proc, doc = gate(env, files[:1])
    assert proc.returncode == 3, explain(proc)
    assert {f["code"] for f in doc["findings"]} == {"san-peer-unknown"}


@pytest.mark.sim
def test_check_san_cmd_runs_a_command_per_node(env, lab, tmp_path):
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    lab.post("/scst", {"node": "storage2", "disable_target": ["21:00:00:24:ff:54:09:33"]})
    f1, f2 = dumps(env, lab, tmp_path)
    proc = run(env, "check", *IN_CLUSTER, "--san-cmd", f"cat {f1}", "--san-cmd", f"cat {f2}",
               "-o", "json")
    assert proc.returncode == 2, explain(proc)
    assert "san-peer-target" in {f["code"] for f in report(proc)["findings"]}
    failed = run(env, "check", *IN_CLUSTER, "--san", f1, "--san-cmd",
                 "echo 'ssh: connect to host storage2 port 22: No route to host' >&2; exit 255")
    assert failed.returncode == 3, explain(failed)
    assert failed.stderr.strip().splitlines()[-1] == (
        "esxpath: error: --san-cmd \"echo 'ssh: connect to host storage2 port 22: No route to"
        " host' >&2; exit 255\": exit 255: ssh: connect to host storage2 port 22: No route to host")


@pytest.mark.sim
def test_check_refuses_a_peer_from_another_storage_pair(env, lab, tmp_path):
    """storage2's dump replaced by a node of another pair made from the same template: same
    device names, setup_id, group ids and LUN ids, other WWPNs. The hosts' takeover paths lead
    to storage2's targets, which no dump owns: not SAFE, UNKNOWN (it was SAFE by group id)."""
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    lab.post("/scst", {"node": "storage2", "rename_target": {
        "21:00:00:24:ff:54:09:32": "21:00:00:24:ff:99:09:32",
        "21:00:00:24:ff:54:09:33": "21:00:00:24:ff:99:09:33"}})
    files = dumps(env, lab, tmp_path)
    other = json.loads(Path(files[1]).read_text(encoding="utf-8"))
    assert {t["name"] for t in other["targets"]} == {"21:00:00:24:ff:99:09:32",
                                                     "21:00:00:24:ff:99:09:33"}
    proc, doc = gate(env, files)
    assert proc.returncode == 3 and doc["status"] == "UNKNOWN", explain(proc)
    found = [f for f in doc["findings"] if f["code"] == "san-peer-unknown"]
    for eui in (EUI1, EUI2):
        for wwpn in ("21:00:00:24:ff:54:09:32", "21:00:00:24:ff:54:09:33"):
            assert any(eui in f["message"] and wwpn in f["message"] and "esx01" in f["message"]
                       for f in found), explain(proc)


@pytest.mark.sim
def test_check_refuses_a_lun_exported_to_an_initiator_group_only(env, lab, tmp_path):
    """storage2 exports a LUN under an initiator group only (targets/.../ini_groups/G/luns):
    the dump does not say which hosts are in G, so the gate cannot prove the hosts see it."""
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    lab.post("/scst", {"node": "storage2", "ini_group": {EUI2: "esx_hosts"}})
    files = dumps(env, lab, tmp_path)
    peer = json.loads(Path(files[1]).read_text(encoding="utf-8"))
    assert {(m["device"], m["ini_group"]) for t in peer["targets"] for m in t["luns"]} == {
        ("lun1_63375032021", None), ("lun2_50332507772", "esx_hosts")}
    esxi_only = run(env, "check", *IN_CLUSTER, "-o", "json")
    assert esxi_only.returncode == 0, explain(esxi_only)  # ESXi looks fine
    proc, doc = gate(env, files)
    assert proc.returncode == 3 and doc["status"] == "UNKNOWN", explain(proc)
    found = [f for f in doc["findings"] if f["code"] == "san-peer-ini-group"]
    assert any(all(w in f["message"] for w in (EUI2, "storage2", "lun2_50332507772",
                                               "initiator group esx_hosts only"))
               for f in found), explain(proc)
    # the other LUN stays in the default group, but a host in esx_hosts would not see it
    assert any(all(w in f["message"] for w in (EUI1, "lun1_63375032021", "esx_hosts",
                                               "instead of the default ones"))
               for f in found), explain(proc)


@pytest.mark.sim
def test_check_wait_reads_stdin_once(env, lab, tmp_path):
    """check --san - --wait: every try judges the SAN again, but stdin is read once (the
    second read found it empty: exit 78). A peer that stays not ready: exit 2 after the wait."""
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    lab.post("/scst", {"node": "storage2", "disable_target": ["21:00:00:24:ff:54:09:32"]})
    f1, f2 = dumps(env, lab, tmp_path)
    proc = subprocess.run(esxpath_argv("check", *IN_CLUSTER, "--san", f1, "--san", "-",
                                       "--wait", "1", "--interval", "0.3", "-o", "json"),
                          env=env, input=Path(f2).read_text(encoding="utf-8"),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2, explain(proc)
    assert "san-peer-target" in {f["code"] for f in report(proc)["findings"]}, explain(proc)


@pytest.mark.sim
def test_check_refuses_a_dump_from_scst_conf(env, lab, tmp_path):
    """A dump made from scst.conf (saved config, not the live state): the gate refuses it,
    san check notes it."""
    apply = run(env, "apply", *IN_CLUSTER, "-o", "json")
    assert apply.returncode == 0, explain(apply)
    files = dumps(env, lab, tmp_path)
    doc2 = json.loads(Path(files[1]).read_text(encoding="utf-8"))
    doc2["source"] = "scst.conf:/etc/scst.conf"
    Path(files[1]).write_text(json.dumps(doc2), encoding="utf-8")
    proc, doc = gate(env, files)
    assert proc.returncode == 3, explain(proc)
    assert {f["code"] for f in doc["findings"] if f["severity"] != "OK"} == {
        "san-dump-saved-config"}, explain(proc)
    audit = run(env, "san", "check", *san_args(files), "-o", "json")
    assert audit.returncode == 0, explain(audit)
    assert [f["code"] for f in report(audit)["findings"]] == ["san-dump-saved-config"]


# ---------------------------------------------------------------- bad dumps (no vCenter read)

def _bad_inputs(tmp_path: Path, good: str) -> dict[str, tuple[str, str]]:
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good[: len(good) // 2], encoding="utf-8")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"schema": "esxpath/report/1", "command": "audit",
                                   "status": "OK"}), encoding="utf-8")
    missing = tmp_path / "missing.json"
    return {"missing": (str(missing), "cannot read the SAN dump: No such file or directory"),
            "truncated": (str(truncated), "not a SAN dump: invalid JSON (truncated?)"),
            "foreign": (str(foreign), "not a SAN dump: schema is 'esxpath/report/1', want"
                                      " 'esxpath/san-dump/1'")}


@pytest.mark.sim
@pytest.mark.parametrize("kind", ("missing", "truncated", "foreign"))
def test_bad_dump_is_one_line_naming_the_file(env, lab, tmp_path, kind):
    good = Path(dumps(env, lab, tmp_path)[0])
    path, text = _bad_inputs(tmp_path, good.read_text(encoding="utf-8"))[kind]
    for command, status in ((("san", "check"), 78), (("check",), 78), (("audit",), 3)):
        proc = run(env, *command, "--san", str(good), "--san", path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == status and len(lines) == 1, (command, explain(proc))
        assert lines[0].startswith(f"esxpath: error: {path}: {text}"), (command, explain(proc))
        assert "Traceback" not in proc.stderr


@pytest.mark.sim
def test_san_check_needs_a_dump(env):
    proc = run(env, "san", "check")
    assert proc.returncode == 64 and "--san FILE or --san-cmd CMD" in proc.stderr, explain(proc)
    proc = run(env, "check", "--after-failover", "--to-tpg", "2", "--san", "x.json")
    assert proc.returncode == 64 and "go with the gate" in proc.stderr, explain(proc)
