"""The peer-readiness rule: will the node taking over serve every host's LUN? One rule, two
users: the pre-failover gate (`check --san`) refuses on it; audit and `esxpath san check` report
it (every finding DANGER), so that cron sees now what the next failover would hit. Pure.

The nodes are found by the targets the hosts' paths use (never by group id alone: a node of
another storage pair made from the same template has the same group ids and device ids, but
other targets). Codes, with the gate's severity:
  san-peer-unknown    UNKNOWN a takeover path's target is no dumped node's own target
  san-active-unknown  UNKNOWN an AO path's target is no dumped node's own target (gate only:
                              it is about the active node, not the peer)
  san-peer-stopped    DANGER  the node owning a takeover target is stopped
  san-peer-role       UNKNOWN its Pacemaker role is unknown
  san-peer-target     DANGER  a takeover target is not enabled
  san-peer-lun        DANGER  a takeover target does not export the LUN (or no device has its id)
  san-peer-ini-group  UNKNOWN a takeover target exports the LUN to an initiator group only, or has
                              initiator groups (a host in one sees that group's LUNs, not the
                              default ones): the dump does not say which hosts are in them
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..core.gate import takeover_groups
from ..core.model import Finding, Inventory, Path, Selector, Severity, TpgState
from ..core.verify import groups_in_state
from .ids import target_key

if TYPE_CHECKING:
    from .view import OwnTarget, SanDevice, SanNode

DANGER, UNKNOWN = Severity.DANGER, Severity.UNKNOWN


def path_target(p: Path) -> str | None:
    """The target a host's path leads to (FC WWPN or iSCSI IQN), as the dumps name targets."""
    name = p.target_wwpn or p.target_iqn
    return target_key(name) if name else None


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
    t = path_target(p)
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
    t = path_target(p)
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


def readiness(nodes: tuple[SanNode, ...], inventory: Inventory, selector: Selector,
              targets: dict[str, int | None], *, active: bool = True) -> list[Finding]:
    """The rule, with the gate's severities. For each in-scope host and device: the nodes
    behind its paths of the takeover group (targets: per device, None when it cannot be named)
    and, with `active`, of its AO groups, found by the paths' targets among the dumped nodes'
    own targets."""
    issues: list[tuple[str, _Issue]] = []
    readable = [h for h in inventory.hosts if h.verifiable]
    for name, tpg in sorted(targets.items()):
        if tpg is None:
            continue  # the gate refuses (no-target); audit: no-ano, alua-view
        for h in readable:
            dev = h.device(name)
            if dev is None or not dev.managed or not selector.matches(dev):
                continue  # missing-lun, not-nmp: the gate and audit say these themselves
            ao = set(groups_in_state(dev, TpgState.AO)) - {tpg}
            for p in dev.paths:
                if p.tpg_id == tpg:
                    issues += [(h.name, i) for i in _takeover_path(nodes, name, p, tpg)]
                elif active and p.tpg_id in ao:
                    issues += [(h.name, i) for i in _active_path(nodes, name, p)]
    return _gather(issues)


def audit_readiness(nodes: tuple[SanNode, ...], inventory: Inventory,
                    selector: Selector) -> list[Finding]:
    """For audit and san check: the rule on the group that would take over now (the one group
    the hosts see as ANO and none as AO, as the gate picks it without --to-tpg; a device
    without one is not judged: audit's no-ano and alua-view speak for it). Every finding is
    DANGER: the gate would refuse the failover, whether the peer is not ready or its readiness
    cannot be verified. san-active-unknown (about the active node) stays the gate's."""
    found = readiness(nodes, inventory, selector, takeover_groups(inventory, selector),
                      active=False)
    return [replace(f, severity=DANGER) for f in found]


__all__ = ["readiness", "audit_readiness", "path_target"]
