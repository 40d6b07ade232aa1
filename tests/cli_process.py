"""esxpath as a subprocess against the simulator, and what the simulator says happened.

Shared by the fault suite and the bad-input table: they judge esxpath by its exit code, its
stderr, its JSON report and the simulator's write log and state, never by its internals.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from seedlab import CLUSTER, CLUSTER_HOSTS, SCST  # the seed lab's, re-exported to the CLI tests

ROOT = Path(__file__).resolve().parent.parent

IN_CLUSTER = ("--cluster", CLUSTER)


def cli_env(sim_env: dict, **overrides) -> dict:
    """The sim env for a subprocess; an override of None removes the variable."""
    env = dict(sim_env)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def esxpath_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "esxpath", *args]


def run(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(esxpath_argv(*args), env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(esxpath_argv(*args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def report(proc) -> dict | None:
    """The JSON report on stdout, None when there is none (fatal error, killed)."""
    out = proc.stdout if isinstance(proc.stdout, str) else ""
    out = out.strip()
    if not out:
        return None
    try:
        return json.loads(out)
    except ValueError:
        return None


def explain(proc) -> str:
    return (f"exit {proc.returncode}\n--- stdout\n{(proc.stdout or '')[-3000:]}\n"
            f"--- stderr\n{(proc.stderr or '')[-3000:]}")


def writes(lab) -> list[dict]:
    return lab.get("/stats").get("writes") or []


def state(lab) -> dict:
    return lab.get("/state")


def compliant(dev: dict, iops: int = 1) -> bool:
    return (dev.get("psp") == "VMW_PSP_RR" and dev.get("limit_type") == "iops"
            and dev.get("iops") == iops)


def assert_writes_in_scope(lab, hosts=CLUSTER_HOSTS, devices=SCST) -> list[dict]:
    """Every write the simulator logged is a PSP/RR write to an SCST LUN of an in-scope host."""
    log = writes(lab)
    bad = [w for w in log if w.get("host") not in hosts or w.get("device") not in devices
           or w.get("what") not in ("psp", "rr")]
    assert not bad, f"writes outside the scope: {bad}"
    return log


def reported_failed(rep: dict | None, host: str, device: str) -> bool:
    """Does the report own up to host/device not being done?"""
    if not rep:
        return False
    for r in rep.get("results") or []:
        if r.get("host") == host and r.get("device") in (device, None) and not r.get("ok"):
            return True
    for h in rep.get("hosts") or []:
        if h.get("name") == host and (h.get("error") or h.get("connection_state") != "connected"):
            return True
    for f in rep.get("findings") or []:
        if f.get("host") == host and f.get("device") in (device, None) \
                and f.get("severity") not in ("OK", 0):
            return True
    return False


def assert_compliant_or_reported(lab, proc, hosts=CLUSTER_HOSTS, devices=SCST) -> list:
    """Each in-scope device is compliant in the simulator, or esxpath said it is not."""
    rep = report(proc)
    st = state(lab)["hosts"]
    silent, failed = [], []
    for h in hosts:
        for d in devices:
            dev = st[h]["devices"].get(d)
            if dev is None or compliant(dev):
                continue
            failed.append((h, d))
            if not reported_failed(rep, h, d):
                silent.append((h, d, dev.get("psp"), dev.get("limit_type"), dev.get("iops")))
    assert not silent, f"left non-compliant without saying so: {silent}\n{explain(proc)}"
    if failed:
        assert proc.returncode != 0, f"devices not done {failed} but exit 0\n{explain(proc)}"
    return failed


def assert_one_line_error(proc):
    """The failure is stated in one `esxpath: error:` (or click `Error:`) line, no traceback."""
    err = proc.stderr or ""
    assert "Traceback" not in err, explain(proc)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("esxpath: error:", "Error:"))]
    assert len(errors) == 1, f"want exactly one error line\n{explain(proc)}"
    return errors[0]


def assert_converges(lab, env, *scope: str):
    """Once the fault is gone, apply succeeds, then a further apply writes nothing, exit 0."""
    lab.post("/faults/reset")
    first = run(env, "apply", *scope, "-o", "json")
    assert first.returncode == 0, "re-run did not converge\n" + explain(first)
    lab.post("/stats/reset")
    again = run(env, "apply", *scope, "-o", "json")
    assert again.returncode == 0, explain(again)
    assert writes(lab) == [], f"second apply wrote {writes(lab)}"
    st = state(lab)["hosts"]
    assert all(compliant(st[h]["devices"][d]) for h in CLUSTER_HOSTS for d in SCST)
