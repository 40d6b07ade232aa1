"""Reading the ESXi storage events vCenter recorded in a window, bounded: one
EventHistoryCollector filtered by time range, entity and event type ids, read forward with
ReadNextEvents in pages, destroyed after. Never QueryEvents, which answers every matching event
of the whole history at once.

Round trips: CreateCollectorForEvents, ceil((n + 1) / PAGE_SIZE) ReadNextEvents for n events in
the window (a short page ends the read), DestroyCollector. The window's ends come from the
server's clock (ServiceInstance.CurrentTime): events carry vCenter's time, not ours.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pyVmomi import vim

from ..model import Host
from ..storage_events import STORAGE_EVENT_TYPES, StorageEvent, build_window, event_from_arguments
from ..storage_events import StorageWindow
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")

PAGE_SIZE = 100


def server_time(session: Session) -> datetime:
    """vCenter's clock now (one CurrentTime call)."""
    si = vim.ServiceInstance("ServiceInstance", session.stub)
    try:
        return session.call(si.CurrentTime)
    except Exception as exc:
        raise session.translate(exc) from exc


def _filter(session: Session, hosts: list[Host], start: datetime, end: datetime):
    ev = vim.event.EventFilterSpec
    moids = [h.moid for h in hosts if h.moid]
    if len(moids) == 1:  # one host: the narrowest entity
        entity = ev.ByEntity(entity=vim.HostSystem(moids[0], session.stub), recursion="self")
    else:  # a filter takes one entity: all of them, the hosts are picked from the answer
        entity = ev.ByEntity(entity=session.content.rootFolder, recursion="all")
    return ev(time=ev.ByTime(beginTime=start, endTime=end), entity=entity,
              eventTypeId=list(STORAGE_EVENT_TYPES))


def _storage_event(e, names: dict[str, str]) -> StorageEvent | None:
    ref = getattr(getattr(e, "host", None), "host", None)
    moid = ref._GetMoId() if ref is not None else (getattr(e, "objectId", None) or "")
    name = names.get(moid)
    if name is None:
        return None  # a host outside the scope
    args = {a.key: a.value for a in (getattr(e, "arguments", None) or [])}
    return event_from_arguments(name, e.createdTime, getattr(e, "eventTypeId", "") or "",
                                args, getattr(e, "fullFormattedMessage", "") or "")


def read_storage_events(session: Session, hosts: list[Host], start: datetime,
                        end: datetime) -> StorageWindow:
    """The storage events of `hosts` between start and end (vCenter's clock), as a window."""
    names = {h.moid: h.name for h in hosts if h.moid}
    found: list[StorageEvent] = []
    pages = 0
    manager = session.content.eventManager
    try:
        # a retried create leaves at worst a spare collector, which dies with the session
        collector = session.call(manager.CreateCollectorForEvents, _filter(session, hosts, start, end))
    except Exception as exc:
        raise session.translate(exc) from exc
    try:
        while True:
            # not retried blindly: a lost answer has moved the position already
            page = session.call(collector.ReadNextEvents, PAGE_SIZE, idempotent=False) or []
            pages += 1
            for e in page:
                ev = _storage_event(e, names)
                if ev is not None:
                    found.append(ev)
            if len(page) < PAGE_SIZE:
                break
    except Exception as exc:
        raise session.translate(exc) from exc
    finally:
        try:
            session.call(collector.DestroyCollector)
        except Exception as exc:  # cleanup only; the server drops it with the session
            log.debug("cleanup: %s", fault_message(exc))
    return build_window(found, start, end, hosts=[h.name for h in hosts], pages=pages)
