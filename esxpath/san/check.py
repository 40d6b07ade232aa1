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
Gate only (check before a failover, for the group that takes over):
  san-peer-unknown    UNKNOWN no dump owns the takeover group: the peer cannot be verified
  san-peer-stopped    DANGER  the peer is stopped
  san-peer-target     DANGER  a target of the peer in the takeover group is not enabled
  san-peer-lun        DANGER  the peer does not export an in-scope LUN on a takeover target
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InputError
from ..model import Device, Finding, Host, Inventory, Selector, Severity, TpgState
from ..verify import group_ids, scope_names

SCHEMA = "esxpath/san-dump/1"
DRIFT, DANGER, UNKNOWN, NOTE = Severity.DRIFT, Severity.DANGER, Severity.UNKNOWN, Severity.OK

# SCST ALUA state -> the TPG_state ESXi shows for it (offline: also any dead path)
ESXI_STATE = {"active": TpgState.AO, "nonoptimized": TpgState.ANO, "standby": TpgState.STANDBY,
              "unavailable": TpgState.UNAVAILABLE, "offline": TpgState.OFFLINE,
              "transitioning": TpgState.TRANSITIONING}
ROLES = ("promoted", "unpromoted", "stopped", "unknown")


class SanDumpError(InputError):
    """A --san input that is not a readable SAN dump (exit 78; audit: 3)."""


# ---------------------------------------------------------------- the dump, typed

@dataclass(frozen=True)
class GroupTarget:
    name: str  # normalised: lower case; a bare 16-digit WWPN gets its colons
    rel_tgt_id: int | None
    local: bool
    enabled: bool | None


@dataclass(frozen=True)
class TargetGroup:
    name: str
    group_id: int
    state: str
    targets: tuple[GroupTarget, ...]


@dataclass(frozen=True)
class DeviceGroup:
    name: str
    devices: tuple[str, ...]
    target_groups: tuple[TargetGroup, ...]


@dataclass(frozen=True)
class SanDevice:
    name: str
    esxi_id: str | None
    t10_dev_id: str | None
    generated: bool  # t10_dev_id generated from name and setup_id (no eui64_id/naa_id)
    vendor: str


@dataclass(frozen=True)
class OwnTarget:
    driver: str
    name: str
    enabled: bool | None
    rel_tgt_id: int | None
    luns: tuple[tuple[int, str], ...]  # (lun, device name)


@dataclass(frozen=True)
class SanNode:
    origin: str  # the file or command the dump came from, for messages
    node: str
    setup_id: int | None
    role: str  # promoted | unpromoted | stopped | unknown
    devices: tuple[SanDevice, ...]
    device_groups: tuple[DeviceGroup, ...]
    targets: tuple[OwnTarget, ...]

    def device(self, esxi_id: str) -> SanDevice | None:
        return next((d for d in self.devices if d.esxi_id == esxi_id), None)

    def group_of(self, device: str) -> DeviceGroup | None:
        return next((g for g in self.device_groups if device in g.devices), None)

    def own_target(self, name: str) -> OwnTarget | None:
        return next((t for t in self.targets if t.name == name), None)

    def owns(self, tg: TargetGroup) -> bool:
        """The group's targets live on this node (sysfs: the node's own targets/)."""
        mine = {t.name for t in self.targets}
        return any(t.local or t.name in mine for t in tg.targets)


_WWPN_RE = re.compile(r"^[0-9a-f]{16}$")


def target_key(name: str) -> str:
    """SCST and ESXi spellings of one target compared: lower case, colon-separated WWPN."""
    n = name.strip().lower()
    if _WWPN_RE.match(n):
        return ":".join(n[i:i + 2] for i in range(0, 16, 2))
    return n


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
                GroupTarget(target_key(_need(t, "name", str, f"{at2}targets[{k}].", origin)),
                            _need(t, "rel_tgt_id", int, f"{at2}targets[{k}].", origin, True),
                            bool(_need(t, "local", bool, f"{at2}targets[{k}].", origin, True)),
                            _need(t, "enabled", bool, f"{at2}targets[{k}].", origin, True))
                for k, t in enumerate(_need(tg, "targets", list, at2, origin)))
            tgs.append(TargetGroup(_need(tg, "name", str, at2, origin),
                                   _need(tg, "group_id", int, at2, origin),
                                   (_need(tg, "state", str, at2, origin, True) or "").lower(),
                                   members))
        names = _need(g, "devices", list, at, origin)
        groups.append(DeviceGroup(_need(g, "name", str, at, origin),
                                  tuple(str(n) for n in names), tuple(tgs)))
    targets = []
    for i, t in enumerate(_need(doc, "targets", list, "", origin)):
        at = f"targets[{i}]."
        luns = tuple((_need(m, "lun", int, f"{at}luns[{k}].", origin),
                      _need(m, "device", str, f"{at}luns[{k}].", origin))
                     for k, m in enumerate(_need(t, "luns", list, at, origin)))
        targets.append(OwnTarget(_need(t, "driver", str, at, origin),
                                 target_key(_need(t, "name", str, at, origin)),
                                 _need(t, "enabled", bool, at, origin, True),
                                 _need(t, "rel_tgt_id", int, at, origin, True), luns))
    return SanNode(origin=origin, node=node,
                   setup_id=_need(doc, "setup_id", int, "", origin, nullable=True),
                   role=role, devices=tuple(devices), device_groups=tuple(groups),
                   targets=tuple(targets))


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
    group: DeviceGroup | None

    def target_group(self, group_id: int) -> TargetGroup | None:
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


def _path_target(p) -> str | None:
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
    bad: dict[int, list[str]] = {}
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
            bad.setdefault(p.tpg_id, []).append(f"{p.runtime_name or p.name} RTP_id {p.rtp_id}")
    out = []
    for g, paths in sorted(bad.items()):
        tg = s.target_group(g)
        assert tg is not None
        rel_text = ", ".join(f"{t.name}={t.rel_tgt_id}" for t in tg.targets) or "no target"
        out.append(Finding(DRIFT, "san-rtp-unknown", host.name, dev.canonical_name,
                           f"{host.name} {dev.canonical_name}: {'; '.join(paths)}: no target of"
                           f" target group {tg.name} (TPG {g}, {_dg(s)}) on {s.node.node} has"
                           f" that rel_tgt_id ({rel_text})"))
    return out


def _owners(tg: TargetGroup, nodes: tuple[SanNode, ...]) -> tuple[str, ...]:
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


def findings(nodes: tuple[SanNode, ...], inventory: Inventory,
             selector: Selector) -> list[Finding]:
    """Every SAN finding for audit and `san check` (severities as in the module docstring)."""
    readable = _readable(inventory)
    names = scope_names(inventory, selector)
    out = _identity(nodes, inventory, selector, names)
    for name in names:
        sides = _sides(nodes, name)
        out += _agreement(name, sides, nodes)
        for h in readable:
            dev = h.device(name)
            if dev is not None and dev.managed and selector.matches(dev):
                out += _groups(h, dev, sides)
    out += _master(nodes, readable, names)
    return out


def _peer(name: str, target: int, nodes: tuple[SanNode, ...]) -> list[Finding]:
    """Before a failover to TPG `target`: its owner is stopped? its targets in the group
    enabled? each of them exporting the LUN?"""
    owners = [s for s in _sides(nodes, name) if target in s.own_ids()]
    if not owners:
        # the peer may not produce the id at all (setup_id): find it by the group alone
        owners_by_group = [n.node for n in nodes for g in n.device_groups for tg in g.target_groups
                           if tg.group_id == target and n.owns(tg)]
        if owners_by_group:
            return [Finding(DANGER, "san-peer-lun", None, name,
                            f"{', '.join(sorted(set(owners_by_group)))} {name}: the peer that"
                            f" owns takeover TPG {target} has no SCST device with this id:"
                            " NOT ready to take over")]
        dumped = ", ".join(n.node for n in nodes) or "none"
        return [Finding(UNKNOWN, "san-peer-unknown", None, name,
                        f"{name}: no --san dump owns takeover TPG {target} (dumped: {dumped}):"
                        " the peer's readiness cannot be verified; give its dump")]
    out: list[Finding] = []
    for s in owners:
        n = s.node.node
        if s.node.role == "stopped":
            out.append(Finding(DANGER, "san-peer-stopped", None, name,
                               f"{n} {name}: the peer owning takeover TPG {target} is stopped"
                               " (Pacemaker): NOT ready to take over"))
        tg = s.target_group(target)
        assert tg is not None
        for t in tg.targets:
            own = s.node.own_target(t.name)
            if not (t.local or own is not None):
                continue
            enabled = t.enabled if t.enabled is not None else (own.enabled if own else None)
            if enabled is not True:
                word = "disabled" if enabled is False else "not known to be enabled"
                out.append(Finding(DANGER, "san-peer-target", None, name,
                                   f"{n} {name}: target {t.name} of takeover group {tg.name}"
                                   f" (TPG {target}) is {word}: its paths will not carry I/O"))
            if own is None or s.device.name not in {dev for _, dev in own.luns}:
                why = "is not one of its targets" if own is None else \
                    f"does not export {s.device.name} as a LUN"
                out.append(Finding(DANGER, "san-peer-lun", None, name,
                                   f"{n} {name}: target {t.name} of takeover group {tg.name}"
                                   f" (TPG {target}) {why}: NOT ready to take over"))
    return out


def gate_findings(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
    """The SAN's part of the pre-failover gate: the audit findings (DRIFT ones as notes: they
    do not make a failover hurt) and the peer's readiness for each device's takeover group."""
    out = [Finding(NOTE, f.code, f.host, f.device, f.message) if f.severity == DRIFT else f
           for f in findings(nodes, inventory, selector)]
    for name, target in sorted(targets.items()):
        if target is not None:
            out += _peer(name, target, nodes)
    return out


__all__ = ["SCHEMA", "SanDumpError", "SanNode", "parse_dump", "san_view", "findings",
           "gate_findings", "target_key", "ESXI_STATE"]
