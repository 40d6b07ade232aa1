"""The documentation that users act on agrees with the code: README's exit-code table with
esxpath.errors.ExitStatus and with `esxpath --help`, README's size, its two set-up commands (and
.ci/run runs exactly those)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from esxpath.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
FRESH = ROOT / "tests" / "fresh_debian_check"


def docs() -> list[Path]:
    """The repository's Markdown files: not in .venv, .git, Go's module cache or other dot dirs."""
    return [p for p in ROOT.rglob("*.md") if not any(part.startswith(".") for part in
                                                     p.relative_to(ROOT).parts)]


def readme_commands() -> list[str]:
    """The README's set-up commands: the lines of its first sh block."""
    return README.read_text().split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()


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
    tables = [p for p in docs() if "| code | name | meaning |" in p.read_text()]
    assert tables == [README]


def test_readme_stays_short_and_starts_with_the_two_setup_commands():
    assert len(README.read_bytes()) < 12 * 1024
    block = readme_commands()
    assert len(block) == 2
    # one line each; nothing pip-installed into the system Python: the scripts make .venv
    assert block[0].split()[0] == "tests/sim/demo" and block[1].split()[0] == "tests/run"
    assert not [c for c in block if "pip" in c.split("#", 1)[0]]


def test_ci_runs_the_readme_commands_exactly_as_written():
    lines = CI.read_text().splitlines()
    assert "set -euo pipefail" in lines  # a failing command fails CI
    body = lines[lines.index("set -euo pipefail"):]
    for command in readme_commands():
        # the whole line, comment included, at the top level (not in a function or a branch)
        assert command in body, f".ci/run does not run the README's {command!r}"
    # and the offline step runs through the venv too, with no simulator to start
    assert "ESXSIM_BINARY=/nonexistent/esxsim tests/run -m offline -p no:cacheprovider" in body


def test_readme_commands_are_executable_scripts():
    for command in readme_commands():
        script = ROOT / command.split()[0]
        assert script.is_file() and os.access(script, os.X_OK), script


def apt_hosts() -> set[str]:
    """The host names this machine's apt reads from (its mirror), from both source formats."""
    files = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    text = "\n".join(p.read_text(errors="replace") for p in files if p.is_file())
    return set(re.findall(r"\b[a-z][a-z0-9+.-]*://([^/\s:\]]+)", text)) - {"localhost"}


def test_no_committed_file_names_this_machines_package_mirror():
    # tests/fresh_debian_check reads the mirror at run time; it must never be written down
    hosts = apt_hosts()
    assert hosts, "no apt sources on this machine (the set-up is for Debian)"
    for p in ROOT.rglob("*"):
        rel = p.relative_to(ROOT)
        # not .venv, .git, Go's module cache, caches, nor the built simulator
        if (not p.is_file() or any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
                or rel.parts[:3] == ("tests", "sim", "bin")):
            continue
        text = p.read_bytes().decode(errors="replace")
        assert not [h for h in hosts if h in text], p


SOURCES = {
    "one-line": ("sources.list", "# deb http://old.example/debian bookworm main\n"
                 "deb [signed-by=/k.gpg] http://sec.example/debian-security bookworm-security main\n"
                 "deb [arch=amd64 signed-by=/k.gpg] http://main.example/debian bookworm main\n"),
    "deb822": ("sources.list.d/debian.sources",
               "Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n"
               "Components: main\n\n"
               "# a comment\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
               "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
               "Types: deb\nURIs: http://main.example/debian\nSuites: bookworm bookworm-updates\n"
               "Components: main\nSigned-By: /k.gpg\n"),
}


@pytest.mark.parametrize("form", SOURCES)
def test_fresh_debian_check_takes_the_debian_archive_from_the_apt_sources(tmp_path, form):
    name, text = SOURCES[form]
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    env = {**os.environ, "APT_DIR": str(tmp_path)}
    env.pop("MIRROR", None)
    proc = subprocess.run([str(FRESH), "--mirror"], env=env, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "http://main.example/debian\n"), proc.stderr


def test_fresh_debian_check_without_a_mirror_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MIRROR"} | {"APT_DIR": str(tmp_path)}
    proc = subprocess.run([str(FRESH), "--mirror"], env=env, capture_output=True, text=True)
    assert proc.returncode == 78 and "set MIRROR=URL" in proc.stderr


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
