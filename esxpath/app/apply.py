"""apply without click: read, plan, write, re-read, verify (or, dry, the plan only).

The CLI passes its signal guard and a line printer, renders the Report and
then raises Applied.error: the report of what was written comes out before the exit says why
the run ended early."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..core.model import Policy, Report
from ..errors import EsxpathError, Interrupted
from .ports import Notify, Runtime, Where, quiet, require_devices


class _Stop(threading.Event):
    signum: int | None = None


# given the session's stopping event, a guard yields the event that stops new writes; its
# signum is set when a signal set it (the CLI's stop_on_signal)
Guard = Callable[[threading.Event], AbstractContextManager[Any]]


@contextlib.contextmanager
def no_signals(_stopping: threading.Event) -> Iterator[_Stop]:
    """The guard of a caller without signal handling: nothing stops the writes early."""
    yield _Stop()


@dataclass(frozen=True)
class Applied:
    """What apply did (report) and, when it ended early, the error to leave with after the
    report is out: Interrupted (a signal: 130/143), or vCenter lost on the re-read (69)."""

    report: Report
    error: EsxpathError | None = None


def apply(rt: Runtime, conn: Any, where: Where, policy: Policy, dry_run: bool = False,
          wait_lock: float = 0.0, guard: Guard = no_signals, notify: Notify = quiet) -> Applied:
    """Plan from a fresh read; unless dry or nothing to do, write the changes (hosts
    `where.parallel` at once), re-read and verify. notify: the "applying N change(s)" line.
    A dry run takes no lock; the others wait up to `wait_lock` s for this machine's write lock
    of the vCenter (BusyError, exit 75, when another esxpath holds it)."""
    if dry_run:
        return _apply(rt, conn, where, policy, dry_run, guard, notify)
    # read, plan, write and verify under the lock (taken once logged in: it is keyed on the
    # vCenter's identity): a second writer plans after the first wrote
    with rt.write_lock(conn, wait_lock):
        return _apply(rt, conn, where, policy, dry_run, guard, notify)


def _apply(rt: Runtime, conn: Any, where: Where, policy: Policy, dry_run: bool, guard: Guard,
           notify: Notify) -> Applied:
    from ..core.plan import plan as make_plan
    from ..core.verify import skipped_hosts
    inv = rt.read(conn, where, satp_rules=policy.claim_rule)
    require_devices(inv, where.selector)
    the_plan = make_plan(inv, where.selector, policy)
    if dry_run or the_plan.empty:
        return Applied(Report(command="apply", inventory=inv, selector=where.selector,
                              plan=the_plan, dry_run=dry_run,
                              findings=skipped_hosts(inv, the_plan)))
    notify(f"esxpath: applying {len(the_plan.changes)} change(s)")
    from ..vsphere import apply_changes
    session = rt.session(conn)
    # the re-read too: a signal then ends no retry storm, and the report still comes out
    with guard(session.stopping) as stop:
        results = apply_changes(session, inv, the_plan.changes, parallel=where.parallel,
                                stop=stop)
        report, lost = _verify(rt, conn, where, policy, inv, the_plan, results)
    if stop.signum is not None:  # the signal decides the exit, whatever failed after it
        left = sum(1 for r in report.results if not r.sent)
        return Applied(report, Interrupted(f"interrupted: {left} change(s) not written",
                                           stop.signum))
    if lost is not None:  # vCenter went away: 69, after the report of what was written
        lost.reported = True
    # a failed change is DRIFT; a host that could not be read (before or after) is UNKNOWN
    return Applied(report, lost)


def _verify(rt: Runtime, conn: Any, where: Where, policy: Policy, before, the_plan,
            results) -> tuple[Report, EsxpathError | None]:
    """Re-read (even when interrupted: the report says what was and was not written) and
    verify; when the re-read fails (vCenter gone) the report shows the hosts as read before,
    each marked not re-read, and every change's result."""
    from ..core.verify import not_reread, settle, skipped_hosts, verify_applied
    lost = None
    try:
        after = rt.read(conn, where, satp_rules=policy.claim_rule)
    except EsxpathError as e:
        lost, after = e, not_reread(before, str(e))
    results = settle(tuple(results), after)
    findings = skipped_hosts(before, the_plan) + verify_applied(after, the_plan, results)
    return Report(command="apply", inventory=after, selector=where.selector, plan=the_plan,
                  results=results, findings=findings), lost
