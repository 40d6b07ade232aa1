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
    # the simulator saw exactly what the report calls written: nothing started after the signal
    assert _writes(lab) == len(written)


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
