"""Run one command as a fresh process tree and measure it: wall time, exit code, peak memory,
and what the simulator saw (SOAP calls, esxcli commands, writes) between a stats reset and the end.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass


@dataclass
class Measurement:
    name: str
    wall_s: float
    rc: int
    peak_rss_mib: float  # largest resident set of any process in the tree (ru_maxrss of wait4)
    soap_calls: int  # every SOAP request the simulator answered (GET /stats calls)
    esxcli_commands: int  # esxcli commands executed through the vSphere API
    writes: int  # state-changing calls recorded by the simulator
    note: str = ""
    stderr_tail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def run_measured(name: str, argv: list[str], env: dict, lab, timeout: float = 900,
                 note: str = "") -> Measurement:
    """argv runs once; the simulator's counters are reset just before it starts.

    Peak memory comes from wait4()'s rusage of the direct child: Linux folds in the maximum
    RSS of every descendant it reaped, so a shell loop reports its largest esxcli process.
    """
    lab.post("/stats/reset")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, start_new_session=True)
        killer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        tail = err.read().decode(errors="replace")[-600:]
    stats = lab.get("/stats")
    return Measurement(
        name=name, wall_s=round(wall, 3), rc=proc.returncode,
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),
        soap_calls=sum(stats.get("calls", {}).values()),
        esxcli_commands=sum(stats.get("esxcli", {}).values()),
        writes=len(stats.get("writes") or []), note=note, stderr_tail=tail)
