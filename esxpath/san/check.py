"""The SAN's own view (the `esxpath san dump` documents of the storage nodes) checked against
every host's view from vCenter. Pure: no I/O, no pyVmomi, no click.

Groups are matched across nodes and with ESXi by group_id and by the node whose own targets sit
in the group ("owner"), never by group name (resource agents name groups relative to the node:
"local"/"remote") and never by assuming the ids are 1 and 2. Devices are matched by the id ESXi
shows (esxi_id), never by SCST device name (names may differ per node).

Codes (docs/san.md has an example of each). Severity is what audit reports; the gate (check)
refuses on DANGER and UNKNOWN and turns DRIFT into notes:
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
Gate only (check before a failover). The nodes are found by the targets the hosts' paths use
(never by group id alone: a node of another storage pair made from the same template has the
same group ids and device ids, but other targets):
  san-peer-unknown    UNKNOWN a takeover path's target is no dumped node's own target
  san-active-unknown  UNKNOWN an AO path's target is no dumped node's own target
  san-peer-stopped    DANGER  the node owning a takeover target is stopped
  san-peer-role       UNKNOWN its Pacemaker role is unknown
  san-peer-target     DANGER  a takeover target is not enabled
  san-peer-lun        DANGER  a takeover target does not export the LUN (or no device has its id)
  san-peer-ini-group  UNKNOWN a takeover target exports the LUN to an initiator group only, or has
                              initiator groups (a host in one sees that group's LUNs, not the
                              default ones): the dump does not say which hosts are in them
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..errors import InputError
from ..model import Device, Finding, Host, Inventory, Path, Selector, Severity, TpgState
from ..verify import group_ids, groups_in_state, scope_names
from .dump import SCHEMA
from .ids import target_key
DRIFT, DANGER, UNKNOWN, NOTE = Severity.DRIFT, Severity.DANGER, Severity.UNKNOWN, Severity.OK

# SCST ALUA state -> the TPG_state ESXi shows for it (offline: also any dead path)
ESXI_STATE = {"active": TpgState.AO, "nonoptimized": TpgState.ANO, "standby": TpgState.STANDBY,
              "unavailable": TpgState.UNAVAILABLE, "offline": TpgState.OFFLINE,
              "transitioning": TpgState.TRANSITIONING}
ROLES = ("promoted", "unpromoted", "stopped", "unknown")  # a dump's `role` values
DEFAULT_MAX_AGE = 600.0  # --san-max-age: seconds a dump may be old (or ahead of this clock)


class SanDumpError(InputError):
    """A --san input that is not a readable SAN dump (exit 78; audit: 3)."""


# ---------------------------------------------------------------- the dump, typed

# San* classes: a dump as read back (state.py's classes are what a node's SCST holds)

@dataclass(frozen=True)
class SanGroupTarget:
    name: str  # target_key(): lower case; a bare 16-digit WWPN gets its colons
    rel_tgt_id: int | None
    local: bool
    enabled: bool | None


@dataclass(frozen=True)
class SanTargetGroup:
    name: str
    group_id: int
    state: str
    targets: tuple[SanGroupTarget, ...]


@dataclass(frozen=True)
class SanDeviceGroup:
    name: str
    devices: tuple[str, ...]
    target_groups: tuple[SanTargetGroup, ...]


@dataclass(frozen=True)
class SanDevice:
    name: str
    esxi_id: str | None
    t10_dev_id: str | None
    generated: bool  # t10_dev_id generated from name and setup_id (no eui64_id/naa_id)
    vendor: str


@dataclass(frozen=True)
class SanLun:
    lun: int
    device: str
    ini_group: str | None  # None: the default group (initiators in no initiator group)


@dataclass(frozen=True)
class OwnTarget:
    driver: str
    name: str
    enabled: bool | None
    rel_tgt_id: int | None
    luns: tuple[SanLun, ...]


@dataclass(frozen=True)
class SanNode:
    origin: str  # the file or command the dump came from, for messages
    node: str
    setup_id: int | None
    role: str  # promoted | unpromoted | stopped | unknown
    devices: tuple[SanDevice, ...]
    device_groups: tuple[SanDeviceGroup, ...]
    targets: tuple[OwnTarget, ...]
    source: str | None = None  # sysfs:DIR (live) or scst.conf:FILE (saved configuration)
    taken_at: str | None = None  # UTC, ISO 8601

    def device(self, esxi_id: str) -> SanDevice | None:
        return next((d for d in self.devices if d.esxi_id == esxi_id), None)

    def group_of(self, device: str) -> SanDeviceGroup | None:
        return next((g for g in self.device_groups if device in g.devices), None)

    def own_target(self, name: str) -> OwnTarget | None:
        return next((t for t in self.targets if t.name == name), None)

    def owns(self, tg: SanTargetGroup) -> bool:
        """The group's targets live on this node (sysfs: the node's own targets/)."""
        mine = {t.name for t in self.targets}
        return any(t.local or t.name in mine for t in tg.targets)


@dataclass(frozen=True)
class SanDumps:
    """What the gate judges the SAN by: the nodes' dumps, this machine's clock when they were
    read (UTC, aware) and how old a dump may be."""

    nodes: tuple[SanNode, ...]
    now: datetime
    max_age: float = DEFAULT_MAX_AGE


def _need(obj: object, key: str, kind: type | tuple[type, ...], where: str, origin: str,
          nullable: bool = False):
    if not isinstance(obj, dict) or key not in obj:
        raise SanDumpError(f"{origin}: not a complete SAN dump: {where} has no {key!r}")
    value = obj[key]
    if value is None and nullable:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, (int,))):
        raise SanDumpError(f"{origin}: not a valid SAN dump: {where}{key} is"
                           f" {type(value).__name__}, not {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"dict": "an object", "list": "a list", "str": "a string",
                        "int": "a number", "bool": "true/false"}.get(k.__name__, k.__name__)
                       for k in kinds)


def parse_dump(doc: object, origin: str) -> SanNode:
    """One dump document (already JSON-decoded) -> SanNode; SanDumpError names origin and the
    first thing that is wrong."""
    if not isinstance(doc, dict):
        raise SanDumpError(f"{origin}: not a SAN dump: a JSON {type(doc).__name__}, not an object")
    schema = doc.get("schema")
    if schema != SCHEMA:
        raise SanDumpError(f"{origin}: not a SAN dump: schema is {schema!r}, want {SCHEMA!r}"
                           " (made by `esxpath san dump`)")
    node = _need(doc, "node", str, "", origin)
    role = _need(doc, "role", str, "", origin, nullable=True) or "unknown"
    if role not in ROLES:
        raise SanDumpError(f"{origin}: not a valid SAN dump: role {role!r} is none of"
                           f" {', '.join(ROLES)}")
    devices = []
    for i, d in enumerate(_need(doc, "devices", list, "", origin)):
        at = f"devices[{i}]."
        devices.append(SanDevice(
            name=_need(d, "name", str, at, origin),
            esxi_id=(_need(d, "esxi_id", str, at, origin, nullable=True) or "").lower() or None,
            t10_dev_id=_need(d, "t10_dev_id", str, at, origin, nullable=True),
            generated=bool(_need(d, "t10_dev_id_generated", bool, at, origin, nullable=True))
            and not d.get("eui64_id") and not d.get("naa_id"),
            vendor=(_need(d, "t10_vend_id", str, at, origin, nullable=True) or "").strip()))
    groups = []
    for i, g in enumerate(_need(doc, "device_groups", list, "", origin)):
        at = f"device_groups[{i}]."
        tgs = []
        for j, tg in enumerate(_need(g, "target_groups", list, at, origin)):
            at2 = f"{at}target_groups[{j}]."
            members = tuple(
                SanGroupTarget(target_key(_need(t, "name", str, f"{at2}targets[{k}].", origin)),
                            _need(t, "rel_tgt_id", int, f"{at2}targets[{k}].", origin, True),
                            bool(_need(t, "local", bool, f"{at2}targets[{k}].", origin, True)),
                            _need(t, "enabled", bool, f"{at2}targets[{k}].", origin, True))
                for k, t in enumerate(_need(tg, "targets", list, at2, origin)))
            tgs.append(SanTargetGroup(_need(tg, "name", str, at2, origin),
                                   _need(tg, "group_id", int, at2, origin),
                                   (_need(tg, "state", str, at2, origin, True) or "").lower(),
                                   members))
        names = _need(g, "devices", list, at, origin)
        groups.append(SanDeviceGroup(_need(g, "name", str, at, origin),
                                  tuple(str(n) for n in names), tuple(tgs)))
    targets = []
    for i, t in enumerate(_need(doc, "targets", list, "", origin)):
        at = f"targets[{i}]."
        luns = tuple(SanLun(_need(m, "lun", int, f"{at}luns[{k}].", origin),
                            _need(m, "device", str, f"{at}luns[{k}].", origin),
                            _need(m, "ini_group", str, f"{at}luns[{k}].", origin, True))
                     for k, m in enumerate(_need(t, "luns", list, at, origin)))
        targets.append(OwnTarget(_need(t, "driver", str, at, origin),
                                 target_key(_need(t, "name", str, at, origin)),
                                 _need(t, "enabled", bool, at, origin, True),
                                 _need(t, "rel_tgt_id", int, at, origin, True), luns))
    return SanNode(origin=origin, node=node,
                   setup_id=_need(doc, "setup_id", int, "", origin, nullable=True),
                   role=role, devices=tuple(devices), device_groups=tuple(groups),
                   targets=tuple(targets),
                   source=_need(doc, "source", str, "", origin, nullable=True),
                   taken_at=_need(doc, "taken_at", str, "", origin, nullable=True))


def san_view(docs: Iterable[tuple[object, str]]) -> tuple[SanNode, ...]:
    """(document, origin) pairs -> the nodes; two dumps of one node are refused."""
    nodes: list[SanNode] = []
    for doc, origin in docs:
        n = parse_dump(doc, origin)
        twin = next((m for m in nodes if m.node == n.node), None)
        if twin is not None:
            raise SanDumpError(f"{origin}: node {n.node} is dumped twice (also {twin.origin})")
        nodes.append(n)
    return tuple(nodes)


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


def _path_target(p: Path) -> str | None:
    name = p.target_wwpn or p.target_iqn
    return target_key(name) if name else None


def _expected_nodes(nodes: tuple[SanNode, ...], devs: list[Device]) -> list[SanNode]:
    """The nodes the hosts reach the device through (their own targets are on its paths);
    all of them when no path names a target one of them owns."""
    reached = {t for d in devs for p in d.paths if (t := _path_target(p))}
    out = [n for n in nodes if reached & {t.name for t in n.targets}]
    return out or list(nodes)


# ---------------------------------------------------------------- findings

def _identity(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
              names: list[str]) -> list[Finding]:
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
                out.append(Finding(DRIFT, "san-device-unseen", None, d.esxi_id,
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
            out.append(Finding(DRIFT, "san-setup-id", None, None,
                               f"nodes have different setup_id ({text}); every id is set"
                               " explicitly, so the LUN ids agree, but a new device would not"))
    return out


def _in_scope(d: SanDevice, selector: Selector) -> bool:
    return (any(fnmatch.fnmatchcase(d.esxi_id or "", g) for g in selector.device_globs)
            and d.vendor in selector.vendors)


def _groups(host: Host, dev: Device, sides: list[_Side]) -> list[Finding]:
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
        out += _rtp(host, dev, s)
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


def _rtp(host: Host, dev: Device, s: _Side) -> list[Finding]:
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
        out.append(Finding(DRIFT, "san-rtp-unknown", host.name, dev.canonical_name,
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


def _taken_at(text: str | None) -> datetime | None:
    try:
        t = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None  # no zone: its age cannot be told


def freshness(nodes: tuple[SanNode, ...], now: datetime, max_age: float,
              severity: Severity) -> list[Finding]:
    """Dumps that may not show the SAN as it is now: made from scst.conf (a saved config, not
    SCST's live state), or taken more than max_age seconds before `now` (or after it: a
    clock is wrong). The gate refuses them (UNKNOWN); audit and san check note them."""
    out = []
    for n in nodes:
        if not (n.source or "").startswith("sysfs:"):
            out.append(Finding(severity, "san-dump-saved-config", None, None,
                               f"{n.node}: its dump ({n.origin}) was made from"
                               f" {n.source or 'an unknown source'}, not from SCST's live state"
                               " (sysfs): what the node exports now is not known"))
        taken = _taken_at(n.taken_at)
        if taken is None:
            out.append(Finding(severity, "san-dump-stale", None, None,
                               f"{n.node}: its dump ({n.origin}) has no valid taken_at"
                               f" ({n.taken_at!r}): its age cannot be told"))
            continue
        age = (now - taken).total_seconds()
        if age > max_age:
            out.append(Finding(severity, "san-dump-stale", None, None,
                               f"{n.node}: its dump ({n.origin}) was taken at {n.taken_at},"
                               f" {age:.0f}s ago (--san-max-age {max_age:g}): the SAN may have"
                               " changed since"))
        elif age < -max_age:
            out.append(Finding(severity, "san-dump-stale", None, None,
                               f"{n.node}: its dump ({n.origin}) was taken at {n.taken_at},"
                               f" {-age:.0f}s ahead of this machine's clock (--san-max-age"
                               f" {max_age:g}): one of the clocks is wrong"))
    return out


def findings(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
             now: datetime | None = None, max_age: float = DEFAULT_MAX_AGE) -> list[Finding]:
    """Every SAN finding for audit and `san check` (severities as in the module docstring);
    with `now` (this machine's clock, UTC), stale and saved-config dumps as notes."""
    readable = _readable(inventory)
    names = scope_names(inventory, selector)
    out = _twins(nodes) + _identity(nodes, inventory, selector, names)
    for name in names:
        sides = _sides(nodes, name)
        out += _agreement(name, sides, nodes)
        for h in readable:
            dev = h.device(name)
            if dev is not None and dev.managed and selector.matches(dev):
                out += _groups(h, dev, sides)
    out += _master(nodes, readable, names)
    if now is not None:
        out += freshness(nodes, now, max_age, NOTE)
    return out


# ---------------------------------------------------------------- the gate: nodes by targets

# one problem seen by a host: (severity, code, device, text); _gather names the hosts
_Issue = tuple[Severity, str, str, str]


def _dumped(nodes: tuple[SanNode, ...]) -> str:
    return ", ".join(n.node for n in nodes) or "none"


def _where(n: SanNode, target: str, tpg: int, device: str | None) -> str:
    """"storage2's target T of takeover group local (TPG 2)": the group name as the node's
    device group of the device calls the group holding T (names are relative to the node)."""
    dg = n.group_of(device) if device else None
    name = next((tg.name for tg in dg.target_groups if any(t.name == target for t in tg.targets)),
                None) if dg else None
    group = f"takeover group {name} (TPG {tpg})" if name else f"takeover TPG {tpg}"
    return f"{n.node}'s target {target} of {group}"


def _export(n: SanNode, target: OwnTarget, device: SanDevice,
            tpg: int) -> tuple[Severity, str, str] | None:
    """Does `target` of node n show `device` to every host? Only the default group (ini_group
    null) counts, and only on a target without initiator groups: SCST shows an initiator in a
    group that group's LUNs instead of the default ones, and the dump does not say which
    initiators are in a group."""
    where = _where(n, target.name, tpg, device.name)
    default = any(m.device == device.name and m.ini_group is None for m in target.luns)
    only = sorted({m.ini_group for m in target.luns if m.device == device.name and m.ini_group})
    groups = sorted({m.ini_group for m in target.luns if m.ini_group})
    if default and not groups:
        return None
    if not default and only:
        return (UNKNOWN, "san-peer-ini-group",
                f"{where} exports {device.name} to initiator group {', '.join(only)} only:"
                " cannot prove the host is in it")
    if default:
        return (UNKNOWN, "san-peer-ini-group",
                f"{where} has initiator group(s) {', '.join(groups)}: an initiator in one sees"
                f" that group's LUNs instead of the default ones (which hold {device.name});"
                " cannot prove the host is in none of them")
    return (DANGER, "san-peer-lun",
            f"{where} does not export {device.name} as a LUN: NOT ready to take over")


def _takeover_path(nodes: tuple[SanNode, ...], name: str, p: Path, tpg: int) -> list[_Issue]:
    """One path of the group taking over: the node that owns its target (the node the host
    will really use), that node's role, the target enabled and exporting the LUN."""
    t = _path_target(p)
    if t is None:
        return [(UNKNOWN, "san-peer-unknown", name,
                 f"path {p.runtime_name or p.name} of takeover TPG {tpg} names no target"
                 " (WWPN/IQN): the node behind it cannot be found")]
    owners = [n for n in nodes if n.own_target(t) is not None]
    if not owners:
        return [(UNKNOWN, "san-peer-unknown", name,
                 f"takeover TPG {tpg} path target {t} is no own target of a dumped node"
                 f" (dumped: {_dumped(nodes)}): the peer's readiness cannot be verified; give"
                 " the dump of the node that owns it")]
    out: list[_Issue] = []
    for n in owners:  # two owners: san-dump-twin refuses too
        own = n.own_target(t)
        if own is None:
            continue
        device = n.device(name)
        if n.role == "stopped":
            out.append((DANGER, "san-peer-stopped", name,
                        f"{n.node}, which owns the targets of takeover TPG {tpg}, is stopped"
                        " (Pacemaker): NOT ready to take over"))
        elif n.role not in ("promoted", "unpromoted"):
            out.append((UNKNOWN, "san-peer-role", name,
                        f"{n.node}, which owns the targets of takeover TPG {tpg}, has Pacemaker"
                        f" role {n.role} (no Pacemaker or promotable clone in its dump): its"
                        " readiness cannot be verified"))
        if own.enabled is not True:
            word = "disabled" if own.enabled is False else "not known to be enabled"
            out.append((DANGER, "san-peer-target", name,
                        f"{_where(n, t, tpg, device.name if device else None)} is {word}: its"
                        " paths will not carry I/O"))
        if device is None:
            out.append((DANGER, "san-peer-lun", name,
                        f"{n.node} owns takeover TPG {tpg}'s target {t} but has no SCST device"
                        f" with this id (setup_id {n.setup_id}): NOT ready to take over"))
        elif (issue := _export(n, own, device, tpg)) is not None:
            out.append((issue[0], issue[1], name, issue[2]))
    return out


def _active_path(nodes: tuple[SanNode, ...], name: str, p: Path) -> list[_Issue]:
    """A path of the AO group: its node must be dumped too, or split brain and two active
    groups cannot be checked."""
    t = _path_target(p)
    if t is not None and any(n.own_target(t) is not None for n in nodes):
        return []
    what = f"path target {t}" if t else f"path {p.runtime_name or p.name} (no target name)"
    return [(UNKNOWN, "san-active-unknown", name,
             f"AO TPG {p.tpg_id} {what} is no own target of a dumped node (dumped:"
             f" {_dumped(nodes)}): without the active node's dump, split brain and two active"
             " groups cannot be checked; give it")]


def _gather(issues: list[tuple[str, _Issue]]) -> list[Finding]:
    """(host, issue) pairs -> one finding per issue, naming every host that has it."""
    hosts: dict[_Issue, list[str]] = {}
    for host, issue in issues:
        seen = hosts.setdefault(issue, [])
        if host not in seen:
            seen.append(host)
    return [Finding(sev, code, hs[0] if len(hs) == 1 else None, name,
                    f"{', '.join(hs)} {name}: {text}")
            for (sev, code, name, text), hs in hosts.items()]


def _nodes_in_use(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
    """For each in-scope host and device: the nodes behind its takeover paths and AO paths,
    found by the paths' targets among the dumped nodes' own targets."""
    issues: list[tuple[str, _Issue]] = []
    for name, tpg in sorted(targets.items()):
        if tpg is None:
            continue  # the gate refuses: no takeover group
        for h in _readable(inventory):
            dev = h.device(name)
            if dev is None or not dev.managed or not selector.matches(dev):
                continue  # the gate refuses these itself
            ao = set(groups_in_state(dev, TpgState.AO)) - {tpg}
            for p in dev.paths:
                if p.tpg_id == tpg:
                    issues += [(h.name, i) for i in _takeover_path(nodes, name, p, tpg)]
                elif p.tpg_id in ao:
                    issues += [(h.name, i) for i in _active_path(nodes, name, p)]
    return _gather(issues)


def gate_findings(san: SanDumps, inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
    """The SAN's part of the pre-failover gate: the audit findings (DRIFT ones as notes: they
    do not make a failover hurt), stale or saved-config dumps (UNKNOWN), and for each device the
    nodes behind the hosts' takeover and AO paths (by the paths' targets)."""
    out = [Finding(NOTE, f.code, f.host, f.device, f.message) if f.severity == DRIFT else f
           for f in findings(san.nodes, inventory, selector)]
    out += freshness(san.nodes, san.now, san.max_age, UNKNOWN)
    out += _nodes_in_use(san.nodes, inventory, selector, targets)
    return out


__all__ = ["SCHEMA", "SanDumpError", "SanDumps", "SanNode", "parse_dump", "san_view", "findings",
           "gate_findings", "freshness", "target_key", "ESXI_STATE", "DEFAULT_MAX_AGE"]
