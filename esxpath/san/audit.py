"""The SAN audit: the SAN's own view (the `esxpath san dump` documents of the storage nodes)
checked against every host's view from vCenter, for audit and `san check`. Pure: no I/O, no
pyVmomi, no click. The gate's SAN half (check --san) is core/gate_san.py; SanDumps answers it.

Groups are matched across nodes and with ESXi by group_id and by the node whose own targets sit
in the group ("owner"), never by group name (resource agents name groups relative to the node:
"local"/"remote") and never by assuming the ids are 1 and 2. Devices are matched by the id ESXi
shows (esxi_id), never by SCST device name (names may differ per node).

Codes (docs/san.md has an example of each). Severity is what audit reports (the gate's are in
core/gate_san.py):
  san-id-unknown      DANGER  an id ESXi shows that a node's SCST does not produce (setup_id or
                              t10_dev_id differ, the device is missing on that node)
  san-device-unseen   DRIFT   an SCST device (in scope by id and vendor) that no host sees
  san-id-collision    DANGER  two SCST devices of a node give ESXi the same id (first 8
                              characters of t10_dev_id): ESXi would take them for one LUN
  san-setup-id        DANGER  nodes with different setup_id (DRIFT when no id is generated)
  san-tpg-unknown     DANGER  a TPG id ESXi reports that is no group_id of the device's group
  san-rtp-unknown     DRIFT   a path's RTP_id that is no rel_tgt_id of a target of its group
  san-state           DANGER  a node's SCST state of a group is not what a host sees
  san-split-brain     DANGER  the nodes disagree on a group's state
  san-both-active     DANGER  more than one group is active
  san-stopped-active  DANGER  Pacemaker shows a node stopped, its SCST still reports its group
                              active or nonoptimized (initiators hang on paths that look usable)
  san-master          DANGER  the Pacemaker master's group is not AO on a host, no node or two
                              nodes are promoted
  san-dump-twin       UNKNOWN two dumps claim the same own targets (one node dumped twice?)
  san-dump-stale      NOTE    a dump older (or newer) than --san-max-age (gate: UNKNOWN)
  san-dump-saved-config NOTE  a dump made from scst.conf, not the live state (gate: UNKNOWN)
Peer readiness (readiness.py: san-peer-*, the node behind the hosts' takeover paths not ready
to take over): the gate refuses with its severities; audit reports each as DANGER.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime

from ..core.model import Device, Finding, Host, Inventory, Selector, Severity, TpgState
from ..core.verify import group_ids, scope_names
from .readiness import audit_readiness, path_target, readiness
from .view import DEFAULT_MAX_AGE, SanDevice, SanDeviceGroup, SanNode, SanTargetGroup, freshness

DRIFT, DANGER, UNKNOWN, NOTE = Severity.DRIFT, Severity.DANGER, Severity.UNKNOWN, Severity.NOTE

# SCST ALUA state -> the TPG_state ESXi shows for it (offline: also any dead path)
ESXI_STATE = {"active": TpgState.AO, "nonoptimized": TpgState.ANO, "standby": TpgState.STANDBY,
              "unavailable": TpgState.UNAVAILABLE, "offline": TpgState.OFFLINE,
              "transitioning": TpgState.TRANSITIONING}


# ---------------------------------------------------------------- per device: the SAN's groups

@dataclass(frozen=True)
class _Side:
    """One node's view of one ESXi device: its SCST device and device group."""

    node: SanNode
    device: SanDevice
    group: SanDeviceGroup | None

    def target_group(self, group_id: int) -> SanTargetGroup | None:
        if self.group is None:
            return None
        return next((t for t in self.group.target_groups if t.group_id == group_id), None)

    def own_ids(self) -> list[int]:
        if self.group is None:
            return []
        return sorted({t.group_id for t in self.group.target_groups if self.node.owns(t)})


def _sides(nodes: tuple[SanNode, ...], esxi_id: str) -> list[_Side]:
    out = []
    for n in nodes:
        d = n.device(esxi_id)
        if d is not None:
            out.append(_Side(n, d, n.group_of(d.name)))
    return out


def _dg(side: _Side) -> str:
    return f"device group {side.group.name}" if side.group else "no device group"


def _readable(inventory: Inventory) -> list[Host]:
    return [h for h in inventory.hosts if h.verifiable]


def _expected_nodes(nodes: tuple[SanNode, ...], devs: list[Device]) -> list[SanNode]:
    """The nodes the hosts reach the device through (their own targets are on its paths);
    all of them when no path names a target one of them owns."""
    reached = {t for d in devs for p in d.paths if (t := path_target(p))}
    out = [n for n in nodes if reached & {t.name for t in n.targets}]
    return out or list(nodes)


# ---------------------------------------------------------------- findings

def _identity(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
              names: list[str], drift: Severity) -> list[Finding]:
    out: list[Finding] = []
    readable = _readable(inventory)
    for name in names:
        devs = [dev for h in readable if (dev := h.device(name)) is not None]
        seen_on = [h.name for h in readable if h.device(name) is not None]
        for n in _expected_nodes(nodes, devs):
            if n.device(name) is None:
                others = [m.node for m in nodes if m.device(name) is not None]
                also = f" (produced by {', '.join(others)})" if others else \
                    " (no dumped node produces it)"
                out.append(Finding(DANGER, "san-id-unknown", None, name,
                                   f"{n.node} {name}: no SCST device of {n.node} (setup_id"
                                   f" {n.setup_id}) produces this id, which {len(seen_on)}"
                                   f" host(s) see{also}: after a failover to {n.node} the"
                                   " hosts would not find this LUN"))
    seen = {d.canonical_name for h in readable for d in h.devices}
    for n in nodes:
        by_id: dict[str, list[SanDevice]] = {}
        for d in n.devices:
            if d.esxi_id:
                by_id.setdefault(d.esxi_id, []).append(d)
        for esxi_id, same in sorted(by_id.items()):
            if len(same) > 1:
                listed = ", ".join(f"{d.name} (t10_dev_id {d.t10_dev_id})" for d in same)
                out.append(Finding(DANGER, "san-id-collision", None, esxi_id,
                                   f"{n.node} {esxi_id}: devices {listed} give ESXi the same id"
                                   " (it reads only the first 8 characters of t10_dev_id):"
                                   " hosts would take them for one LUN"))
        if not readable:
            continue
        for d in n.devices:
            if d.esxi_id and d.esxi_id not in seen and _in_scope(d, selector):
                group = n.group_of(d.name)
                where = f" in device group {group.name}" if group else ""
                out.append(Finding(drift, "san-device-unseen", None, d.esxi_id,
                                   f"{n.node} {d.esxi_id}: SCST device {d.name}{where} is seen by"
                                   f" no host ({len(readable)} read)"))
    setup_ids = {n.setup_id for n in nodes}
    if len(setup_ids) > 1:
        generated = [n.node for n in nodes if any(d.generated for d in n.devices)]
        text = ", ".join(f"{n.node} {n.setup_id}" for n in nodes)
        if generated:
            out.append(Finding(DANGER, "san-setup-id", None, None,
                               f"nodes have different setup_id ({text}): generated ids"
                               f" (on {', '.join(generated)}) differ between the nodes"))
        else:
            out.append(Finding(drift, "san-setup-id", None, None,
                               f"nodes have different setup_id ({text}); every id is set"
                               " explicitly, so the LUN ids agree, but a new device would not"))
    return out


def _in_scope(d: SanDevice, selector: Selector) -> bool:
    return (any(fnmatch.fnmatchcase(d.esxi_id or "", g) for g in selector.device_globs)
            and d.vendor in selector.vendors)


def _groups(host: Host, dev: Device, sides: list[_Side], drift: Severity) -> list[Finding]:
    """TPG ids, RTP ids and states of one device on one host against each node's SCST."""
    out: list[Finding] = []
    name = dev.canonical_name
    esxi_groups = group_ids(dev)
    for s in sides:
        if s.group is None:
            out.append(Finding(DANGER, "san-tpg-unknown", host.name, name,
                               f"{host.name} {name}: SCST device {s.device.name} on {s.node.node}"
                               " is in no device group, but ESXi reports TPG(s)"
                               f" {', '.join(map(str, esxi_groups)) or 'none'}"))
            continue
        known = sorted(t.group_id for t in s.group.target_groups)
        for g in esxi_groups:
            if g not in known:
                out.append(Finding(DANGER, "san-tpg-unknown", host.name, name,
                                   f"{host.name} {name}: ESXi reports TPG {g}, which is no"
                                   f" group_id of {_dg(s)} on {s.node.node}"
                                   f" ({', '.join(map(str, known)) or 'none'})"))
        out += _rtp(host, dev, s, drift)
        for tg in s.group.target_groups:
            if tg.group_id not in esxi_groups:
                continue
            want = ESXI_STATE.get(tg.state)
            paths = [p for p in dev.paths if p.tpg_id == tg.group_id]
            have = dev.tpg_state(tg.group_id)
            if want is None:
                ok = False
            elif want == TpgState.OFFLINE:  # a stopped node's group: OFFL or dead paths
                ok = have == TpgState.OFFLINE or not any(p.live for p in paths)
            else:
                ok = have == want
            if not ok:
                dead = sum(1 for p in paths if not p.live)
                extra = f", {dead} of {len(paths)} path(s) dead" if dead else ""
                out.append(Finding(DANGER, "san-state", host.name, name,
                                   f"{host.name} {name}: {s.node.node} reports target group"
                                   f" {tg.name} (TPG {tg.group_id}, {_dg(s)}) {tg.state or '?'}"
                                   f" (ESXi {want.value if want else '?'}), the host sees"
                                   f" {have.value}{extra}"))
    return out


def _rtp(host: Host, dev: Device, s: _Side, drift: Severity) -> list[Finding]:
    bad: dict[int, tuple[SanTargetGroup, list[str]]] = {}
    for p in dev.paths:
        if p.tpg_id is None or p.rtp_id is None:
            continue
        tg = s.target_group(p.tpg_id)
        if tg is None:
            continue  # san-tpg-unknown
        rel = {t.rel_tgt_id for t in tg.targets if t.rel_tgt_id is not None}
        rel |= {o.rel_tgt_id for t in tg.targets if t.rel_tgt_id is None
                and (o := s.node.own_target(t.name)) is not None and o.rel_tgt_id is not None}
        if p.rtp_id not in rel:
            bad.setdefault(p.tpg_id, (tg, []))[1].append(
                f"{p.runtime_name or p.name} RTP_id {p.rtp_id}")
    out = []
    for g, (tg, paths) in sorted(bad.items()):
        rel_text = ", ".join(f"{t.name}={t.rel_tgt_id}" for t in tg.targets) or "no target"
        out.append(Finding(drift, "san-rtp-unknown", host.name, dev.canonical_name,
                           f"{host.name} {dev.canonical_name}: {'; '.join(paths)}: no target of"
                           f" target group {tg.name} (TPG {g}, {_dg(s)}) on {s.node.node} has"
                           f" that rel_tgt_id ({rel_text})"))
    return out


def _owners(tg: SanTargetGroup, nodes: tuple[SanNode, ...]) -> tuple[str, ...]:
    """The nodes whose own targets are in the group: what identifies a group across nodes."""
    names = {t.name for t in tg.targets}
    return tuple(sorted(n.node for n in nodes if names & {t.name for t in n.targets}))


def _agreement(name: str, sides: list[_Side], nodes: tuple[SanNode, ...]) -> list[Finding]:
    """The nodes against each other: split brain, two active groups, a stopped node that still
    reports its group usable. A group is the same on two nodes when the same node's targets
    are in it (its group_id, the next key, may differ: san-tpg-unknown says so)."""
    out: list[Finding] = []
    states: dict[tuple, dict[str, tuple[str, int]]] = {}
    for s in sides:
        for tg in s.group.target_groups if s.group else ():
            key = _owners(tg, nodes) or ("TPG", tg.group_id)
            states.setdefault(key, {})[s.node.node] = (tg.state, tg.group_id)

    def label(key: tuple, by_node: dict[str, tuple[str, int]]) -> str:
        ids = ",".join(map(str, sorted({g for _, g in by_node.values()})))
        return f"TPG {ids}" if key[0] == "TPG" else f"TPG {ids} ({'/'.join(key)}'s targets)"

    for key, by_node in sorted(states.items()):
        if len({st for st, _ in by_node.values()}) > 1:
            said = ", ".join(f"{n} says {st}" for n, (st, _) in sorted(by_node.items()))
            out.append(Finding(DANGER, "san-split-brain", None, name,
                               f"{name}: the nodes disagree on {label(key, by_node)}: {said}"
                               " (SCST does not share ALUA state; each node's resource agent"
                               " sets it)"))
    active = {key: sorted(n for n, (st, _) in by_node.items() if st == "active")
              for key, by_node in states.items()}
    active = {key: ns for key, ns in active.items() if ns}
    if len(active) > 1:
        said = "; ".join(f"{label(key, states[key])} by {', '.join(ns)}"
                         for key, ns in sorted(active.items()))
        out.append(Finding(DANGER, "san-both-active", None, name,
                           f"{name}: more than one group is active ({said}): both nodes would"
                           " take writes as the optimized path"))
    for s in sides:
        if s.node.role != "stopped" or s.group is None:
            continue
        for tg in s.group.target_groups:
            if s.node.owns(tg) and tg.state in ("active", "nonoptimized"):
                out.append(Finding(DANGER, "san-stopped-active", None, name,
                                   f"{s.node.node} {name}: Pacemaker shows {s.node.node} stopped,"
                                   f" but its target group {tg.name} (TPG {tg.group_id},"
                                   f" {_dg(s)}) still reports {tg.state}: initiators wait on"
                                   " paths that look usable (set it offline)"))
    return out


def _master(nodes: tuple[SanNode, ...], readable: list[Host], names: list[str]) -> list[Finding]:
    promoted = [n for n in nodes if n.role == "promoted"]
    if len(promoted) > 1:
        return [Finding(DANGER, "san-master", None, None,
                        f"Pacemaker shows {' and '.join(n.node for n in promoted)} promoted:"
                        " more than one master")]
    if not promoted:
        if len(nodes) > 1 and all(n.role in ("unpromoted", "stopped") for n in nodes):
            roles = ", ".join(f"{n.node} {n.role}" for n in nodes)
            return [Finding(DANGER, "san-master", None, None,
                            f"Pacemaker shows no promoted node ({roles}): no master")]
        return []  # roles unknown (no Pacemaker on the dumped nodes): nothing to compare
    m = promoted[0]
    out: list[Finding] = []
    for name in names:
        d = m.device(name)
        if d is None:
            continue  # san-id-unknown says it
        side = _Side(m, d, m.group_of(d.name))
        own = side.own_ids()
        if not own:
            out.append(Finding(DANGER, "san-master", None, name,
                               f"{m.node} {name}: the master {m.node} owns no target group of"
                               f" {_dg(side)} (none holds one of its targets)"))
            continue
        for h in readable:
            dev = h.device(name)
            if dev is None or not dev.managed:
                continue
            for g in own:
                have = dev.tpg_state(g)
                if have != TpgState.AO:
                    ao = [x for x in group_ids(dev) if dev.tpg_state(x) == TpgState.AO]
                    ao_text = f"TPG {', '.join(map(str, ao))}" if ao else "no group"
                    out.append(Finding(DANGER, "san-master", h.name, name,
                                       f"{h.name} {name}: the Pacemaker master {m.node} owns"
                                       f" TPG {g}, which the host sees as {have.value}"
                                       f" ({ao_text} AO)"))
    return out


def _twins(nodes: tuple[SanNode, ...]) -> list[Finding]:
    """Two dumps that claim the same own targets: one node dumped twice under two names (or
    nodes that share target names): the nodes cannot be told apart by their targets."""
    out = []
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            same = sorted({t.name for t in a.targets} & {t.name for t in b.targets})
            if same:
                out.append(Finding(UNKNOWN, "san-dump-twin", None, None,
                                   f"{a.node} ({a.origin}) and {b.node} ({b.origin}) claim the"
                                   f" same own target(s) {', '.join(same)}: one node dumped"
                                   " twice under two names? The nodes cannot be told apart"))
    return out


def consistency(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
                drift: Severity = DRIFT) -> list[Finding]:
    """The dumps against each other and against the hosts' view (severities as audit's; what
    audit calls DRIFT gets `drift`: the gate passes NOTE, a mismatch that moves no I/O)."""
    readable = _readable(inventory)
    names = scope_names(inventory, selector)
    out = _twins(nodes) + _identity(nodes, inventory, selector, names, drift)
    for name in names:
        sides = _sides(nodes, name)
        out += _agreement(name, sides, nodes)
        for h in readable:
            dev = h.device(name)
            if dev is not None and dev.managed and selector.matches(dev):
                out += _groups(h, dev, sides, drift)
    return out + _master(nodes, readable, names)


def findings(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
             now: datetime | None = None, max_age: float = DEFAULT_MAX_AGE) -> list[Finding]:
    """Every SAN finding for audit and `san check` (severities as in the module docstring):
    the consistency findings and the peer's readiness (DANGER: what the next failover would
    hit); with `now` (this machine's clock, UTC), stale and saved-config dumps as notes."""
    out = consistency(nodes, inventory, selector) + audit_readiness(nodes, inventory, selector)
    if now is not None:
        out += freshness(nodes, now, max_age, NOTE)
    return out


@dataclass(frozen=True)
class SanDumps:
    """What the gate judges the SAN by (core/gate_san.SanEvidence): the nodes' dumps, this
    machine's clock when they were read (UTC, aware) and how old a dump may be."""

    nodes: tuple[SanNode, ...]
    now: datetime
    max_age: float = DEFAULT_MAX_AGE

    def consistency(self, inventory: Inventory, selector: Selector,
                    drift: Severity = DRIFT) -> list[Finding]:
        return consistency(self.nodes, inventory, selector, drift)

    def stale(self, severity: Severity) -> list[Finding]:
        return freshness(self.nodes, self.now, self.max_age, severity)

    def readiness(self, inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
        return readiness(self.nodes, inventory, selector, targets)


__all__ = ["SanDumps", "findings", "consistency", "ESXI_STATE"]
