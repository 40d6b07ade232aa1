"""Run Broadcom's esxcli (pip package vmware-esxcli) against the simulator, through vCenter with
--vihost, and parse what it prints. The password travels in VI_PASSWORD, not on argv."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Run:
    argv: list
    rc: int
    out: str
    err: str

    def ok(self) -> str:
        assert self.rc == 0, f"esxcli {' '.join(self.argv)} failed ({self.rc}):\n{self.out}{self.err}"
        return self.out


def esxcli(lab, host: str, *argv: str) -> Run:
    """esxcli --server ... --vihost HOST ARGV against the simulator behind `lab`."""
    exe = shutil.which("esxcli")
    assert exe, "Broadcom's esxcli is not installed: pip install vmware-esxcli==9.1.0"
    u = urlsplit(lab.url)
    cmd = [exe, "--server", u.hostname, "--portnumber", str(u.port), "--servicepath", u.path,
           "--cacertsfile", lab.ca_file, "--username", lab.user, "--vihost", host, *argv]
    env = dict(os.environ, VI_PASSWORD=lab.password)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return Run(list(argv), proc.returncode, proc.stdout, proc.stderr)


def records(text: str) -> dict[str, dict[str, str]]:
    """The 'simple' list format: a header line, then indented 'Key: value' lines, blank-separated.
    Returns header -> {key: value}."""
    out: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            current = out.setdefault(line.strip(), {})
        else:
            assert current is not None, f"field outside a record: {line!r}"
            key, _, value = line.strip().partition(":")
            current[key] = value.strip()
    return out


def fields(text: str) -> dict[str, str]:
    """One object printed as indented 'Key: value' lines without a header."""
    out = {}
    for line in text.splitlines():
        if line.strip():
            assert line.startswith("   "), f"unexpected line {line!r}"
            key, _, value = line.strip().partition(":")
            out[key] = value.strip()
    return out


def table(text: str) -> list[dict[str, str]]:
    """The 'table' format: header row, a dashes row giving the column widths, then rows."""
    lines = text.splitlines()
    assert len(lines) >= 2 and set(lines[1].replace(" ", "")) == {"-"}, text
    starts = [i for i, ch in enumerate(lines[1]) if ch == "-" and (i == 0 or lines[1][i - 1] == " ")]
    bounds = list(zip(starts, starts[1:] + [None]))
    names = [lines[0][a:b].strip() for a, b in bounds]
    return [{n: line[a:b].strip() for n, (a, b) in zip(names, bounds)} for line in lines[2:] if line.strip()]
