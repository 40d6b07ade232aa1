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


class _HostWriter:
    """One host's writes: its HostStorageSystem and esxcli executer are looked up once, on the
    first write that needs them."""

    def __init__(self, session: Session, host: Host):
        self.session = session
        self.host = host
        self.esxcli = Esxcli(session, host.moid, host.name)
        self._storage = None

    def storage_system(self):
        if self._storage is None:
            hs = vim.HostSystem(self.host.moid, self.session.stub)
            self._storage = self.session.call(lambda: hs.configManager.storageSystem)
        return self._storage


def _set_psp(w: _HostWriter, change: Change) -> None:
    device = w.host.device(change.device or "")
    if device is None or not device.uuid:
        raise EsxpathError(f"device {change.device} is not on {w.host.name}")
    psp = dict(change.params).get("psp") or change.after
    policy = vim.host.MultipathInfo.LogicalUnitPolicy(policy=psp)
    w.session.call(w.storage_system().SetMultipathLunPolicy, lunId=device.uuid, policy=policy)


def _set_rr_limit(w: _HostWriter, change: Change) -> None:
    if w.host.device(change.device or "") is None:
        raise EsxpathError(f"device {change.device} is not on {w.host.name}")
    options: dict = dict(change.params)
    if "iops" in options:
        options["iops"] = int(options["iops"])
    w.esxcli.run("storage nmp psp roundrobin deviceconfig set", device=change.device, **options)


def _add_satp_rule(w: _HostWriter, change: Change) -> None:
    w.esxcli.run("storage nmp satp rule add", **dict(change.params))


_WRITERS = {CHANGE_PSP: _set_psp, CHANGE_RR_LIMIT: _set_rr_limit, CHANGE_SATP_RULE: _add_satp_rule}


def _apply_one(w: _HostWriter | None, change: Change) -> ChangeResult:
    try:
        if w is None:
            raise EsxpathError(f"host {change.host} is not in the inventory")
        if w.host.connection_state != "connected":
            raise EsxpathError(f"host is {w.host.connection_state}")
        writer = _WRITERS.get(change.kind)
        if writer is None:
            raise EsxpathError(f"unknown change kind {change.kind!r}")
        writer(w, change)
        return ChangeResult(change, ok=True)
    except Exception as exc:  # one change's failure is reported, never fatal to the others
        message = fault_message(exc).removeprefix(f"{change.host}: ")
        log.warning("%s %s %s: %s", change.host, change.device or "", change.kind, message)
        return ChangeResult(change, ok=False, error=message)


def _apply_host(session: Session, host: Host | None, changes: list[tuple[int, Change]]
                ) -> list[tuple[int, ChangeResult]]:
    # In plan order: a device's PSP before its RR limit (the limit needs RR in place).
    w = _HostWriter(session, host) if host is not None else None
    return [(i, _apply_one(w, c)) for i, c in changes]


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
