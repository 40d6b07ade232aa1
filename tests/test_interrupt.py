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
