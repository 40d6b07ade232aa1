"""Ctrl-C and SIGTERM during apply (issue 15, item 1), by a real signal to a real process: no
new write starts, the report says what was and was not written, exit 130 / 143."""
from __future__ import annotations

import json
import signal
import time

import pytest

from cli_process import cli_env, start

pytestmark = pytest.mark.sim


def _writes(lab) -> int:
    return len(lab.get("/stats")["writes"])


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_apply_between_writes_and_it_reports(lab, sim_env, signum, code):
    lab.post("/latency", {"ms": 150})  # 20 writes one after the other: a few seconds
    proc = start(cli_env(sim_env), "apply", "--parallel", "1", "-o", "json")
    try:
        end = time.monotonic() + 120
        while _writes(lab) < 2 and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        lab.post("/latency", {"ms": 0})
    assert proc.returncode == code, err
    assert "Traceback" not in err and "not written" in err
    results = json.loads(out)["results"]
    written = [r for r in results if r["ok"]]
    left = [r for r in results if r["error"] == "not written: interrupted"]
    assert written and left and len(written) + len(left) == len(results) == 20
    assert all(r["outcome"] == "not-written" for r in left)
    # the simulator saw exactly what the report calls written: nothing started after the signal
    assert _writes(lab) == len(written)
    # listed once (issue 23, item 6): never sent is not also "written, did not take"
    unsent = {(r["host"], r["device"]) for r in left}
    said = [f for f in json.loads(out)["findings"] if (f["host"], f["device"]) in unsent]
    assert not said, said


@pytest.mark.parametrize("signum,code,what", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_the_first_read_still_prints_the_json_report(lab, sim_env, signum,
                                                                     code, what):
    """docs/json.md: with -o json a report is always printed (issue 23, item 7)."""
    lab.post("/latency", {"ms": 150})
    proc = start(cli_env(sim_env), "apply", "--parallel", "1", "-o", "json")
    try:
        end = time.monotonic() + 120
        while not sum(lab.get("/stats")["esxcli"].values()) and time.monotonic() < end:
            time.sleep(0.02)  # the hosts are being read
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        lab.post("/latency", {"ms": 0})
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"esxpath: error: {what}" in err
    doc = json.loads(out)
    assert (doc["schema"], doc["command"], doc["status"]) == ("esxpath/report/1", "apply", "UNKNOWN")
    assert [(f["code"], f["message"]) for f in doc["findings"]] == [("error", what)]
    assert _writes(lab) == 0


def test_sigterm_during_a_retry_storm_exits_143_with_the_report(lab, sim_env):
    """Every write and then the re-read answer HostCommunication: SIGTERM ends the storm and
    still exits 143 (it was 69, the re-read's failure), after the report of every change."""
    lab.post("/latency", {"ms": 100})
    for method in ("SetMultipathLunPolicy", "storage nmp psp roundrobin deviceconfig set"):
        lab.post("/faults", {"method": method, "count": 10000, "fault": "HostCommunication"})
    proc = start(cli_env(sim_env), "apply", "--parallel", "1", "-o", "json")
    try:
        end = time.monotonic() + 120
        while lab.get("/stats")["calls"].get("SetMultipathLunPolicy", 0) < 3 \
                and time.monotonic() < end:
            time.sleep(0.02)
        lab.post("/faults", {"method": "RetrievePropertiesEx", "count": 10000,
                             "fault": "HostCommunication"})
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        lab.post("/latency", {"ms": 0})
        lab.post("/faults/reset")
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    doc = json.loads(out)
    outcomes = [r["outcome"] for r in doc["results"]]
    assert len(outcomes) == 20 and "not-written" in outcomes and "applied" not in outcomes, outcomes
    assert all(h["error"] and "not re-read" in h["error"] for h in doc["hosts"])
    assert _writes(lab) == 0


def test_ctrl_c_during_provision_cancels_the_creates_and_leaves_no_vm(lab, sim_env):
    lab.post("/config", {"zero_rate_mbps": 16})  # 1 GiB eager-zeroed: about a minute per VM
    proc = start(cli_env(sim_env), "provision", "--create-datastores", "--size", "1G", "--yes",
                 "-o", "json")
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and proc.poll() is None and not any(
                w["what"] == "datastore" for w in lab.get("/stats")["writes"]):
            time.sleep(0.05)
        time.sleep(1.0)  # the VM creates are running (zeroing)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    doc = json.loads(out)
    vms = [r for r in doc["results"] if r["what"] == "vm"]
    assert vms and not any(r["ok"] for r in vms), vms
    assert all("interrupted" in r["error"] for r in vms), vms
    assert lab.get("/state")["vms"] == []  # cancelled and cleaned up: nothing half-made left
