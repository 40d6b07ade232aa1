"""What the use cases (apply, check, watch) need from the command's runtime, as a Protocol: the
CLI's per-invocation Runtime and --all-profiles' per-thread one both fit, and a test can hand in
its own. The Connection stays opaque here (the runtime logs in with it); of the Where the use
cases read the selector, the parallelism and the profile's expectations."""
from __future__ import annotations

import time as _time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..core.model import Expectation, Inventory, Scope, Selector
from ..core.storage_events import StorageWindow
from ..errors import ScopeError

# a line for the operator on stderr (the CLI passes click.echo(..., err=True))
Notify = Callable[[str], None]


def quiet(_line: str) -> None:
    """A Notify that says nothing (library callers, tests)."""


class Clock:
    """The clocks and the sleep of the wait and poll loops; a test passes its own."""

    monotonic = staticmethod(_time.monotonic)
    time = staticmethod(_time.time)  # the wall clock: the stamps of watch's samples
    sleep = staticmethod(_time.sleep)


SYSTEM = Clock()  # this machine's


class Where(Protocol):
    """What the scope options select (cli's Where fits)."""

    @property
    def scope(self) -> Scope: ...
    @property
    def selector(self) -> Selector: ...
    @property
    def parallel(self) -> int: ...
    @property
    def expect(self) -> Expectation: ...


class Runtime(Protocol):
    """A lazily opened vSphere session and the reads made with it (app.session.Runtime)."""

    def session(self, conn: Any) -> Any: ...

    def read(self, conn: Any, where: Any, **extra: Any) -> Inventory: ...

    def write_lock(self, conn: Any, wait: float) -> AbstractContextManager[Any]: ...

    def events_start(self, conn: Any, back: float = 0.0) -> Any: ...

    def storage_events(self, conn: Any, inventory: Inventory, start: Any = None,
                       back: float = 0.0) -> StorageWindow: ...


def require_devices(inventory: Inventory, selector: Selector) -> None:
    """A scope that selects no device on hosts read completely is a mistake (exit 78), not a
    compliant estate."""
    if not any(selector.matches(d) for h in inventory.hosts for d in h.devices) and \
            all(h.verifiable for h in inventory.hosts):
        raise ScopeError("no device in scope matches " + ", ".join(selector.device_globs)
                         + " with vendor " + "/".join(selector.vendors))
