"""The one place that opens a vSphere session: a command's Runtime (lazy login, --record /
--replay cassette, this machine's write lock, the storage-events window), the Runtime of one
profile of --all-profiles, and the exporter's logins all connect through open_session().

No click: the command line hands in its password prompt and where diagnostics go (`say`).
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..core.model import Selector
from ..errors import ConfigError, EsxpathError, Interrupted
from .credentials import complete
from .profiles import Connection, Where

if TYPE_CHECKING:  # the adapter imports pyVmomi: loaded only when a command connects
    from ..vsphere import ConnectOptions, Session

log = logging.getLogger("esxpath")

Prompt = Callable[[str], str]
Say = Callable[[str], None]


def to_stderr(line: str) -> None:
    """The default `say`: one diagnostic line on stderr."""
    print(line, file=sys.stderr, flush=True)


def open_session(opts: ConnectOptions) -> Session:
    """A login: every vSphere session of esxpath starts here."""
    from ..vsphere import connect
    return connect(opts)


def connect_options(conn: Connection, prompt: Prompt | None = None,
                    environ: Mapping[str, str] = os.environ) -> ConnectOptions:
    """The adapter's options for conn: user and password completed (credentials.complete) from
    the options, the URL, `environ` ({}: only the profile) and `prompt` (None: none)."""
    from ..vsphere import ConnectOptions
    target = complete(conn.target, conn.user, conn.password_file, prompt, environ)
    assert target.user is not None and target.password is not None  # or complete() raised
    return ConnectOptions(url=target.endpoint or target.url, user=target.user,
                          password=target.password, ca_file=conn.ca_file, insecure=conn.insecure,
                          timeout=conn.timeout)


def profile_login(conn: Connection) -> Callable[[], Session]:
    """The exporter's login for one target: the password file is read again at every login,
    so a changed password is taken up without a restart. Nothing from the environment: each
    profile names its own vCenter and password file."""
    return lambda: open_session(connect_options(conn, prompt=None, environ={}))


def warn_insecure(conn: Connection, who: str = "", say: Say = to_stderr) -> None:
    """The warning of every run without certificate checks, naming the vCenter and where the
    setting came from (a flag, or the profile). who: e.g. "target NAME: "."""
    if conn.insecure:
        e = conn.target.endpoint if conn.target is not None else None
        server = e.display if e is not None else "the server"
        say(f"esxpath: warning: {who}{conn.insecure_from}: the certificate of {server}"
            " is NOT verified")


def require_devices(inventory, selector: Selector) -> None:
    if not any(selector.matches(d) for h in inventory.hosts for d in h.devices) and \
            all(h.verifiable for h in inventory.hosts):
        from ..errors import ScopeError
        raise ScopeError("no device in scope matches " + ", ".join(selector.device_globs)
                         + " with vendor " + "/".join(selector.vendors))


class Runtime:
    """Per-invocation state: the options of the group and a lazily opened session; close()
    logs out, then leaves the cassette (the command line calls it when the run ends)."""

    def __init__(self, verbose: int, cassette: tuple[str, str] | None = None,
                 prompt: Prompt | None = None, say: Say = to_stderr):
        self.verbose = verbose
        self.cassette = cassette  # (path, "record" | "replay") from --record / --replay
        self.prompt = prompt  # the hidden password prompt (None: no terminal to ask on)
        self.say = say
        self._session: Session | None = None
        # the cassette's context, entered before the login
        self._recording: AbstractContextManager[Any] | None = None

    def session(self, conn: Connection) -> Session:
        if self._session is None:
            if self.cassette and self._recording is None:
                from ..vsphere.recording import recording
                cassette = recording(*self.cassette)
                cassette.__enter__()
                self._recording = cassette
            opts = self._connect_options(conn)
            if opts.insecure:  # a replay connects to nothing
                warn_insecure(conn, say=self.say)
            self._session = open_session(opts)
        return self._session

    def _connect_options(self, conn: Connection) -> ConnectOptions:
        from ..vsphere import ConnectOptions
        if self.cassette is not None and self.cassette[1] == "replay":
            # the cassette answers: no address, user, password or CA needed
            return ConnectOptions(url="https://vcenter.invalid/sdk", user="replay@esxpath.invalid",
                                  password="replay", timeout=conn.timeout)
        return connect_options(conn, self.prompt)

    def write_lock(self, conn: Connection, wait: float):
        """This machine's write lock of the vCenter, for the writing commands (writelock.py),
        keyed on its identity: logs in first. A replay writes nowhere: it takes no lock."""
        from contextlib import nullcontext

        from .writelock import write_lock
        if self.cassette is not None and self.cassette[1] == "replay":
            return nullcontext()
        session = self.session(conn)
        return write_lock(session.endpoint.display, wait, session.content.about.instanceUuid or "")

    def read(self, conn: Connection, where: Where, **extra):
        """The inventory of the hosts and devices in scope (extra: read_inventory's options)."""
        from ..vsphere import read_inventory
        return read_inventory(self.session(conn), where.scope, where.selector,
                              parallel=where.parallel, **extra)

    def events_start(self, conn: Connection, back: float = 0.0):
        """Where an event window starts: vCenter's clock now, less `back` seconds. A failed
        clock read is handed back (the error), for storage_events to report: the events are an
        addition that never costs the main report. An interrupt still stops the command."""
        from datetime import timedelta
        session = self.session(conn)  # a failed login is the command's failure, as before
        try:
            from ..vsphere.events import server_time
            return server_time(session) - timedelta(seconds=back)
        except Interrupted:
            raise
        except EsxpathError as e:  # warned when the window is reported (storage_events)
            log.debug("vCenter's clock: %s", e)
            return e

    def storage_events(self, conn: Connection, inventory, start=None, back: float = 0.0):
        """The ESXi storage events of the inventory's hosts from `start` (events_start's answer;
        None: `back` seconds before the end) until vCenter's clock now (app.audit.storage_window)."""
        from .audit import storage_window
        return storage_window(lambda: self.session(conn), inventory.hosts, start, back)

    def close(self) -> None:
        """Logs out, then leaves the cassette: a recording ends with the logout, and a replay
        checks on the way out that it played everything."""
        try:
            if self._session is not None:
                try:
                    self._session.close()
                finally:
                    self._session = None
        finally:
            cassette, self._recording = self._recording, None
            if cassette is not None:
                cassette.__exit__(None, None, None)


class ProfileRuntime(Runtime):
    """The Runtime of one profile of --all-profiles (a worker thread): no prompt, no cassette,
    nothing from the environment (it would give every vCenter the same)."""

    def __init__(self, say: Say = to_stderr):
        super().__init__(0, say=say)

    def _connect_options(self, conn: Connection) -> ConnectOptions:
        user = conn.user or (conn.target.user if conn.target else None)
        missing = [k for k, v in (("server", conn.target), ("user", user),
                                  ("password_file", conn.password_file)) if not v]
        if missing:
            raise ConfigError(f"the profile has no {', '.join(missing)}")
        return connect_options(conn, prompt=None, environ={})
