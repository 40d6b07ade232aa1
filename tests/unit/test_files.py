"""esxpath/app/files.py and its writers (issue 23, item 3): only regular files are written or read.

The "device node" here is a private copy of /dev/null (mknod, as root: the tests run as root
like the audit runner), so that even a writer that went wrong would write nowhere; the real
/dev/full and /dev/zero are used only by the CLI tests, which assert they stay devices.
"""
from __future__ import annotations

import os
import socket
import stat

import pytest

from esxpath.app import files, fio, promfile
from esxpath.app.credentials import parse_url, read_password_file, split_userinfo
from esxpath.errors import ConfigError, UsageError


def _device(path):
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers


def _socket(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the socket file stays


def _dangling(path):
    os.symlink(path.parent / "nothing-here", path)


MAKERS = {  # what stands where esxpath would write -> (make it, what the error calls it)
    "device": (_device, "a character device"),
    "fifo": (lambda p: os.mkfifo(p), "a FIFO"),
    "directory": (lambda p: p.mkdir(), "a directory"),
    "socket": (_socket, "a socket"),
    "symlink-to-device": (lambda p: (_device(p.parent / "dev"), os.symlink(p.parent / "dev", p)),
                          "a character device"),
    "symlink-to-fifo": (lambda p: (os.mkfifo(p.parent / "f"), os.symlink(p.parent / "f", p)),
                        "a FIFO"),
}


def identity(path) -> tuple:
    """What must not change: the inode, its type and device numbers (lstat: the link itself)."""
    st = os.lstat(path)
    return st.st_ino, stat.S_IFMT(st.st_mode), st.st_rdev


@pytest.mark.parametrize("kind", MAKERS)
def test_a_path_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path, kind):
    make, words = MAKERS[kind]
    path = tmp_path / "target"
    make(path)
    before = identity(path)
    assert files.output_problem(str(path)) == f"{words}, not a regular file"
    with pytest.raises(files.NotRegularFile):
        files.write_atomic(str(path), "x\n")
    with pytest.raises(files.NotRegularFile):
        files.remove_regular(str(path))
    with pytest.raises(ConfigError, match=words):
        promfile.write_atomic(str(path), "esxpath_audit_status 0\n")
    assert promfile.last_success(str(path)) is None  # not read (a FIFO would block here)
    problem = promfile.publish(str(path), "esxpath_audit_status 0\n")
    assert problem and "could not remove the old file either" in problem
    assert identity(path) == before
    assert not list(tmp_path.glob(".esxpath-*"))  # no temporary file left behind


@pytest.mark.parametrize("kind", ["absent", "regular", "symlink-to-regular", "dangling-symlink"])
def test_absent_or_regular_targets_are_written(tmp_path, kind):
    path = tmp_path / "target"
    if kind == "regular":
        path.write_text("old\n")
    elif kind == "symlink-to-regular":
        (tmp_path / "real").write_text("old\n")
        path.symlink_to(tmp_path / "real")
    elif kind == "dangling-symlink":
        _dangling(path)
    assert files.output_problem(str(path)) is None
    files.write_atomic(str(path), "new\n", 0o640)
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_target_swapped_for_a_device_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "esxpath.prom"
    real_fsync = os.fsync

    def swap(fd):  # between the first check and the rename, a device node appears
        real_fsync(fd)
        _device(path)
    monkeypatch.setattr(files.os, "fsync", swap)
    with pytest.raises(files.NotRegularFile):
        files.write_atomic(str(path), "x\n")
    assert stat.S_ISCHR(os.lstat(path).st_mode)
    assert not list(tmp_path.glob(".esxpath-*"))


@pytest.mark.parametrize("kind", ["device", "fifo", "directory", "socket", "symlink-to-fifo"])
def test_inputs_that_are_not_regular_files_are_refused_at_once(tmp_path, kind):
    make, words = MAKERS[kind]
    path = tmp_path / "input"
    make(path)
    if kind == "socket":  # open() of a socket file fails by itself (ENXIO): refused as well
        with pytest.raises(OSError):
            files.open_input(str(path))
    else:
        with pytest.raises(files.NotRegularFile, match=words):
            files.open_input(str(path))  # a FIFO without a writer would block a plain open()
    with pytest.raises(ConfigError, match="cannot read password file"):
        read_password_file(str(path))


def test_an_input_regular_file_is_read(tmp_path):
    p = tmp_path / "pw"
    p.write_text("secret\n")
    p.chmod(0o600)
    with files.open_input(str(p)) as f:
        assert f.read() == "secret\n"
    assert read_password_file(str(p)) == "secret"


def test_dev_zero_as_a_prom_file_is_not_read():
    assert promfile.last_success("/dev/zero") is None  # was: read until MemoryError


@pytest.mark.parametrize("where", ["/dev/null/jobs", "/dev/null", "a-file"])
def test_fio_jobs_where_no_directory_can_be_made_are_a_config_error(tmp_path, where):
    if where == "a-file":
        where = str(tmp_path / "a-file")
        open(where, "w").close()
    with pytest.raises(ConfigError, match="cannot write fio jobs to"):
        fio.write_jobs(where)


def test_fio_jobs_are_not_written_over_a_fifo_and_nothing_is_half_written(tmp_path):
    os.mkfifo(tmp_path / "seqread-1m.fio")
    with pytest.raises(ConfigError, match=r"seqread-1m.fio: a FIFO, not a regular file"):
        fio.write_jobs(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["seqread-1m.fio"]  # checked before the first write
    assert stat.S_ISFIFO(os.lstat(tmp_path / "seqread-1m.fio").st_mode)


@pytest.mark.parametrize("url", ["vc:0", "https://vc:0/sdk", "u@vc:0", "[::1]:0", "https://u@vc:0"])
def test_port_0_is_a_usage_error_not_443(url):
    with pytest.raises(UsageError, match="port"):
        split_userinfo(url)
    with pytest.raises(UsageError, match="port"):
        parse_url(url.split("@")[-1])


def test_a_given_port_is_kept():
    assert parse_url("vc").port == 443 and parse_url("vc:8443").port == 8443
    assert split_userinfo("u@vc:8443").endpoint.port == 8443
