"""Exception types and the one ExitStatus enum; exit_status() is the only place that maps them."""
from __future__ import annotations

from enum import IntEnum

from .core.model import Severity


class ExitStatus(IntEnum):
    OK = 0
    DRIFT = 1  # audit WARNING; apply: some change failed or did not verify
    DANGER = 2  # audit CRITICAL; check: not safe to fail over
    UNKNOWN = 3  # could not verify (host unreachable, esxcli failure); monitoring maps every error here
    USAGE = 64  # bad options or arguments (EX_USAGE)
    NOT_FOUND = 65  # scope matched nothing: unknown datacenter/cluster/host, glob without match
    CONNECTION = 69  # vCenter unreachable, not a vCenter, TLS verification failed (EX_UNAVAILABLE)
    INTERNAL = 70  # a bug: please report with --record (EX_SOFTWARE)
    BUSY = 75  # another esxpath holds this vCenter's write lock (EX_TEMPFAIL): try again later
    AUTH = 77  # wrong credentials or missing privilege (EX_NOPERM)
    CONFIG = 78  # unreadable password file, missing credentials (EX_CONFIG)
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM (systemd stop, kill)


class EsxpathError(Exception):
    """An expected failure: printed as one line, no traceback."""

    status = ExitStatus.INTERNAL
    reported = False  # True: the command printed its report already (no error document after it)


class UsageError(EsxpathError):
    status = ExitStatus.USAGE


class ScopeError(EsxpathError):
    """The scope (datacenter, cluster, host, device glob) matched nothing."""

    status = ExitStatus.NOT_FOUND


class ConfigError(EsxpathError):
    status = ExitStatus.CONFIG


class InputError(ConfigError):
    """An input file (SCST sysfs tree, scst.conf, crm_mon XML, SAN dump) missing, unreadable or
    not what it should be; the message names the file and what is wrong."""


class ConnectionFailed(EsxpathError):
    status = ExitStatus.CONNECTION


class TlsError(ConnectionFailed):
    pass


class VcenterGone(ConnectionFailed):
    """vCenter stopped answering during the run (refused or dropped connections in a row, or a
    timeout that a liveness probe confirmed): no further call is sent."""


class BusyError(EsxpathError):
    """Another esxpath on this machine is writing to the same vCenter."""

    status = ExitStatus.BUSY


class Interrupted(EsxpathError):
    """A run stopped by a signal after it reported what it did: 130 (SIGINT) or 143 (SIGTERM)."""

    reported = True

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.status = ExitStatus.TERMINATED if signum == 15 else ExitStatus.INTERRUPTED


class Terminated(KeyboardInterrupt):
    """SIGTERM outside a write phase, raised in the main thread as Ctrl-C raises
    KeyboardInterrupt: the same way out, with exit 143."""


class AuthError(EsxpathError):
    status = ExitStatus.AUTH


class HostError(EsxpathError):
    """One host failed (disconnected, esxcli fault, timeout); isolated to that host."""

    status = ExitStatus.UNKNOWN

    def __init__(self, host: str, message: str):
        super().__init__(f"{host}: {message}")
        self.host = host


class EsxcliFault(HostError):
    """esxcli answered with a fault (unknown device, bad option)."""


class TaskFailed(EsxpathError):
    status = ExitStatus.DRIFT


def exit_status(error: BaseException | None = None, severity: Severity | None = None,
                monitoring: bool = False) -> ExitStatus:
    """The single mapping from an outcome to a process exit status.

    monitoring=True (audit): Nagios semantics, every failure to verify is UNKNOWN (3).
    """
    if error is not None:
        if isinstance(error, KeyboardInterrupt):
            return ExitStatus.TERMINATED if isinstance(error, Terminated) else ExitStatus.INTERRUPTED
        if monitoring:
            return ExitStatus.UNKNOWN
        if isinstance(error, EsxpathError):
            return error.status
        return ExitStatus.INTERNAL
    if severity is None:
        return ExitStatus.OK
    return {
        Severity.NOTE: ExitStatus.OK,
        Severity.OK: ExitStatus.OK,
        Severity.DRIFT: ExitStatus.DRIFT,
        Severity.DANGER: ExitStatus.DANGER,
        Severity.UNKNOWN: ExitStatus.UNKNOWN,
    }[Severity(severity)]
