"""Waiting for vSphere tasks with a deadline and progress: our own WaitForUpdatesEx loop
(pyVim's WaitForTask blocks without a timeout)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pyVmomi import vim, vmodl

from ..errors import EsxpathError
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")

# progress(task name, percent 0..100 or None, state "running"|"success"|"error"|"timeout")
Progress = Callable[[str, "int | None", str], None]


def wait_tasks(session: Session, tasks: dict[str, vim.Task], timeout: float,
               progress: Progress | None = None, max_wait: int = 5,
               stop: threading.Event | None = None) -> dict[str, tuple[str, Any]]:
    """Wait for tasks with WaitForUpdatesEx until all finish, timeout seconds pass or `stop` is
    set (Ctrl-C: what is not finished then counts as timed out, and the caller cancels it).

    Returns name -> ("success", result) | ("error", fault) | ("timeout", None). progress gets
    every change of info.progress and the final state of each task."""
    PC = vmodl.query.PropertyCollector
    by_moid = {t._GetMoId(): name for name, t in tasks.items()}
    done: dict[str, tuple[str, object]] = {}
    last: dict[str, int | None] = {}
    deadline = time.monotonic() + timeout
    collector = None
    version = ""
    state: dict[str, dict] = {name: {} for name in tasks}
    failures = 0
    try:
        while len(done) < len(tasks):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                break
            if stop is not None:
                remaining = min(remaining, 1)  # look at stop every second
            try:
                if collector is None:
                    collector = _open_collector(session, tasks)
                    version = ""
                update = session.call(collector.WaitForUpdatesEx, version=version,
                                      options=PC.WaitOptions(
                                          maxWaitSeconds=max(1, min(max_wait, int(remaining)))),
                                      idempotent=False)
            except (vmodl.fault.ManagedObjectNotFound, EsxpathError) as exc:
                # the collector died with the session (re-login): make a new one
                failures += 1
                if failures > 3:
                    raise
                log.info("task wait: %s; reopening the property collector", fault_message(exc))
                collector = None
                continue
            if update is not None:
                version = update.version
                _take(update, by_moid, state, last, done, progress)
    finally:
        _destroy(session, collector)
    return _timed_out(tasks, done, last, progress)


def _open_collector(session: Session, tasks: dict[str, vim.Task]):
    PC = vmodl.query.PropertyCollector
    pc = session.call(session.content.propertyCollector.CreatePropertyCollector, idempotent=False)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=t) for t in tasks.values()],
        propSet=[PC.PropertySpec(type=vim.Task, pathSet=[
            "info.state", "info.progress", "info.error", "info.result"])])
    session.call(pc.CreateFilter, spec=spec, partialUpdates=False, idempotent=False)
    return pc


def _take(update, by_moid, state, last, done, progress) -> None:
    """One WaitForUpdatesEx answer into each task's properties, reported."""
    for fs in update.filterSet or []:
        for oc in fs.objectSet or []:
            name = by_moid.get(oc.obj._GetMoId())
            if name is None:
                continue
            for ch in oc.changeSet or []:
                state[name][ch.name] = ch.val
            _report(name, state[name], last, done, progress)


def _destroy(session: Session, collector) -> None:
    if collector is not None:
        try:
            session.call(collector.DestroyPropertyCollector)
        except Exception as exc:
            log.debug("cleanup: %s", fault_message(exc))


def _timed_out(tasks, done, last, progress) -> dict[str, tuple[str, Any]]:
    """done, with every task not finished as ("timeout", None)."""
    for name in tasks:
        if name not in done:
            done[name] = ("timeout", None)
            if progress:
                progress(name, last.get(name), "timeout")
    return done


def _report(name, st, last, done, progress) -> None:
    s = str(st.get("info.state") or "")
    pct = st.get("info.progress")
    if s == "success":
        pct = 100
    if pct != last.get(name) and progress and s not in ("success", "error"):
        progress(name, pct, "running")
    last[name] = pct
    if s in ("success", "error") and name not in done:
        done[name] = ("success", st.get("info.result")) if s == "success" else ("error", st.get("info.error"))
        if progress:
            progress(name, pct, s)



def cancel_task(session: Session, task) -> None:
    """Cancel a task and wait (30 s at most) until the server says it ended."""
    try:
        session.call(task.CancelTask, idempotent=False)
        wait_tasks(session, {"cancel": task}, 30)
    except Exception as exc:
        log.warning("cancel: %s", fault_message(exc))
