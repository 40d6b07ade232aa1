"""After the move: the gate's promise checked on the other side (gate.py states the rule, both
halves). Pure: no I/O; the CLI reads the baseline file and the storage events.

The baseline is the `esxpath check -o json` document printed before the move: per host and
in-scope device its `ao_tpg` and `ao_paths` (live paths that report AO), docs/json.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InputError
from .gate import REDUNDANCY_WAIVER, stale_views
from .model import Device, Expectation, Finding, Host, Inventory, Selector, Severity, TpgState
from .verify import (
    empty_scope,
    finish,
    group_ids,
    groups_in_state,
    holders,
    missing,
    scope_names,
    unverifiable,
)

if TYPE_CHECKING:
    from .storage_events import StorageWindow

DANGER, UNKNOWN = Severity.DANGER, Severity.UNKNOWN
REPORT_SCHEMA = "esxpath/report/1"
_NOT_SWITCHED = {"not-nmp", "still-ao", "not-ao-yet"}  # the host's own view is not "moved"


class BaselineError(InputError):
    """--baseline is unreadable or not a check document (exit 78)."""


@dataclass(frozen=True)
class Before:
    """One host/device as the baseline saw it."""

    ao_tpg: int | None  # the one AO group then (None: none or several)
    ao_paths: int  # its live AO paths then


@dataclass(frozen=True)
class Baseline:
    origin: str  # the file, for messages
    # (vcenter profile or "", host, device) -> Before; only hosts that were read completely
    devices: Mapping[tuple[str, str, str], Before] = field(default_factory=dict)

    def get(self, host: Host, device: str) -> Before | None:
        return self.devices.get((host.vcenter, host.name, device))


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_baseline(doc: object, origin: str) -> Baseline:
    """The per host/device AO group and live AO paths of a check document; BaselineError (one
    line naming the file) when doc is not one."""
    def bad(why: str) -> BaselineError:
        return BaselineError(f"--baseline {origin}: {why}")
    if not isinstance(doc, dict) or doc.get("schema") != REPORT_SCHEMA:
        raise bad(f"not an esxpath report (want schema {REPORT_SCHEMA}, the output of"
                  " `esxpath check -o json` before the move)")
    if doc.get("command") != "check":
        raise bad(f"a report of `{doc.get('command')}`, not of `esxpath check -o json`")
    hosts = doc.get("hosts")
    if not isinstance(hosts, list):
        raise bad("no hosts list")
    out: dict[tuple[str, str, str], Before] = {}
    for h in hosts:
        if not isinstance(h, dict) or not isinstance(h.get("name"), str) \
                or not isinstance(h.get("devices"), list):
            raise bad("a host without name or devices")
        if h.get("error") is not None or h.get("connection_state") != "connected":
            continue  # not read completely then: nothing to compare with (cannot verify)
        for d in h["devices"]:
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                raise bad(f"host {h['name']}: a device without name")
            ao, n = d.get("ao_tpg"), d.get("ao_paths")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0 \
                    or not (ao is None or _int(ao)):
                raise bad(f"{h['name']} {d['name']}: no ao_tpg/ao_paths (made by an older"
                          " esxpath?)")
            out[(str(h.get("vcenter", "")), h["name"], d["name"])] = Before(ao, n)
    return Baseline(origin, out)


def ao_tpg(dev: Device) -> int | None:
    """The one group the host sees as AO; None when none or several are."""
    ao = groups_in_state(dev, TpgState.AO)
    return ao[0] if len(ao) == 1 else None


def live_ao(dev: Device, tpg: int) -> int:
    return sum(1 for p in dev.paths if p.tpg_id == tpg and p.live_in(TpgState.AO))


def _is_ao(dev: Device, tpg: int) -> bool:
    """AO by the group's state or by any live path of it (one path still AO still carries I/O)."""
    return dev.tpg_state(tpg) == TpgState.AO or live_ao(dev, tpg) > 0


def after_targets(inventory: Inventory, selector: Selector,
                  exp: Expectation) -> dict[str, int | None]:
    """Per in-scope device, the group judged as the new AO group: --to-tpg, or the one group
    other than --from-tpg that the readable hosts see as AO (None: none or several)."""
    out: dict[str, int | None] = {}
    for name in scope_names(inventory, selector):
        if exp.to_tpg is not None:
            out[name] = exp.to_tpg
            continue
        ao = {g for h in inventory.hosts if h.verifiable and (d := h.device(name))
              for g in group_ids(d) if _is_ao(d, g)} - {exp.from_tpg}
        out[name] = ao.pop() if len(ao) == 1 else None
    return out


def after_failover(inventory: Inventory, selector: Selector, expectation: Expectation,
                   baseline: Baseline | None = None,
                   storage: StorageWindow | None = None) -> tuple[Finding, ...]:
    """Post-failover confirmation: COMPLETE when these are empty (gate.py, after the move).
    The group that takes over is expectation.to_tpg; or, with expectation.from_tpg (the AO
    group before the move), the one other group that is AO now. baseline None: redundancy is
    not judged; storage None: APD/PDL are not judged (the caller says so)."""
    exp = expectation
    if exp.to_tpg is None and exp.from_tpg is None:
        raise ValueError("after_failover needs to_tpg or from_tpg")
    findings: list[Finding] = [unverifiable(h) for h in inventory.hosts if not h.verifiable]
    readable = [h for h in inventory.hosts if h.verifiable]
    names = scope_names(inventory, selector)
    if not inventory.hosts or not names:
        findings.append(empty_scope(inventory))
    for name in names:
        switched = []
        for host in readable:
            dev = host.device(name)
            if dev is None or not selector.matches(dev):
                findings.append(missing(host, name, holders(readable, selector, name)))
                continue
            own = _after_device(host, dev, exp, baseline)
            findings += own
            if not {f.code for f in own} & _NOT_SWITCHED:
                switched.append(host)
        # views compared among the hosts that switched: a host that moved first is not
        # "stale" because the others lag (those are named by not-ao-yet / still-ao)
        groups = {g for h in switched if (d := h.device(name)) for g in group_ids(d)}
        findings += stale_views(switched, name, groups)
    if storage is not None:
        findings += storage_findings(storage, readable, names)
    return finish(findings)


def _after_device(host: Host, dev: Device, exp: Expectation,
                  baseline: Baseline | None) -> list[Finding]:
    name = dev.canonical_name
    where = f"{host.name}{' (maintenance mode)' * host.maintenance} {name}"

    def finding(severity: Severity, code: str, text: str) -> Finding:
        return Finding(severity, code, host.name, name, f"{where}: {text}")
    if not dev.managed:
        return [finding(UNKNOWN, "not-nmp", f"claimed by {dev.mpp}, not NMP: esxpath cannot"
                                            " read its ALUA state")]
    out = []
    if not dev.lun_ok:
        out.append(finding(DANGER, "lun-state",
                           f"LUN operational state is {','.join(dev.operational_state)}"))
    ao = [g for g in group_ids(dev) if _is_ao(dev, g)]
    if exp.to_tpg is not None:
        target: int | None = exp.to_tpg
    else:
        others = [g for g in ao if g != exp.from_tpg]
        target = others[0] if len(others) == 1 else None
    for g in ao:
        if g != target:
            out.append(finding(DANGER, "still-ao", f"TPG {g} is still AO"
                               + (f" beside TPG {target}" if target in ao else "")
                               + ": this host still sends I/O to the old controller"))
    # the new group must be AO by its own state: one live path that says AO does not make the
    # group AO (it does keep an old group "still AO" above: strict both ways)
    if target is None or dev.tpg_state(target) != TpgState.AO:
        states = ", ".join(f"TPG {g} {dev.tpg_state(g).value}" for g in group_ids(dev))
        wanted = (f"TPG {exp.to_tpg}" if exp.to_tpg is not None
                  else f"a group other than TPG {exp.from_tpg}")
        out.append(finding(DANGER, "not-ao-yet",
                           f"{wanted} is not AO yet ({states or 'no group'})"))
        return out
    return out + _paths(finding, dev, target, exp, baseline.get(host, name) if baseline else None,
                        baseline)


def _paths(finding, dev: Device, target: int, exp: Expectation, before: Before | None,
           baseline: Baseline | None) -> list[Finding]:
    """The new AO group's live AO paths against --min-paths and the baseline."""
    have, need = live_ao(dev, target), max(1, exp.min_paths)
    if have < need:
        return [finding(DANGER, "target-paths",
                        f"TPG {target} has {have} live AO path(s), --min-paths needs {need}")]
    if baseline is None:
        return []
    if before is None:
        return [finding(UNKNOWN, "baseline-missing", f"not in the baseline {baseline.origin}:"
                                                     " its redundancy cannot be compared")]
    if before.ao_tpg == target:
        return [finding(DANGER, "not-moved", f"TPG {target} was already the AO group in the"
                                             f" baseline {baseline.origin}: nothing moved")]
    if have < before.ao_paths and not exp.allow_redundancy_loss:
        return [finding(DANGER, "redundancy",
                        f"TPG {target} has {have} live AO path(s), fewer than the"
                        f" {before.ao_paths} live AO path(s) before the move: the host lost"
                        f" redundancy ({REDUNDANCY_WAIVER} to accept)")]
    return []


def storage_findings(w: StorageWindow, readable: Iterable[Host],
                     names: Iterable[str]) -> list[Finding]:
    """An All-Paths-Down (or lost connectivity) still open at the window's end, or a permanent
    device loss in the window, on an in-scope device of a readable host."""
    from .storage_events import PAUSE_KINDS, PERMANENT_LOSS
    if w.error:
        return [Finding(UNKNOWN, "storage-events-unread", None, None,
                        f"storage events could not be read ({w.error}): an open All-Paths-Down"
                        " cannot be ruled out (--no-events: do not judge it)")]
    scoped = set(names)
    out = []
    for host in readable:
        h = w.host(host.name)
        if h is None:
            continue
        for i in h.intervals:
            if i.open and i.kind in PAUSE_KINDS and i.subject in scoped:
                what = "All-Paths-Down" if i.kind == "apd" else "lost connectivity"
                out.append(Finding(DANGER, "apd-open", host.name, i.subject,
                                   f"{host.name} {i.subject}: {what} since {i.start:%H:%M:%S}"
                                   " is not over"))
        for e in h.events:
            if e.type == PERMANENT_LOSS and e.device in scoped:
                out.append(Finding(DANGER, "pdl", host.name, e.device,
                                   f"{host.name} {e.device}: permanent device loss at"
                                   f" {e.time:%H:%M:%S}"))
    return out


__all__ = ["after_failover", "after_targets", "parse_baseline", "Baseline", "Before",
           "BaselineError", "ao_tpg", "live_ao", "storage_findings"]
