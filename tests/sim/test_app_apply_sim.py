"""Issue 24: apply's plan/write/verify is an app function without click (esxpath/app/apply.py),
called here on the simulator with a plain session: the CLI only adds the lock, the signal guard,
the rendering and the exit."""
from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass

import pytest

from esxpath.app.apply import apply
from esxpath.core.model import Expectation, Policy, Scope, Selector, Severity
from esxpath.errors import ExitStatus, Interrupted, ScopeError

pytestmark = pytest.mark.sim

CHANGES = 20  # the seed lab as found: 2 SCST LUNs x 5 hosts, PSP and IOPS each


@dataclass(frozen=True)
class Where:
    scope: Scope = Scope()
    selector: Selector = Selector()
    parallel: int = 8
    expect: Expectation = Expectation()


class SessionRuntime:
    """The runtime apply needs: a session and the reads made with it (no click context)."""

    def __init__(self, session):
        self._session = session
        self.locks: list[float] = []  # the wait of each write lock taken

    def session(self, conn):
        return self._session

    def write_lock(self, conn, wait):
        self.locks.append(wait)
        return contextlib.nullcontext()

    def read(self, conn, where, **extra):
        from esxpath.vsphere import read_inventory
        return read_inventory(self._session, where.scope, where.selector,
                              parallel=where.parallel, **extra)


def _writes(lab) -> int:
    return len(lab.get("/stats")["writes"])


def test_apply_writes_verifies_and_a_second_run_writes_nothing(lab, session):
    rt, said = SessionRuntime(session), []
    done = apply(rt, None, Where(), Policy(), wait_lock=7, notify=said.append)
    assert rt.locks == [7] and done.error is None and done.report.status == Severity.OK
    assert len(done.report.results) == CHANGES and all(r.ok for r in done.report.results)
    assert said == [f"esxpath: applying {CHANGES} change(s)"] and _writes(lab) == CHANGES
    again = apply(rt, None, Where(), Policy(), notify=said.append)
    assert again.report.plan.empty and again.report.results == () and again.error is None
    assert len(said) == 1 and _writes(lab) == CHANGES


def test_a_dry_run_plans_and_writes_nothing(lab, session):
    rt = SessionRuntime(session)
    done = apply(rt, None, Where(), Policy(), dry_run=True)
    assert done.report.dry_run and len(done.report.plan.changes) == CHANGES
    assert done.error is None and _writes(lab) == 0 and rt.locks == []  # nor a lock


def test_a_stop_before_the_first_write_sends_nothing_and_ends_as_the_signal_says(lab, session):
    class Stopped(threading.Event):
        signum = signal.SIGTERM

    @contextlib.contextmanager
    def stopped_guard(stopping):
        stop = Stopped()
        stop.set()
        stopping.set()  # as stop_on_signal does: the session stops retrying
        yield stop

    done = apply(SessionRuntime(session), None, Where(), Policy(), guard=stopped_guard)
    assert isinstance(done.error, Interrupted) and done.error.status == ExitStatus.TERMINATED
    assert str(done.error) == f"interrupted: {CHANGES} change(s) not written"
    assert not any(r.sent for r in done.report.results) and _writes(lab) == 0


def test_a_scope_without_devices_is_refused_before_any_plan(lab, session):
    where = Where(selector=Selector(device_globs=("naa.nothing*",)))
    with pytest.raises(ScopeError, match="no device in scope matches naa.nothing"):
        apply(SessionRuntime(session), None, where, Policy())
    assert _writes(lab) == 0
