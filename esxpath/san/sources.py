"""Where `san check` and `--san` get the storage nodes' dumps: files (`-` for stdin) and
commands the admin writes (`--san-cmd`, e.g. an ssh line; esxpath never builds one itself).

Reads files and runs commands; the checking itself is pure (check.py).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from ..app.files import open_input
from ..errors import EsxpathError, ExitStatus
from .view import SanDumpError, SanNode, san_view

# the vCenter password never reaches a --san-cmd (GOVC_URL may carry it too)
_SECRET_VARS = ("ESXPATH_PASSWORD", "VSPHERE_PASSWORD", "GOVC_PASSWORD", "GOVC_URL")


_REAP_TIMEOUT = 5  # seconds to collect a killed --san-cmd


class SanCommandFailed(EsxpathError):
    """A --san-cmd that failed or timed out: the SAN could not be read (exit 3)."""

    status = ExitStatus.UNKNOWN


def _decode(data: bytes, origin: str) -> object:
    if not data.strip():
        raise SanDumpError(f"{origin}: empty: no SAN dump in it")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SanDumpError(f"{origin}: not a SAN dump: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        cut = "" if data.rstrip().endswith((b"}", b"]")) else " (truncated?)"
        raise SanDumpError(f"{origin}: not a SAN dump: invalid JSON{cut}: {e.msg} (line"
                           f" {e.lineno}, column {e.colno})") from None


def read_file(path: str) -> object:
    if path == "-":
        return _decode(sys.stdin.buffer.read(), "--san - (stdin)")
    try:
        with open_input(path, binary=True) as fh:  # a FIFO or device: refused, not read
            data = fh.read()
    except OSError as e:
        raise SanDumpError(f"{path}: cannot read the SAN dump: {e.strerror or e}") from None
    return _decode(data, path)


def run_command(cmd: str, timeout: float) -> tuple[object, str]:
    """Run cmd through the shell; its standard output is the dump. Killed (with everything it
    started) after timeout seconds."""
    origin = f"--san-cmd {cmd!r}"
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_VARS}
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
    except OSError as e:
        raise SanCommandFailed(f"{origin}: cannot run: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: ssh & co go too
        except ProcessLookupError:
            pass  # the group ended meanwhile
        try:  # a grandchild that left the group may still hold the pipes: do not wait on it
            proc.communicate(timeout=_REAP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=_REAP_TIMEOUT)
        raise SanCommandFailed(f"{origin}: no answer within {timeout:g}s (killed)") from None
    if proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        why = f": {lines[-1].strip()}" if lines else ""
        raise SanCommandFailed(f"{origin}: exit {proc.returncode}{why}")
    return _decode(out, origin), origin


Docs = list[tuple[object, str]]  # (decoded document, origin)


def read_files(files: tuple[str, ...]) -> Docs:
    """Every --san file (- for stdin), read once: a command that retries (check --wait) keeps
    these and runs only the --san-cmd commands again."""
    if list(files).count("-") > 1:
        raise SanDumpError("--san -: stdin can be read once only")
    return [(read_file(f), "--san - (stdin)" if f == "-" else f) for f in files]


def read_dumps(files: tuple[str, ...], cmds: tuple[str, ...], timeout: float,
               file_docs: Docs | None = None) -> tuple[SanNode, ...]:
    """Every --san file (or file_docs, read_files' answer kept from before) and --san-cmd
    output (run now) as checked nodes, in the order given."""
    docs = read_files(files) if file_docs is None else list(file_docs)
    docs += [run_command(c, timeout) for c in cmds]
    return san_view(docs)


__all__ = ["read_dumps", "read_files", "read_file", "run_command", "SanCommandFailed"]
