"""The documentation that users act on agrees with the code: README's exit-code table with
esxpath.errors.ExitStatus and with `esxpath --help`, and README's size."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from esxpath.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_exit_rows() -> dict[int, str]:
    section = README.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m.group(1)): m.group(2)
            for m in re.finditer(r"^\| (\d+) \| ([A-Z_]+) \|", section, re.M)}


def test_readme_exit_code_table_is_the_enum():
    assert readme_exit_rows() == {int(s): s.name for s in ExitStatus}


def test_help_names_every_exit_code():
    out = subprocess.run([sys.executable, "-m", "esxpath", "--help"], capture_output=True,
                         text=True, check=True).stdout
    epilog = out.split("Exit codes:", 1)[1]
    assert {int(n) for n in re.findall(r"\b(\d+)\s+[a-z]", epilog)} == {int(s) for s in ExitStatus}


def test_one_exit_code_table_in_the_docs():
    tables = [p for p in ROOT.rglob("*.md") if "| code | name | meaning |" in p.read_text()]
    assert tables == [README]


def test_readme_stays_short_and_starts_with_the_two_setup_commands():
    text = README.read_text()
    assert len(text.encode()) < 12 * 1024
    block = text.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2 and "tests/sim/demo" in block[0] and "pytest" in block[1]


def _modules() -> list[str]:
    import pkgutil

    import esxpath
    return sorted(m.name for m in pkgutil.walk_packages(esxpath.__path__, "esxpath."))


@pytest.mark.parametrize("module", _modules())
def test_every_module_imports_alone(module):
    # a fresh interpreter per module: an import cycle shows only when its module comes first
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("command", ["show", "apply", "audit", "check", "watch", "provision",
                                     "unprovision", "fio-job", "fio-report"])
def test_every_subcommand_has_help(command):
    for entry in ("esxpath", "esxpath.cli"):
        proc = subprocess.run([sys.executable, "-m", entry, command, "--help"],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and f"esxpath {command}" in proc.stdout, proc.stderr
