"""One writer per vCenter on this machine: an advisory lock file per vCenter.

Two `esxpath apply` runs at once (cron and an admin, or two admins) would both write every
change, and with different options the estate ends with whichever wrote last. The lock is
keyed on the vCenter's own identity (ServiceContent.about.instanceUuid, known once logged in),
not on how it was spelled: 127.0.0.1:443, localhost and vc.example.com share it. The lock guards
one machine only; that is where esxpath runs in a site (the storage nodes' cron and Pacemaker
wrapper, or one admin host). Runs on other machines are not seen: run esxpath from one place.
The kernel drops the lock when the process dies, even on kill -9.
"""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from ..errors import BusyError


def lock_dir() -> str:
    """ESXPATH_RUNTIME_DIR, else /run/esxpath for root, else $XDG_RUNTIME_DIR, else /tmp."""
    explicit = os.environ.get("ESXPATH_RUNTIME_DIR")
    if explicit:
        return explicit
    if os.geteuid() == 0 and os.path.isdir("/run"):
        return "/run/esxpath"
    return os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()


def lock_path(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", key)
    return os.path.join(lock_dir(), f"esxpath-write-{name}.lock")


@contextmanager
def write_lock(vcenter: str, wait: float = 0.0, identity: str = "",
               poll: float = 0.2) -> Iterator[str]:
    """Hold the lock of the vCenter whose instanceUuid is `identity` (an ESXi host has none:
    then vcenter, its host:port) for the block; wait up to `wait` seconds for it.
    Raises BusyError naming the holder (pid, start time) when it stays taken."""
    path = lock_path(identity.strip().lower() or vcenter)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
                    raise BusyError(f"another esxpath is writing to {vcenter}: {holder}"
                                    f" (lock {path}); --wait-lock SECONDS waits for it") from None
                time.sleep(poll)
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {started}, via {vcenter}\n".encode(), 0)
        yield path
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock
