"""apply_changes: carry out a plan's changes, per host in a bounded thread pool.

PSP through the typed API (HostStorageSystem.SetMultipathLunPolicy); the Round Robin limit and
SATP claim rules through esxcli, which is the only way to set them. Every one of these writes
sets a value, so repeating it is harmless: transient faults are retried. A failed change becomes
ChangeResult(ok=False) and never stops the other changes or hosts.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from pyVmomi import vim

from ..errors import EsxpathError
from ..model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    Change,
    ChangeResult,
    Host,
    Inventory,
)
from .esxcli import Esxcli
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")


def _storage_system(session: Session, host: Host):
    """The host's HostStorageSystem: read_inventory leaves it in the session cache; else one
    lookup per host and session."""
    key = ("storage_system", host.moid)
    with session.cache_lock:
        ss = session.cache.get(key)
    if ss is None:
        hs = vim.HostSystem(host.moid, session.stub)
        ss = session.call(lambda: hs.configManager.storageSystem)
        with session.cache_lock:
            session.cache[key] = ss
    return ss


def _set_psp(session: Session, host: Host, change: Change) -> None:
    device = host.device(change.device or "")
    if device is None or not device.uuid:
        raise EsxpathError(f"device {change.device} is not on {host.name}")
    psp = dict(change.params).get("psp") or change.after
    policy = vim.host.MultipathInfo.LogicalUnitPolicy(policy=psp)
    storage = _storage_system(session, host)
    session.call(storage.SetMultipathLunPolicy, lunId=device.uuid, policy=policy)


def _set_rr_limit(session: Session, host: Host, change: Change) -> None:
    if host.device(change.device or "") is None:
        raise EsxpathError(f"device {change.device} is not on {host.name}")
    options = dict(change.params)
    if "iops" in options:
        options["iops"] = int(options["iops"])
    Esxcli(session, host.moid, host.name).run(
        "storage nmp psp roundrobin deviceconfig set", device=change.device, **options)


def _add_satp_rule(session: Session, host: Host, change: Change) -> None:
    Esxcli(session, host.moid, host.name).run("storage nmp satp rule add", **dict(change.params))


_WRITERS = {CHANGE_PSP: _set_psp, CHANGE_RR_LIMIT: _set_rr_limit, CHANGE_SATP_RULE: _add_satp_rule}


def _apply_one(session: Session, host: Host | None, change: Change) -> ChangeResult:
    try:
        if host is None:
            raise EsxpathError(f"host {change.host} is not in the inventory")
        if host.connection_state != "connected":
            raise EsxpathError(f"host is {host.connection_state}")
        writer = _WRITERS.get(change.kind)
        if writer is None:
            raise EsxpathError(f"unknown change kind {change.kind!r}")
        writer(session, host, change)
        return ChangeResult(change, ok=True)
    except Exception as exc:  # one change's failure is reported, never fatal to the others
        message = fault_message(exc).removeprefix(f"{change.host}: ")
        log.warning("%s %s %s: %s", change.host, change.device or "", change.kind, message)
        return ChangeResult(change, ok=False, error=message)


def _apply_host(session: Session, host: Host | None, changes: list[tuple[int, Change]]
                ) -> list[tuple[int, ChangeResult]]:
    # In plan order: a device's PSP before its RR limit (the limit needs RR in place).
    return [(i, _apply_one(session, host, c)) for i, c in changes]


def apply_changes(session: Session, inventory: Inventory, changes, parallel: int = 8
                  ) -> tuple[ChangeResult, ...]:
    """Results in the order of `changes`; hosts run in parallel, each host's changes in order."""
    by_host: dict[str, list[tuple[int, Change]]] = {}
    for i, c in enumerate(changes):
        by_host.setdefault(c.host, []).append((i, c))
    if not by_host:
        return ()
    results: dict[int, ChangeResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(by_host))),
                            thread_name_prefix="esxpath-write") as pool:
        futures = [pool.submit(_apply_host, session, inventory.host(name), cs)
                   for name, cs in by_host.items()]
        for fut in futures:
            results.update(fut.result())
    return tuple(results[i] for i in sorted(results))
