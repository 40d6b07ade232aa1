"""Fault injection against the simulator: esxpath keeps its promises when vCenter misbehaves.

After every fault: no write outside the scope (only the SCST eui LUNs of the cluster's hosts;
esx05, the NetApp LUN and the boot disks are out of scope), every in-scope device is compliant in
the simulator or named as failed in esxpath's JSON report, the exit code says what happened, and
a re-run converges (exit 0, then an apply that writes nothing).
"""
from __future__ import annotations

import signal
import time

import pytest

from cli_process import (CLUSTER_HOSTS, IN_CLUSTER, SCST, assert_compliant_or_reported,
                         assert_converges, assert_writes_in_scope, cli_env, explain, report, run,
                         start, state, writes)

pytestmark = pytest.mark.sim

RR_SET = "storage nmp psp roundrobin deviceconfig set"
PSP_SET = "SetMultipathLunPolicy"
PATH_LIST = "storage nmp path list"
DEVICE_LIST = "storage nmp device list"

# Faults the adapter must ride out: reads are retried, re-login happens once. Each list hits
# a read (esxcli path list), the typed PSP write and the esxcli RR write.
TRANSIENT = {
    "connection-reset": [{"method": m, "count": 1, "fault": "reset"}
                         for m in (PATH_LIST, PSP_SET, RR_SET)],
    "not-authenticated": [{"method": m, "count": 1, "fault": "NotAuthenticated"}
                          for m in (PATH_LIST, PSP_SET, RR_SET)],
    "host-communication-x2": [{"method": m, "count": 2, "fault": "HostCommunication"}
                              for m in (PATH_LIST, PSP_SET, RR_SET)],
}

COMMANDS = {
    "apply": ("apply", *IN_CLUSTER, "-o", "json"),
    "audit": ("audit", *IN_CLUSTER, "--format", "json"),
    "check": ("check", *IN_CLUSTER, "-o", "json"),
}


@pytest.fixture
def env(sim_env):
    return cli_env(sim_env)


def prepare(lab, env, command):
    """apply starts from the scenario (MRU everywhere); audit and check from a compliant estate,
    where their answer without faults is exit 0."""
    if command != "apply":
        done = run(env, *COMMANDS["apply"])
        assert done.returncode == 0, explain(done)
    lab.post("/stats/reset")


def wait_for(pred, timeout=30.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def judge_after(lab, env, command, proc):
    """What holds after any fault, for every command."""
    assert "Traceback" not in proc.stderr, explain(proc)
    assert proc.returncode in (0, 1, 2, 3), explain(proc)
    if command == "apply":
        assert_writes_in_scope(lab)
        assert_compliant_or_reported(lab, proc)
    else:
        assert writes(lab) == [], f"{command} wrote {writes(lab)}"
        assert report(proc) is not None, explain(proc)


# ---------------------------------------------------------------- transient faults

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_fault_is_ridden_out(lab, env, command, fault):
    prepare(lab, env, command)
    for body in TRANSIENT[fault]:
        lab.post("/faults", body)
    proc = run(env, *COMMANDS[command])
    judge_after(lab, env, command, proc)
    left = {f["method"] for f in lab.get("/faults")["faults"]}
    hit = (PATH_LIST, PSP_SET, RR_SET) if command == "apply" else (PATH_LIST,)
    assert not left & set(hit), f"faults never fired: {left & set(hit)} (test is vacuous)"
    if command == "apply":
        # a write may fail for good (then it is reported, exit 1), never silently
        assert proc.returncode in (0, 1), explain(proc)
        if proc.returncode == 1:
            assert any(not r["ok"] for r in report(proc)["results"]), explain(proc)
    else:
        # a read is idempotent: retried or re-logged in, the answer is the fault-free one
        assert proc.returncode == 0, explain(proc)
    assert_converges(lab, env, *IN_CLUSTER)


def test_a_write_whose_answer_is_lost_is_confirmed_not_repeated(lab, env):
    # issue 15: 4 blind attempts all landed, then the change was reported FAILED
    prepare(lab, env, "apply")
    lab.post("/faults", {"method": PSP_SET, "count": 2, "fault": "lost", "host": "esx02"})
    proc = run(env, *COMMANDS["apply"])
    assert proc.returncode == 0, explain(proc)
    assert not lab.get("/faults")["faults"], "the faults never fired (test is vacuous)"
    results = report(proc)["results"]
    assert all(r["ok"] for r in results), explain(proc)
    esx02 = [r for r in results if r["host"] == "esx02" and r["kind"] == "psp"]
    assert len(esx02) == 2 and all(r["outcome"] == "confirmed" for r in esx02), esx02
    for dev in SCST:  # it landed: read back, never sent again
        sent = [w for w in lab.get("/stats")["writes"]
                if (w["host"], w["device"], w["what"]) == ("esx02", dev, "psp")]
        assert len(sent) == 1, sent
    assert_converges(lab, env, *IN_CLUSTER)


def test_a_write_slower_than_the_timeout_is_sent_once_and_unknown(lab, env):
    """--timeout bounds a change's send and read-backs together (issue 23): a write that takes
    2.5 s with --timeout 1 is not sent again after the time is up; the report says it is
    unknown (or confirmed, when the re-read after the writes sees it landed), never applied."""
    prepare(lab, env, "apply")
    lab.post("/requests/reset")
    lab.post("/latency", {"ms": 2500, "method": PSP_SET, "host": "esx02"})
    try:
        proc = run(env, *COMMANDS["apply"], "--timeout", "1")
    finally:
        lab.post("/latency", {"ms": 0, "method": PSP_SET, "host": "esx02"})
    assert proc.returncode == 1, explain(proc)  # its RR limits could not be set: no RR yet
    results = report(proc)["results"]
    esx02 = [r for r in results if r["host"] == "esx02" and r["kind"] == "psp"]
    assert len(esx02) == 2 and all(r["outcome"] in ("unknown", "confirmed") for r in esx02), esx02
    # once per device: the old code sent each again after 2 s, still within its retries
    sent = lab.get(f"/requests?method={PSP_SET}&host=esx02")["requests"]
    assert len(sent) == 2, [r["body"][-300:] for r in sent]
    assert all(r["ok"] for r in results if r["host"] != "esx02"), explain(proc)
    assert_converges(lab, env, *IN_CLUSTER)


def test_three_not_authenticated_in_a_row_at_parallel_8_every_change_applied(lab, env):
    # issue 15: each worker used to log in on its own and give up on a second refusal
    prepare(lab, env, "apply")
    for method in (PSP_SET, RR_SET):
        lab.post("/faults", {"method": method, "count": 3, "fault": "NotAuthenticated"})
    proc = run(env, *COMMANDS["apply"], "--parallel", "8")
    assert proc.returncode == 0, explain(proc)
    assert all(r["ok"] for r in report(proc)["results"]), explain(proc)
    assert not lab.get("/faults")["faults"], "the faults never fired (test is vacuous)"
    assert_converges(lab, env, *IN_CLUSTER)


def test_hosts_left_alone_after_not_authenticated_say_why(lab, env):
    """issue 23, item 5: 10 NotAuthenticated on ExecuteSoap: the hosts whose read gave up are
    left alone (exit 3), and the report says which and why (it said nothing: findings [],
    every hosts[].error null, as their re-read after the writes worked)."""
    lab.post("/faults", {"method": "ExecuteSoap", "count": 10, "fault": "NotAuthenticated"})
    proc = run(env, "apply", "--parallel", "1", "-o", "json")  # 4 refusals end a host's read
    assert proc.returncode == 3, explain(proc)
    rep = report(proc)
    skipped = {f["host"]: f["message"] for f in rep["findings"] if f["code"] == "host-skipped"}
    assert set(skipped) == {"esx01", "esx02"}, explain(proc)
    planned = {c["host"] for c in rep["plan"]}
    assert planned.isdisjoint(skipped) and planned | set(skipped) == {h["name"] for h in rep["hosts"]}
    assert all("session not accepted" in m for m in skipped.values()), skipped
    assert_converges(lab, env, *IN_CLUSTER)


@pytest.mark.parametrize("command", COMMANDS)
def test_session_expires_mid_run(lab, env, command):
    """Every session dies while esxpath works (vCenter restart, idle timeout): it logs in again."""
    prepare(lab, env, command)
    lab.post("/latency", {"ms": 80})
    proc = start(env, *COMMANDS[command], "--parallel", "1")  # hosts in turn: calls remain
    # expire once the run is under way: after its first esxcli command
    assert wait_for(lambda: sum(lab.get("/stats")["esxcli"].values()) > 0), "never started"
    lab.post("/sessions/expire")
    out, err = proc.communicate(timeout=180)
    proc.stdout, proc.stderr = out, err
    judge_after(lab, env, command, proc)
    assert proc.returncode == 0, explain(proc)
    assert lab.get("/stats")["calls"].get("Login", 0) >= 2, "no second login: nothing expired"
    lab.post("/latency", {"ms": 0})
    assert_converges(lab, env, *IN_CLUSTER)


# ---------------------------------------------------------------- one host goes away

def test_host_disconnects_mid_apply(lab, env):
    lab.post("/latency", {"ms": 150})
    proc = start(env, "apply", *IN_CLUSTER, "--parallel", "1", "-o", "json")
    assert wait_for(lambda: writes(lab)), "apply never wrote"
    lab.post("/host", {"name": "esx04", "connection": "disconnected"})
    out, err = proc.communicate(timeout=180)
    proc.stdout, proc.stderr = out, err
    judge_after(lab, env, "apply", proc)
    st = state(lab)["hosts"]["esx04"]
    undone = [d for d in SCST if st["devices"][d]["iops"] != 1]
    if undone:  # the usual case: esx04 is worked on last with --parallel 1
        assert proc.returncode in (1, 3), explain(proc)
        assert "esx04" in out + err, explain(proc)
    lab.post("/latency", {"ms": 0})
    lab.post("/host", {"name": "esx04", "connection": "connected"})
    assert_converges(lab, env, *IN_CLUSTER)


@pytest.mark.parametrize("command", ["audit", "check"])
def test_host_disconnected_is_not_verified(lab, env, command):
    prepare(lab, env, command)
    lab.post("/host", {"name": "esx02", "connection": "disconnected"})
    proc = run(env, *COMMANDS[command])
    judge_after(lab, env, command, proc)
    assert proc.returncode == 3, explain(proc)  # could not verify: never 0, not "danger" either
    rep = report(proc)
    assert any(f["host"] == "esx02" for f in rep["findings"]), explain(proc)


@pytest.mark.parametrize("command", COMMANDS)
def test_slow_host_times_out_alone(lab, env, command):
    """3 s per call on esx03 with --timeout 1: esx03 is reported, the others are done."""
    prepare(lab, env, command)
    lab.post("/latency", {"ms": 3000, "host": "esx03"})
    proc = run(env, *COMMANDS[command], "--timeout", "1", timeout=240)
    judge_after(lab, env, command, proc)
    assert proc.returncode == 3 if command != "apply" else proc.returncode in (1, 3), explain(proc)
    assert "esx03" in proc.stdout + proc.stderr, explain(proc)
    if command == "apply":
        st = state(lab)["hosts"]
        others = [(h, d) for h in CLUSTER_HOSTS if h != "esx03" for d in SCST
                  if st[h]["devices"][d]["iops"] != 1]
        assert not others, f"the slow host kept others from being done: {others}"
    lab.post("/latency", {"ms": 0, "host": "esx03"})
    lab.post("/latency", {"ms": 0})
    assert_converges(lab, env, *IN_CLUSTER)


# ---------------------------------------------------------------- one write fails

def test_one_rr_set_fails_once(lab, env):
    """A single SystemError on one host's RR write: retried or reported, never silent."""
    lab.post("/faults", {"method": RR_SET, "count": 1, "fault": "SystemError", "host": "esx02"})
    proc = run(env, *COMMANDS["apply"])
    judge_after(lab, env, "apply", proc)
    assert proc.returncode in (0, 1), explain(proc)
    assert lab.get("/faults")["faults"] == [], "the fault never fired"
    assert_converges(lab, env, *IN_CLUSTER)


def test_rr_set_fails_for_good_on_one_host(lab, env):
    """esx02's RR writes keep failing: its devices end RR with iops 1000 (PSP written, limit
    not) and must be named as failed; the other hosts are done; exit 1 (drift)."""
    lab.post("/faults", {"method": RR_SET, "count": 1000, "fault": "SystemError", "host": "esx02"})
    proc = run(env, *COMMANDS["apply"])
    judge_after(lab, env, "apply", proc)
    assert proc.returncode == 1, explain(proc)
    failed = {(r["host"], r["device"]) for r in report(proc)["results"] if not r["ok"]}
    assert failed == {("esx02", d) for d in SCST}, explain(proc)
    st = state(lab)["hosts"]
    assert all(st[h]["devices"][d]["iops"] == 1 for h in CLUSTER_HOSTS if h != "esx02"
               for d in SCST)
    assert_converges(lab, env, *IN_CLUSTER)


@pytest.mark.parametrize("command", ["audit", "check"])
def test_esxcli_read_fails_for_good_on_one_host(lab, env, command):
    prepare(lab, env, command)
    for m in (DEVICE_LIST, PATH_LIST):
        lab.post("/faults", {"method": m, "count": 1000, "fault": "SystemError", "host": "esx02"})
    proc = run(env, *COMMANDS[command])
    judge_after(lab, env, command, proc)
    assert proc.returncode == 3, explain(proc)
    assert "esx02" in proc.stdout, explain(proc)


@pytest.mark.parametrize("command", COMMANDS)
def test_inventory_read_keeps_failing(lab, env, command):
    """vCenter answers HostCommunication to every inventory read: no retry loop forever, no
    write, no traceback, and never exit 0; the one error line says what failed."""
    prepare(lab, env, command)
    lab.post("/faults", {"method": "RetrievePropertiesEx", "count": 1000,
                         "fault": "HostCommunication"})
    proc = run(env, *COMMANDS[command], timeout=120)
    # vCenter unusable: 69 (connection); audit speaks Nagios, where that is 3 (unknown)
    assert proc.returncode == (3 if command == "audit" else 69), explain(proc)
    assert "Traceback" not in proc.stderr, explain(proc)
    assert writes(lab) == [], writes(lab)
    assert "HostCommunication" in proc.stderr, explain(proc)
    assert_converges(lab, env, *IN_CLUSTER)


# ---------------------------------------------------------------- esxpath itself dies

def test_kill_9_mid_apply_then_rerun_converges(lab, env):
    lab.post("/latency", {"ms": 150})
    proc = start(env, "apply", *IN_CLUSTER, "--parallel", "1", "-o", "json")
    assert wait_for(lambda: writes(lab)), "apply never wrote"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(1)  # a call in flight when esxpath died still lands (after the 150 ms delay)
    assert_writes_in_scope(lab)
    lab.post("/latency", {"ms": 0})
    # what was left half done is visible to audit, device by device
    st = state(lab)["hosts"]
    undone = {(h, d) for h in CLUSTER_HOSTS for d in SCST if st[h]["devices"][d]["iops"] != 1}
    assert undone, "the kill came too late to leave anything undone"
    audit = run(env, *COMMANDS["audit"])
    assert audit.returncode == 1, explain(audit)
    named = {(f["host"], f["device"]) for f in report(audit)["findings"]}
    assert undone <= named, f"audit does not name {undone - named}\n{explain(audit)}"
    assert_converges(lab, env, *IN_CLUSTER)
