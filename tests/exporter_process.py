"""`esxpath exporter` as a subprocess with a profile config for the simulator, and its scrapes.

Shared by tests/e2e/test_exporter.py and tests/e2e/test_monitoring.py (which takes the metric names
esxpath exports from a real scrape).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0  # seconds; generous, the machine is shared (a deadline, not an assertion)


def write_config(tmp_path: Path, lab, interval: float, name: str = "lab") -> Path:
    """A config (mode 0600) with one profile for the simulator and its password file (0600)."""
    pw = tmp_path / f"{name}.password"
    pw.write_text(lab.password + "\n", encoding="utf-8")
    pw.chmod(0o600)
    lines = [f"[vcenter.{name}]", f'server = "{lab.url}"', f'user = "{lab.user}"',
             f'password_file = "{pw}"', f'ca_file = "{lab.ca_file}"',
             'cluster = "storage-cluster"', f"interval = {interval}"]
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg.chmod(0o600)
    return cfg


def clean_env() -> dict[str, str]:
    """The environment without any vCenter credentials: the exporter must use the profile."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ESXPATH_", "VSPHERE_", "GOVC_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@dataclass
class Exporter:
    proc: subprocess.Popen
    url: str  # http://127.0.0.1:PORT/metrics
    target_scrapes: int = 0  # how many /metrics?target= this test sent (the exporter counts them)
    stderr: list[str] = field(default_factory=list)

    def get(self, query: str = "") -> tuple[int, str]:
        if query.startswith("target="):
            self.target_scrapes += 1
        try:
            with urllib.request.urlopen(self.url + (f"?{query}" if query else ""), timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def target(self, name: str = "lab") -> dict[str, float]:
        status, text = self.get(f"target={name}")
        assert status == 200, text
        return target_samples(text, name)

    def own(self) -> dict[str, float]:
        status, text = self.get()
        assert status == 200, text
        return samples(text)

    def wait_for(self, predicate, what: str, name: str = "lab") -> dict[str, float]:
        """Scrape the target until predicate(samples) holds; a deadline, not a timing assert."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            s = self.target(name)
            if predicate(s):
                return s
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"the exporter never showed {what}; last scrape: {s}")
            time.sleep(0.1)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, "".join(self.stderr) + err


def start(config: Path, *args: str, env: dict[str, str] | None = None) -> Exporter:
    """Start the exporter on a free loopback port; returns once it said where it listens.
    env: more environment variables."""
    proc = subprocess.Popen([sys.executable, "-m", "esxpath", "exporter", "--config", str(config),
                             "--listen", "127.0.0.1:0", *args], env={**clean_env(), **(env or {})},
                            cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "exporter listening on " in line:
            url = line.split("listening on ", 1)[1].split(",", 1)[0]
            return Exporter(proc, url, stderr=seen)
    proc.wait()
    raise AssertionError(f"the exporter did not start (exit {proc.returncode}): {''.join(seen)}")


def key(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def samples(text: str) -> dict[str, float]:
    """Every sample of an exposition as 'name{a="x",b="y"}' (labels sorted) -> value."""
    return {key(s.name, s.labels): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def target_samples(text: str, name: str = "lab") -> dict[str, float]:
    """samples() of a target's page, whose every sample must carry vcenter="NAME" (left out
    of the keys)."""
    out = {}
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            assert s.labels.get("vcenter") == name, s
            out[key(s.name, {k: v for k, v in s.labels.items() if k != "vcenter"})] = s.value
    return out


def sample_names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}
