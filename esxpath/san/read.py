"""The edge of esxpath.san: reads the sysfs tree, scst.conf and crm_mon's XML from disk (or runs
crm_mon), turning every failure into one InputError line naming the file."""
from __future__ import annotations

import os
import shutil
import subprocess

from ..app.files import open_input
from ..errors import InputError


class FsTree:
    """sysfs.Tree on a directory: /sys/kernel/scst_tgt, or a copy of one."""

    def __init__(self, root: str):
        self.root = root
        if not os.path.isdir(root):
            raise InputError(f"{root}: no such directory (the SCST sysfs tree; is scst loaded?)")

    def where(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def entries(self, rel: str) -> dict[str, str] | None:
        path = self.where(rel)
        try:
            with os.scandir(path) as it:
                return {e.name: "link" if e.is_symlink() else "dir" if e.is_dir() else "file"
                        for e in it}
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None

    def first_line(self, rel: str) -> str | None:
        path = self.where(rel)
        try:
            with open(path, "rb") as f:
                data = f.readline(4096)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None
        try:
            return data.decode().rstrip("\n")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not text") from None

    def link_name(self, rel: str) -> str | None:
        try:
            return os.path.basename(os.readlink(self.where(rel)).rstrip("/"))
        except OSError:
            return None


def read_text(path: str, what: str) -> str:
    """A whole text file; `what` says what it should be, for the message."""
    try:
        with open_input(path, binary=True) as f:  # a FIFO or device: refused, not read
            data = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read {what}: {e.strerror}") from None
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InputError(f"{path}: {what} is not UTF-8 text") from None


def run_crm_mon(timeout: float = 30) -> str | None:
    """crm_mon --output-as=xml's output; None when Pacemaker is not installed. A crm_mon that
    cannot reach the cluster still prints a result document (status code 102), parsed as is."""
    exe = shutil.which("crm_mon")
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, "--output-as=xml"], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InputError(f"{exe} --output-as=xml: {e}") from None
    if not proc.stdout.strip():
        raise InputError(f"{exe} --output-as=xml printed nothing (exit {proc.returncode}): "
                         f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
    return proc.stdout


def local_node_name() -> str:
    """Pacemaker's name for this node (crm_node -n), else the host name (uname -n)."""
    exe = shutil.which("crm_node")
    if exe:
        try:
            proc = subprocess.run([exe, "-n"], capture_output=True, text=True, timeout=30,
                                  stdin=subprocess.DEVNULL)
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return os.uname().nodename
