"""What `watch` calls switched (issue 22, item 3), through the CLI against the simulator.

A slow host (POST /failover "slow_hosts") has every path dead after the move, for that many
simulated seconds, with vCenter's APD open meanwhile: it has not switched, whatever the groups'
states say. The outage is judged with the simulator's own numbers (its APD intervals, the
simulated seconds it was told), never with the wall clock; POST /clock stands in for the wait.
"""
from __future__ import annotations

import signal
import time
from datetime import datetime

import pytest

from cli_process import IN_CLUSTER, SCST, cli_env, explain, report, start

pytestmark = pytest.mark.sim

PATH_READS = "storage nmp path list"  # one esxcli call per host and sample


@pytest.fixture
def env(sim_env):
    return cli_env(sim_env)


def watch(env, *args):
    proc = start(env, "watch", "--interval", "0.2", *args, "-o", "json")
    line = proc.stderr.readline()
    if not line.startswith("esxpath: watching"):
        proc.kill()
        raise AssertionError(line + proc.communicate(timeout=30)[1])
    return proc


def path_reads(lab) -> int:
    return lab.get("/stats")["esxcli"].get(PATH_READS, 0)


def wait_samples(lab, proc, hosts, n=3):
    """Until watch has taken n more samples (the simulator counts its reads) or has ended."""
    goal = path_reads(lab) + n * hosts
    while path_reads(lab) < goal and proc.poll() is None:
        time.sleep(0.05)


def finish(proc):
    out, err = proc.communicate(timeout=120)
    proc.stdout, proc.stderr = out, err
    doc = report(proc)
    assert doc is not None, explain(proc)
    return doc


def esx02(doc):
    (h,) = [h for h in doc["hosts"] if h["name"] == "esx02"]
    return h


def apd_intervals(h):
    return [i for i in h["storage_intervals"] if i["kind"] == "apd"]


def test_a_host_in_apd_is_not_switched_and_watch_exits_2_when_it_ends_there(lab, env):
    proc = watch(env, "--host", "esx02", "--until-switched", "--duration", "10")
    lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx02": 3600}})
    wait_samples(lab, proc, hosts=1)
    # TPG 2 is AO by the groups' states, but every path of esx02 is dead: it keeps waiting
    assert proc.poll() is None, explain(proc)
    doc = finish(proc)
    assert proc.returncode == 2 and doc["status"] == "DANGER", explain(proc)
    h = esx02(doc)
    assert h["new_ao"] == [2] and h["switched"] is False and h["new_ao_after"] is None, h
    assert sorted(h["not_switched"]) == sorted(
        f"{d}: all paths dead, APD open (vCenter)" for d in SCST)
    apd = apd_intervals(h)
    assert sorted(i["subject"] for i in apd) == sorted(SCST) and all(i["open"] for i in apd)
    # the pause is at least the outage vCenter saw (still going at the end) and the samples'
    assert h["io_pause_seconds"] >= max(i["length"] for i in apd) > 0
    assert h["io_pause_seconds"] >= h["no_live_ao_seconds"] > 0


def test_until_switched_waits_out_the_apd_and_reports_the_whole_outage(lab, env):
    proc = watch(env, "--host", "esx02", "--until-switched", "--duration", "600")
    lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx02": 20}})
    wait_samples(lab, proc, hosts=1)
    assert proc.poll() is None, explain(proc)  # not switched while its paths are dead
    lab.post("/clock", {"advance": 20})  # 20 simulated seconds: the paths come back
    doc = finish(proc)
    assert proc.returncode == 0 and doc["status"] == "OK", explain(proc)
    h = esx02(doc)
    assert h["switched"] is True and h["not_switched"] == [] and h["new_ao"] == [2], h
    assert h["new_ao_after"] is not None
    apd = apd_intervals(h)
    assert sorted(i["subject"] for i in apd) == sorted(SCST), h["storage_intervals"]
    assert not any(i["open"] for i in apd)
    for i in apd:  # the simulator's outage, on its own clock
        took = datetime.fromisoformat(i["end"]) - datetime.fromisoformat(i["start"])
        assert took.total_seconds() == 20.0, i
    assert h["io_pause_seconds"] >= 20.0 and h["vcenter_pause_seconds"] == 20.0


def test_the_pause_comes_from_the_samples_without_vcenters_events(lab, env):
    proc = watch(env, "--host", "esx02", "--no-events", "--duration", "600")
    lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx02": 3600}})
    wait_samples(lab, proc, hosts=1)
    proc.send_signal(signal.SIGTERM)
    doc = finish(proc)
    assert proc.returncode == 143, explain(proc)
    h = esx02(doc)
    dead_at = min(e["t"] for e in h["events"] if e["kind"] == "path-dead")
    # no live AO path from the sample that saw the paths die to the last one
    assert h["no_live_ao_seconds"] == h["io_pause_seconds"] == round(doc["duration"] - dead_at, 3)
    assert h["io_pause_seconds"] > 0 and h["vcenter_pause_seconds"] is None
    assert "storage" not in doc and h["switched"] is False


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_watch_with_the_timeline_so_far(lab, env, signum, code):
    proc = watch(env, *IN_CLUSTER, "--duration", "600")
    lab.post("/failover", {"active": "storage2"})
    wait_samples(lab, proc, hosts=4, n=2)
    proc.send_signal(signum)
    doc = finish(proc)
    assert proc.returncode == code, explain(proc)
    assert "esxpath: interrupted; the timeline so far:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert doc["command"] == "watch" and len(doc["hosts"]) == 4
    for h in doc["hosts"]:  # the whole switch is in it: every host moved to TPG 2
        assert h["new_ao"] == [2] and h["switched"] is True, h
        assert {e["kind"] for e in h["events"]} == {"tpg-state"}, h["events"]


def test_a_host_still_seeing_the_old_group_ao_is_not_switched(lab, env):
    lab.post("/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"})
    proc = watch(env, *IN_CLUSTER, "--duration", "8")
    lab.post("/failover", {"active": "storage2"})  # esx03 then sees TPG 1 AO and TPG 2 AO
    wait_samples(lab, proc, hosts=4, n=2)
    assert proc.poll() is None, explain(proc)
    doc = finish(proc)
    assert proc.returncode == 2 and doc["status"] == "DANGER", explain(proc)
    hosts = {h["name"]: h for h in doc["hosts"]}
    esx03 = hosts.pop("esx03")
    assert esx03["switched"] is False and esx03["new_ao"] == [1, 2], esx03
    assert sorted(esx03["not_switched"]) == sorted(
        f"{d}: TPG 2 AO, but TPG 1 still AO too" for d in SCST)
    assert all(h["switched"] and h["not_switched"] == [] for h in hosts.values()), hosts


def test_node_tpg_names_the_controllers_in_the_timeline(lab, env):
    proc = start(env, "watch", *IN_CLUSTER, "--interval", "0.2", "--until-switched",
                 "--node-tpg", "storage1=1", "--node-tpg", "storage2=2")
    assert proc.stderr.readline().startswith("esxpath: watching"), explain(proc)
    lab.post("/failover", {"active": "storage2"})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    for h in ("esx01", "esx02", "esx03", "esx04"):
        assert f"{h}: AO TPG 1 (storage1) -> TPG 2 (storage2); old AO left +" in out, out
    bad = start(env, "watch", "--node-tpg", "storage2")
    out, err = bad.communicate(timeout=60)
    assert bad.returncode == 64 and "want NODE=ID" in err, out + err
