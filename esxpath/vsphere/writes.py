"""apply_changes: carry out a plan's changes, per host in a bounded thread pool.

PSP through the typed API (HostStorageSystem.SetMultipathLunPolicy); the Round Robin limit and
SATP claim rules through esxcli, which is the only way to set them. A write is sent once; when
its answer is lost (a timeout, a dropped connection, a host that stopped answering) the device
is read back before the write is sent again: a write that landed is "applied (confirmed)",
never written four times. Each change has one --timeout for its sends and read-backs
together; out of time with an answer lost it is "unknown" (it may have landed). A failed
change becomes ChangeResult(ok=False) and never stops the other changes or hosts; once the
session finds vCenter gone no further write starts.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pyVmomi import vim

from ..core.model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    Change,
    ChangeResult,
    DevicePolicy,
    Host,
    Inventory,
)
from ..core.verify import policy_took
from ..errors import EsxpathError, VcenterGone
from .esxcli import Esxcli
from .parse import parse_rr_device_config
from .session import CONNECTION_ERRORS, RETRY_ATTEMPTS, Session, fault_message, is_transient

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
    storage = w.storage_system()
    w.session.call(storage.SetMultipathLunPolicy, lunId=device.uuid, policy=policy,
                   idempotent=False)


def _set_rr_limit(w: _HostWriter, change: Change) -> None:
    if w.host.device(change.device or "") is None:
        raise EsxpathError(f"device {change.device} is not on {w.host.name}")
    options: dict = dict(change.params)
    if "iops" in options:
        options["iops"] = int(options["iops"])
    w.esxcli.run("storage nmp psp roundrobin deviceconfig set", device=change.device,
                 write=True, **options)


def _add_satp_rule(w: _HostWriter, change: Change) -> None:
    options: dict[str, object] = dict(change.params)
    w.esxcli.run("storage nmp satp rule add", write=True, **options)


# Sent again only after a read-back showed it did not take; a write that landed is confirmed
# instead, so a slow host gets a write once or twice, never once per attempt.
WRITE_ATTEMPTS = RETRY_ATTEMPTS


def _took(w: _HostWriter, change: Change) -> bool:
    """The device as the host has it now (one `nmp device list -d`) against the change."""
    rows = w.esxcli.run("storage nmp device list", device=change.device)
    row = rows[0] if isinstance(rows, list) and rows else {}
    rr = parse_rr_device_config(row.get("PathSelectionPolicyDeviceConfig"))
    current = DevicePolicy(psp=row.get("PathSelectionPolicy"), limit_type=rr.limit_type,
                           iops=rr.iops, use_ano=rr.use_ano)
    return policy_took(current, change)[0]


def _confirm(w: _HostWriter, change: Change, lost: bool, until: float) -> bool | None:
    """Read the device back: True in effect, False not (yet), None could not be read. lost (no
    answer at all: a timeout, a dropped connection): poll until `until`, as the write may still
    be on its way to the host; a fault answer (the server said it failed): look once."""
    seen = None
    while True:
        try:
            if _took(w, change):
                return True
            seen = False
        except VcenterGone:
            return seen
        except Exception as exc:  # the read-back failing is no proof either way
            log.info("%s %s: read-back: %s", change.host, change.device, fault_message(exc))
        if not lost or time.monotonic() >= until or w.session.stopping.is_set():
            return seen
        time.sleep(0.2)


def _write_confirmed(w: _HostWriter, writer, change: Change) -> ChangeResult:
    """Send, and after a lost answer read back, all within one --timeout from the start (the
    send and the read-backs together): half of what is left is spent reading back before the
    write is sent again. No new send after Ctrl-C or once vCenter is gone."""
    session = w.session
    deadline = time.monotonic() + session.opts.timeout
    try:  # the look-ups first: a failure there sent nothing
        w.storage_system() if change.kind == CHANGE_PSP else w.esxcli.executer()
    except VcenterGone as exc:
        return _unfinished(change, exc, False)
    maybe_landed = False  # an attempt's answer was lost: it may land yet, whatever was read
    error: BaseException | None = None
    for _ in range(WRITE_ATTEMPTS):
        try:
            writer(w, change)
            return ChangeResult(change, ok=True)
        except VcenterGone as exc:
            error = exc  # nothing sent by this attempt
            break
        except Exception as exc:
            if not is_transient(exc) or change.kind == CHANGE_SATP_RULE:
                raise  # a refusal (bad argument, unknown device): nothing landed
            error = exc
            if isinstance(exc, ConnectionRefusedError):
                continue  # never reached vCenter: nothing to read back (Session sees it gone)
            lost = isinstance(exc, CONNECTION_ERRORS)
            log.info("%s %s %s: %s; reading back", change.host, change.device or "",
                     change.kind, fault_message(exc))
            now = time.monotonic()
            took = _confirm(w, change, lost, now + max(0.0, deadline - now) / 2)
            if took:
                return ChangeResult(change, ok=True, confirmed=True)
            maybe_landed = maybe_landed or lost
        if time.monotonic() >= deadline or session.stopping.is_set():
            break
    return _unfinished(change, error, maybe_landed)


def _unfinished(change: Change, error: BaseException | None, maybe_landed: bool) -> ChangeResult:
    """A change out of time or attempts: unknown when an answer was lost and never seen in
    effect, not written when no attempt reached vCenter, else failed."""
    why = fault_message(error) if error is not None else "no answer"
    if maybe_landed:
        return ChangeResult(change, ok=False, unknown=True,
                            error=f"unknown: sent, but its answer was lost and no read-back"
                                  f" within --timeout saw it in effect ({why})")
    if isinstance(error, (VcenterGone, ConnectionRefusedError)):
        return ChangeResult(change, ok=False, sent=False, error=f"not written: {why}")
    raise error if error is not None else AssertionError("no attempt made")


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
        return _write_confirmed(w, writer, change)
    except Exception as exc:  # one change's failure is reported, never fatal to the others
        message = fault_message(exc).removeprefix(f"{change.host}: ")
        log.warning("%s %s %s: %s", change.host, change.device or "", change.kind, message)
        return ChangeResult(change, ok=False, error=message)


NOT_WRITTEN = "not written: interrupted"
NOT_WRITTEN_GONE = "not written: vCenter is gone"


def _apply_host(session: Session, host: Host | None, changes: list[tuple[int, Change]],
                stop: threading.Event | None) -> list[tuple[int, ChangeResult]]:
    # In plan order: a device's PSP before its RR limit (the limit needs RR in place).
    w = _HostWriter(session, host) if host is not None else None
    out = []
    for i, c in changes:
        if stop is not None and stop.is_set():  # Ctrl-C: no new write starts
            out.append((i, ChangeResult(c, ok=False, error=NOT_WRITTEN, sent=False)))
        elif session.liveness.gone is not None:  # vCenter is gone: no new write starts
            out.append((i, ChangeResult(c, ok=False, sent=False, error=NOT_WRITTEN_GONE)))
        else:
            out.append((i, _apply_one(w, c)))
    return out


def apply_changes(session: Session, inventory: Inventory, changes, parallel: int = 8,
                  stop: threading.Event | None = None) -> tuple[ChangeResult, ...]:
    """Results in the order of `changes`; hosts run in parallel, each host's changes in order.
    Once `stop` is set, writes in flight end and no other starts (their result: NOT_WRITTEN);
    the same once the session finds vCenter gone (NOT_WRITTEN_GONE)."""
    by_host: dict[str, list[tuple[int, Change]]] = {}
    for i, c in enumerate(changes):
        by_host.setdefault(c.host, []).append((i, c))
    if not by_host:
        return ()
    results: dict[int, ChangeResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(by_host))),
                            thread_name_prefix="esxpath-write") as pool:
        futures = [pool.submit(_apply_host, session, inventory.host(name), cs, stop)
                   for name, cs in by_host.items()]
        for fut in futures:
            results.update(fut.result())
    return tuple(results[i] for i in sorted(results))
