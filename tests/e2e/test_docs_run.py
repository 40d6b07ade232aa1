"""Commands the docs give, run as written against the simulator.

tests/sim/README.md's line that loads the simulator's env file must export it (a plain `. FILE`
sets shell variables that esxpath never sees); docs/san.md's `san dump` example must name the
Pacemaker resource the simulator has, and its cron entry must work after the set-up steps the
page gives (it once wrote into a directory no step created). Only what cannot exist here is
replaced: /tmp/esxsim.env by the running simulator's file, /var/lib/esxpath by a temporary
directory, the node's /sys/kernel/scst_tgt and `crm_mon` by the simulator's copies.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sim

ROOT = Path(__file__).resolve().parents[2]
SIM_README = ROOT / "tests" / "sim" / "README.md"
SAN_MD = ROOT / "docs" / "san.md"
KEYS = ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE", "ESXSIM_CONTROL")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def clean_env(**extra: str) -> dict[str, str]:
    """No vCenter credentials from this process: only what the doc's commands provide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESXPATH_", "ESXSIM_"))}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def section(path: Path, heading: str) -> str:
    """From the heading to the next heading (a `#` line outside code blocks)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(heading + "\n")
    out, fenced = [lines[start]], False
    for line in lines[start + 1:]:
        fenced ^= line.startswith("```")
        if line.startswith("#") and not fenced:
            break
        out.append(line)
    return "".join(out)


def esxpath_cmd() -> str:
    return f"{shlex.quote(sys.executable)} -m esxpath"


def test_the_sim_readmes_env_line_exports_the_variables(lab):
    block = _FENCE.findall(section(SIM_README, "## Build and run"))[0][1]
    (line,) = [x for x in block.splitlines()
               if "/tmp/esxsim.env" in x and "--env-file" not in x]  # the line that loads it
    line = line.split(" #", 1)[0].replace("/tmp/esxsim.env", shlex.quote(str(lab.env_file)))
    exported = "import json, os; print(json.dumps({k: os.environ.get(k) for k in %r}))" % (KEYS,)
    script = (f"{line}\n{shlex.quote(sys.executable)} -c {shlex.quote(exported)}\n"
              f"{esxpath_cmd()} show --cluster storage-cluster -o json\n")
    proc = subprocess.run(["bash", "-c", script], env=clean_env(), capture_output=True,
                          text=True, timeout=180, cwd=ROOT)
    seen, report = proc.stdout.split("\n", 1)
    got = json.loads(seen)  # what a child process sees (compared, not shown: a password)
    assert [k for k in KEYS if got[k] != lab.env[k]] == [], f"not exported by {line!r}"
    assert proc.returncode == 0, f"{line!r}: {proc.stderr}"
    assert len(json.loads(report)["hosts"]) == 4


def test_the_san_dump_example_names_the_simulators_resource(lab):
    (line,) = [x for x in section(SAN_MD, "## SAN view: `esxpath san dump`").splitlines()
               if x.startswith("esxpath san dump --crm-mon-xml")]
    argv = shlex.split(line.split(" #", 1)[0])
    argv[argv.index("saved.xml")] = str(lab.crm_mon_xml("storage1"))
    argv += ["--sysfs-root", str(lab.scst_root("storage1"))]  # the node's /sys/kernel/scst_tgt
    proc = subprocess.run([sys.executable, "-m", *argv], env=clean_env(), capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, f"{line}: {proc.stderr}"
    doc = json.loads(proc.stdout)
    assert (doc["node"], doc["role"]) == ("storage1", "promoted")


def test_the_san_dump_cron_entry_works_after_the_pages_set_up(lab, tmp_path):
    text = section(SAN_MD, "### Running it on the nodes")
    blocks = _FENCE.findall(text)
    cron_at = [kind for kind, _ in blocks].index("cron")
    set_up = "\n".join(body for kind, body in blocks[:cron_at] if kind == "sh")
    cron = blocks[cron_at][1].splitlines()
    env = dict(x.split("=", 1) for x in cron if re.match(r"^[A-Z]+=", x))
    (entry,) = [x for x in cron if x and not x.startswith("#") and not re.match(r"^[A-Z]+=", x)]
    fields = entry.split(None, 6)
    assert fields[5] == "root", entry  # a cron.d line: the user before the command
    var = tmp_path / "var-lib-esxpath"  # not made here: the page's set-up must make it
    dump = (f"{esxpath_cmd()} san dump --sysfs-root {lab.scst_root('storage1')} "
            f"--crm-mon-xml {lab.crm_mon_xml('storage1')} --node storage1")
    script = (set_up + "\n" + fields[6].replace("esxpath san dump", dump)).replace(
        "/var/lib/esxpath", str(var))
    path = env.get("PATH", "/usr/bin:/bin")  # cron's own PATH unless the entry sets one
    proc = subprocess.run(["/bin/sh", "-c", script], env=clean_env(PATH=path),
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, f"{script}\n{proc.stderr}"
    assert json.loads((var / "san.json").read_text())["schema"] == "esxpath/san-dump/1"
    assert sorted(p.name for p in var.iterdir()) == ["san.json"]
    assert "/usr/local/bin" in path.split(":")  # where esxpath is installed, cron must look
