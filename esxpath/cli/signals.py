"""Signals: SIGTERM as Ctrl-C everywhere, and the write phase's stop event.

Outside a write phase, Ctrl-C raises KeyboardInterrupt in the main thread and SIGTERM
raises Terminated (a KeyboardInterrupt): the command leaves through its one exit path, prints
its error document (-o json: a report is always printed) and exits 130 / 143. In a write
phase the first signal only sets an event: no new write starts, the ones in flight end.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

import click

from ..errors import Terminated


def _terminate(_signum, _frame):
    raise Terminated()


def terminate_as_interrupt() -> None:
    """From now on SIGTERM raises Terminated in the main thread (systemd stop, kill)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


class _Stop(threading.Event):
    signum: int | None = None


@contextlib.contextmanager
def stop_on_signal(*also: threading.Event):
    """For a write phase: the first SIGINT/SIGTERM sets the event (no new write starts, the
    ones in flight end, bounded by --timeout) and `also` (e.g. the session's stopping: no
    retries); a second one ends the process at once."""
    stop = _Stop()

    def handler(signum, _frame):
        if stop.is_set():
            os._exit(128 + signum)
        stop.signum = signum
        stop.set()
        for event in also:
            event.set()
        click.echo("esxpath: stopping: no new write starts; the ones in flight end"
                   " (again to quit at once)", err=True)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
