"""The files an option names: esxpath reads and writes regular files only.

esxpath runs as root (the audit runner, its systemd unit): an atomic write (temp file + rename)
over `--prom-file /dev/full` would replace the device node with a regular file, and reading a
FIFO or /dev/zero never ends. So every output path must be absent or a regular file (a symlink
is judged by what it points to) and every input is opened non-blocking and checked on the open
descriptor (fstat) before a byte is read. The problems are OSErrors whose strerror says what
the file is, so that each caller's "cannot read/write X: <strerror>" line stays as it was.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from typing import IO

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"))


class NotRegularFile(OSError):
    """A path that is there but is not a regular file (strerror: what it is)."""


def kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO"); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(mode: int, path: str) -> None:
    what = kind(mode)
    if what is not None:
        code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
        raise NotRegularFile(code, f"{what}, not a regular file", path)


def check_output(path: str) -> None:
    """Raise NotRegularFile unless path is absent or (through its symlinks) a regular file;
    an OSError when it cannot be told (e.g. ENOTDIR: a parent is not a directory)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return  # nothing there (or a dangling symlink: the rename replaces the link itself)
    _refuse(st.st_mode, path)


def output_problem(path: str) -> str | None:
    """check_output as text: why path must not be written, None when it may."""
    try:
        check_output(path)
    except OSError as e:
        return e.strerror or str(e)
    return None


def open_input(path: str, binary: bool = False, encoding: str = "utf-8",
               errors: str | None = None) -> IO:
    """path opened for reading; a FIFO, device, directory or socket raises NotRegularFile at
    once (opened O_NONBLOCK, judged by fstat of the open descriptor: no stat-then-open race)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _refuse(os.fstat(fd).st_mode, path)
        if binary:
            return os.fdopen(fd, "rb")
        return os.fdopen(fd, "r", encoding=encoding, errors=errors)
    except BaseException:
        os.close(fd)
        raise


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Write text to path through a temporary file in its directory and a rename, so that no
    reader sees half a file; refused (NotRegularFile) unless path is absent or a regular file,
    checked again just before the rename. OSError on failure; no temporary file is left."""
    check_output(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".esxpath-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        check_output(path)  # it may have been swapped for a device node meanwhile
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_regular(path: str) -> None:
    """Remove path if it is a regular file or a symlink to one (gone already: fine); anything
    else raises NotRegularFile and stays."""
    check_output(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
