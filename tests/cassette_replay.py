"""Replaying cassettes/ with the esxpath CLI: shared by the offline tests and the recorder.

No simulator here (the offline tests must run without Go): only the cassette files,
cassettes/expected.json and `esxpath --replay`.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
EXPECTED = CASSETTES / "expected.json"

# Connection settings a replay must not need (and must not silently use).
CONNECTION_VARS = ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE",
                   "VSPHERE_SERVER", "VSPHERE_USER", "VSPHERE_PASSWORD",
                   "GOVC_URL", "GOVC_USERNAME", "GOVC_PASSWORD", "GOVC_TLS_CA_CERTS", "GOVC_INSECURE")

# Wall-clock measurements differ between the recorded run and its replay.
_SECONDS = re.compile(r"\b\d+\.\d+ ?s\b")


def load_expected() -> dict:
    with open(EXPECTED, encoding="utf-8") as f:
        return json.load(f)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARS}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def esxpath(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "esxpath", *args], env=env, cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def replay(name: str, argv: list[str], timeout: float = 120,
           directory: Path = CASSETTES) -> subprocess.CompletedProcess:
    return esxpath(["--replay", str(directory / f"{name}.yaml"), *argv], clean_env(), timeout)


def normalize(stdout: str) -> str:
    """Output with the timing values blanked; everything else must match byte for byte."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return _SECONDS.sub("<seconds>", stdout)
    return json.dumps(_blank_times(doc), indent=1, sort_keys=True)


def _blank_times(value, key: str = ""):
    """JSON: every measured duration (timings per host, a result's seconds) -> "<seconds>"."""
    timed = key in ("timings", "seconds", "elapsed") or key.endswith("_seconds")
    if isinstance(value, dict):
        return {k: _blank_times(v, "seconds" if key == "timings" else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_times(v, key) for v in value]
    if timed and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<seconds>"
    return value
