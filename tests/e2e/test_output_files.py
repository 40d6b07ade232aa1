"""Output paths through the CLI (issue 23, item 3): `--prom-file`, `--record` and `fio-job --dir`
write only where nothing is or a regular file is; anything else is refused with exit 78 in one
line, before anything runs, and is left as it was. As root (how the audit runner runs) an
atomic rename over /dev/full used to turn it into a regular file.

The real /dev/full and /dev/zero are named, never written: each case asserts they are still
the same character devices afterwards. The other device nodes are private copies of /dev/null.
"""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from cli_process import assert_one_line_error, cli_env, explain, run, writes

pytestmark = pytest.mark.sim


def _device(path: Path) -> Path:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
    return path


def _socket(path: Path) -> Path:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


def _linked(make):
    def link(path: Path) -> Path:
        target = make(path.parent / (path.name + ".target"))
        path.symlink_to(target)
        return path
    return link


TARGETS = {  # id -> (make the thing at path, or name a real device; the words of the error)
    "dev-full": (lambda p: Path("/dev/full"), "a character device"),
    "dev-zero": (lambda p: Path("/dev/zero"), "a character device"),  # was: read to MemoryError
    "device-node": (_device, "a character device"),
    "fifo": (lambda p: (os.mkfifo(p), p)[1], "a FIFO"),  # was: a hang
    "directory": (lambda p: (p.mkdir(), p)[1], "a directory"),
    "socket": (_socket, "a socket"),
    "symlink-to-dev-full": (lambda p: (p.symlink_to("/dev/full"), p)[1], "a character device"),
    "symlink-to-fifo": (_linked(lambda p: (os.mkfifo(p), p)[1]), "a FIFO"),
}

WRITERS = {  # id -> argv around the path
    "audit --prom-file": lambda p: ["audit", "--quiet", "--prom-file", p],
    "audit -o json --prom-file": lambda p: ["audit", "-o", "json", "--prom-file", p],
    "--record apply": lambda p: ["--record", p, "apply"],
    "--record audit": lambda p: ["--record", p, "audit"],
}


def snapshot(path: Path) -> tuple:
    """What must not change: the link and what it points to (inode, type, device numbers),
    and a directory's entries."""
    out = []
    for st in (os.lstat(path), os.stat(path)):
        out.append((st.st_ino, stat.S_IFMT(st.st_mode), st.st_rdev))
    if path.is_dir():
        out.append(tuple(sorted(os.listdir(path))))
    return tuple(out)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("writer", WRITERS)
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(
        lab, sim_env, tmp_path, writer, target):
    make, words = TARGETS[target]
    path = make(tmp_path / "out")
    before = snapshot(path)
    proc = run(cli_env(sim_env), *WRITERS[writer](str(path)), timeout=60)
    assert proc.returncode == 78, explain(proc)  # audit too: refused before it audited
    line = assert_one_line_error(proc)
    assert words in line and "refused" in line and str(path) in line, line
    assert proc.stdout == ""
    assert snapshot(path) == before
    for dev in ("/dev/full", "/dev/zero"):
        assert stat.S_ISCHR(os.lstat(dev).st_mode), f"{dev} is no longer a device"
    assert not list(tmp_path.glob(".esxpath-*")) and not list(Path("/dev").glob(".esxpath-*"))
    assert writes(lab) == []


@pytest.mark.parametrize("target", ["fifo", "device-node", "symlink-to-dev-full", "directory"])
def test_fio_job_files_are_not_written_over_anything_but_regular_files(tmp_path, target):
    make, words = TARGETS[target]
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    path = make(jobs / "randrw-70-30.fio")
    before = snapshot(path)
    proc = run(cli_env({}), "fio-job", "--dir", str(jobs), timeout=60)
    assert proc.returncode == 78, explain(proc)
    line = assert_one_line_error(proc)
    assert f"{path}: {words}, not a regular file" in line, line
    assert snapshot(path) == before
    assert sorted(p.name for p in jobs.iterdir() if not p.name.endswith(".target")) == \
        ["randrw-70-30.fio"]  # every name is checked before the first file is written
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


@pytest.mark.parametrize("where, words", [
    ("/dev/null/jobs", "Not a directory"),  # was: exit 70, internal error NotADirectoryError
    ("/dev/null", "not a directory"),
    ("a-regular-file", "not a directory"),  # was: exit 64 from click
])
def test_fio_job_dir_that_cannot_be_a_directory_is_a_config_error(tmp_path, where, words):
    if where == "a-regular-file":
        where = str(tmp_path / where)
        Path(where).write_text("keep\n")
    proc = run(cli_env({}), "fio-job", "--dir", where, timeout=60)
    assert proc.returncode == 78, explain(proc)
    line = assert_one_line_error(proc)
    assert f"cannot write fio jobs to {where}: {words}" in line, line
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    if where.endswith("a-regular-file"):
        assert Path(where).read_text() == "keep\n"


def test_regular_and_absent_targets_are_still_written(lab, sim_env, tmp_path):
    prom, cassette = tmp_path / "esxpath.prom", tmp_path / "session.yaml"
    prom.write_text("old\n")
    (tmp_path / "real.yaml").write_text("old\n")
    cassette.symlink_to(tmp_path / "real.yaml")  # a symlink to a regular file is fine
    proc = run(cli_env(sim_env), "--record", str(cassette), "audit", "--quiet",
               "--prom-file", str(prom), timeout=120)
    assert proc.returncode in (0, 1), explain(proc)  # the seed lab runs MRU: drift
    assert "esxpath_audit_success 1" in prom.read_text()
    assert "interactions" in cassette.read_text()
