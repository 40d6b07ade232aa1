"""The storage nodes' dumps (`esxpath san dump`, schema esxpath/san-dump/1) read back and typed,
and whether they are fresh: what the SAN audit (audit.py) and the peer-readiness rule
(readiness.py) judge. Pure: no I/O.
(state.py's classes are what a node's SCST holds; these are a dump as read back.)"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..core.model import Finding, Severity
from ..errors import InputError
from .dump import SCHEMA
from .ids import target_key

ROLES = ("promoted", "unpromoted", "stopped", "unknown")  # a dump's `role` values
DEFAULT_MAX_AGE = 600.0  # --san-max-age: seconds a dump may be old (or ahead of this clock)


class SanDumpError(InputError):
    """A --san input that is not a readable SAN dump (exit 78; audit: 3)."""


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


def tpg_nodes(nodes: Iterable[SanNode]) -> dict[int, str]:
    """{tpg: node} from the dumps, for core/tpg_names.py: a group belongs to the node that owns
    its targets (a group claimed by two nodes is left out: the dumps disagree, san check says
    so)."""
    owners: dict[int, set[str]] = {}
    for n in nodes:
        for dg in n.device_groups:
            for tg in dg.target_groups:
                if n.owns(tg):
                    owners.setdefault(tg.group_id, set()).add(n.node)
    return {g: next(iter(o)) for g, o in owners.items() if len(o) == 1}


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


__all__ = ["SCHEMA", "ROLES", "DEFAULT_MAX_AGE", "SanDumpError", "SanNode", "OwnTarget",
           "SanDevice", "SanLun", "SanDeviceGroup", "SanTargetGroup", "SanGroupTarget",
           "parse_dump", "san_view", "freshness", "tpg_nodes"]
