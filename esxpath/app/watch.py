"""watch without click: poll the hosts' path states during a failover into a Timeline, then the
storage events vCenter recorded in the watched window. Ctrl-C or SIGTERM ends the polling, not
the result: the timeline so far comes back with the Interrupted to leave with once shown."""
from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from typing import Any

from ..core.model import Inventory, Severity
from ..core.storage_events import StorageWindow
from ..core.timeline import Timeline, build_timeline, with_storage
from ..errors import Interrupted, Terminated
from .ports import SYSTEM, Clock, Notify, Runtime, Where, quiet

log = logging.getLogger("esxpath")


@dataclass(frozen=True)
class Watched:
    """The timeline, the last inventory read (the timeline's device names and groups), the
    window's storage events (None: not read) and, after a signal, the error to end with."""

    timeline: Timeline
    last: Inventory
    storage: StorageWindow | None = None
    error: Interrupted | None = None

    @property
    def status(self) -> Severity:
        return with_storage(self.timeline, self.storage).status


def watch(rt: Runtime, conn: Any, where: Where, interval: float, duration: float,
          until_switched: bool = False, events: bool = True, notify: Notify = quiet,
          clock: Clock = SYSTEM) -> Watched:
    """Poll every `interval` s for up to `duration` s (until_switched: until every host has
    switched); notify gets the "watching" line after the first read and the interrupt line."""
    samples: list[tuple[float, Inventory]] = []
    stopped: KeyboardInterrupt | None = None
    window_start = rt.events_start(conn) if events else None
    storage = None
    try:
        storage = _poll(rt, conn, where, (interval, duration), until_switched, window_start,
                        samples, notify, clock)
    except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM: the timeline so far
        if not samples:
            raise
        stopped = e
        notify("esxpath: interrupted; the timeline so far:")
    tl = build_timeline(samples, where.selector, until_switched)
    if storage is None and window_start is not None:
        storage = rt.storage_events(conn, samples[-1][1], window_start)
    error = None
    if stopped is not None:
        error = Interrupted("interrupted: the timeline above ends there",
                            signal.SIGTERM if isinstance(stopped, Terminated) else signal.SIGINT)
    return Watched(tl, samples[-1][1], storage, error)


def _poll(rt: Runtime, conn: Any, where: Where, every: tuple[float, float], until_switched: bool,
          window_start, samples: list, notify: Notify, clock: Clock):
    """Sample into `samples` until the duration is up, or with until_switched until every
    host has switched by the samples and by vCenter's events (read only then: an APD still
    open keeps the watch going). Answers that last storage window when it ended the watch."""
    interval, duration = every
    deadline = clock.monotonic() + duration
    while True:
        began = clock.monotonic()
        inv = rt.read(conn, where)
        # stamped when the read finished: the state is at least this old
        samples.append((clock.time(), inv))
        if len(samples) == 1:  # esxpath-failover waits for this line before it moves
            notify(f"esxpath: watching {len(inv.hosts)} host(s) every {interval:g}s"
                   f" for up to {duration:g}s")
        if until_switched:
            tl = build_timeline(samples, where.selector, until_switched)
            if tl.all_switched:
                if window_start is None:
                    return None
                storage = rt.storage_events(conn, inv, window_start)
                if with_storage(tl, storage).all_switched:
                    return storage
                log.info("switched by the paths, but vCenter has an APD open: waiting")
        if clock.monotonic() >= deadline:
            return None
        pause = interval - (clock.monotonic() - began)
        clock.sleep(max(0.0, min(pause, deadline - clock.monotonic())))
