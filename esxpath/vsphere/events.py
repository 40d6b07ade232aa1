"""Reading the ESXi storage events vCenter recorded in a window, bounded: one
EventHistoryCollector filtered by time range, entity and event type ids, read forward with
ReadNextEvents in pages, destroyed after. Never QueryEvents, which answers every matching event
of the whole history at once.

The filter's entity is the narrowest that holds the hosts in scope (_entity), so a cluster's
read does not page through the events of the rest of the vCenter.

Round trips: CreateCollectorForEvents, ceil((n + 1) / PAGE_SIZE) ReadNextEvents for n events in
the window (a short page ends the read), DestroyCollector. The window's ends come from the
server's clock (ServiceInstance.CurrentTime): events carry vCenter's time, not ours.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pyVmomi import vim

from ..core.model import Host
from ..core.storage_events import (
    STORAGE_EVENT_TYPES,
    StorageEvent,
    StorageWindow,
    build_window,
    event_from_arguments,
)
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


def _entity(session: Session, hosts: list[Host]):
    """The narrowest entity that holds every host in scope (a filter takes one entity): one
    host itself; hosts all in one cluster, the cluster (recursion "all": a compute resource's
    hosts); all in one datacenter, the datacenter; only hosts of several datacenters need the
    root folder. Events of hosts outside the scope that it still holds are dropped on reading."""
    ev = vim.event.EventFilterSpec
    moids = {h.moid for h in hosts if h.moid}
    placed = [h for h in hosts if h.moid]
    if len(moids) == 1:
        return ev.ByEntity(entity=vim.HostSystem(moids.pop(), session.stub), recursion="self")
    clusters = {h.cluster_moid for h in placed}
    if len(clusters) == 1 and "" not in clusters:
        return ev.ByEntity(entity=vim.ClusterComputeResource(clusters.pop(), session.stub),
                           recursion="all")
    datacenters = {h.datacenter_moid for h in placed}
    if len(datacenters) == 1 and "" not in datacenters:
        return ev.ByEntity(entity=vim.Datacenter(datacenters.pop(), session.stub), recursion="all")
    return ev.ByEntity(entity=session.content.rootFolder, recursion="all")


def _filter(session: Session, hosts: list[Host], start: datetime, end: datetime):
    ev = vim.event.EventFilterSpec
    return ev(time=ev.ByTime(beginTime=start, endTime=end), entity=_entity(session, hosts),
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
