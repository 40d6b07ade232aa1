"""Findings for audit and apply's re-read, and the helpers the gate (gate.py) shares. Pure.

Anything that cannot be proven -- an unreadable host, a device missing on a host, an empty
scope -- is a finding, never "ok". Message texts name host and device because an admin acts
on them at 3 a.m.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    ChangeResult,
    Device,
    DevicePolicy,
    Expectation,
    Finding,
    Host,
    Inventory,
    Plan,
    Policy,
    Selector,
    Severity,
    TpgState,
)
from .plan import desired_limit_text, limit_compliant, limit_text, rule_equivalent

DRIFT, DANGER, UNKNOWN = Severity.DRIFT, Severity.DANGER, Severity.UNKNOWN


# ---------------------------------------------------------------- shared helpers

def _scoped(host: Host, selector: Selector) -> list[Device]:
    return [d for d in host.devices if selector.matches(d)]


def unverifiable(host: Host) -> Finding:
    why = host.error or f"connection state {host.connection_state}"
    return Finding(UNKNOWN, "host-unverifiable", host.name, None,
                   f"{host.name}: cannot verify: {why}")


def scope_names(inventory: Inventory, selector: Selector) -> list[str]:
    """In-scope device names seen on any verifiable host, sorted."""
    names = {d.canonical_name for h in inventory.hosts if h.verifiable for d in _scoped(h, selector)}
    return sorted(names)


def empty_scope(inventory: Inventory) -> Finding:
    return Finding(UNKNOWN, "empty-scope", None, None,
                   f"no in-scope device on any readable host ({len(inventory.hosts)} hosts in scope):"
                   " nothing verified")


def holders(hosts: list[Host], selector: Selector, name: str) -> int:
    return sum(1 for h in hosts if (d := h.device(name)) is not None and selector.matches(d))


def missing(host: Host, name: str, others: int) -> Finding:
    return Finding(DANGER, "missing-lun", host.name, name,
                   f"{host.name} {name}: LUN missing on this host ({others} other hosts see it)")


def group_ids(dev: Device) -> list[int]:
    ids = {g.id for g in dev.tpgs} | {p.tpg_id for p in dev.paths if p.tpg_id is not None}
    return sorted(ids)


def groups_in_state(dev: Device, state: TpgState) -> list[int]:
    return [i for i in group_ids(dev) if dev.tpg_state(i) == state]


def _fmt_counts(c: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in c.items() if v or k in ("ao", "ano"))


def finish(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (f.host or "", f.device or "",
                                                 -int(f.severity), f.code, f.message)))


# ---------------------------------------------------------------- audit

def _policy_findings(host: Host, dev: Device, policy: Policy) -> list[Finding]:
    out = []
    cur = dev.policy
    name = dev.canonical_name
    if cur.psp != policy.psp:
        out.append(Finding(DRIFT, "psp", host.name, name,
                           f"{host.name} {name}: PSP {cur.psp or 'unknown'}, want {policy.psp}"))
    elif policy.is_rr and not limit_compliant(cur, policy):
        out.append(Finding(DRIFT, "rr-limit", host.name, name,
                           f"{host.name} {name}: RR limit {limit_text(cur)},"
                           f" want {desired_limit_text(policy)}"))
    return out


def group_text(dev: Device) -> str:
    """'TPG 1 AO: 2 paths, TPG 2 STBY: 2 paths (1 dead)': what each group is, for messages."""
    parts = []
    for g in group_ids(dev):
        n = sum(1 for p in dev.paths if p.tpg_id == g)
        dead = sum(1 for p in dev.paths if p.tpg_id == g and not p.live)
        parts.append(f"TPG {g} {dev.tpg_state(g).value}: {n} path{'s' * (n != 1)}"
                     + (f" ({dead} dead)" if dead else ""))
    return ", ".join(parts) or "no target port group"


def _lun_state(host: Host, dev: Device) -> list[Finding]:
    if dev.lun_ok:
        return []
    return [Finding(DANGER, "lun-state", host.name, dev.canonical_name,
                    f"{host.name} {dev.canonical_name}: LUN operational state is"
                    f" {','.join(dev.operational_state)}, not ok")]


def _dead_paths(host: Host, dev: Device) -> list[Finding]:
    dead = [p.runtime_name or p.name for p in dev.paths if not p.live]
    if not dead:
        return []
    return [Finding(DANGER, "dead-path", host.name, dev.canonical_name,
                    f"{host.name} {dev.canonical_name}: {len(dead)} dead path(s):"
                    f" {', '.join(sorted(dead))}")]


def _path_findings(host: Host, dev: Device, c: dict[str, int], exp: Expectation) -> list[Finding]:
    out = []
    name = dev.canonical_name
    where = f"{host.name} {name}"
    out += _lun_state(host, dev)
    if c["ao"] == 0:
        out.append(Finding(DANGER, "no-ao", host.name, name,
                           f"{where}: no live active/optimized path ({group_text(dev)})"))
    if c["ano"] == 0 and exp.ano != 0:
        # standby or unavailable partners are not proven to take over: the gate refuses them too
        out.append(Finding(DANGER, "no-ano", host.name, name,
                           f"{where}: no live active/non-optimized path, no group ready to take"
                           f" over in a failover ({group_text(dev)})"))
    out += _dead_paths(host, dev)
    for bucket, want in (("ao", exp.ao), ("ano", exp.ano)):
        if want is not None and c[bucket] != want:
            out.append(Finding(DRIFT, "path-count", host.name, name,
                               f"{where}: {c[bucket]} {bucket.upper()} paths, expected {want}"))
    return out


def _asymmetry(sigs_of: dict[str, dict[str, tuple]]) -> list[Finding]:
    """Hosts whose path counts for a device differ from what most hosts see.
    sigs_of: device name -> {host name: its path counts as a tuple of (bucket, n)}."""
    out = []
    for name, sigs in sorted(sigs_of.items()):
        if len(set(sigs.values())) <= 1:
            continue
        tally = Counter(sigs.values())
        common = max(tally, key=lambda s: (tally[s], s))
        for hname, sig in sorted(sigs.items()):
            if sig != common:
                out.append(Finding(DRIFT, "asymmetric", hname, name,
                                   f"{hname} {name}: paths {_fmt_counts(dict(sig))}, other hosts"
                                   f" {_fmt_counts(dict(common))}"))
    return out


def _tpgs(view: tuple[int, ...]) -> str:
    return " and ".join(f"TPG {g}" for g in view)


def alua_view(hosts: list[Host], selector: Selector) -> list[Finding]:
    """Hosts whose active/optimized group(s) for a device are not what most hosts see: after a
    failover, a host that still sees the old controller AO sends its I/O there (path counts
    are equal, so `asymmetric` does not see it). Voters: the given (readable) hosts that see
    the in-scope NMP device with an AO group (`no-ao` speaks for the others). On a tie every
    voter is named: no majority tells which view is right."""
    views: dict[str, dict[str, tuple[int, ...]]] = {}
    for h in hosts:
        for dev in _scoped(h, selector):
            if dev.managed and (ao := tuple(groups_in_state(dev, TpgState.AO))):
                views.setdefault(dev.canonical_name, {})[h.name] = ao
    out = []
    for name, seen in sorted(views.items()):
        tally = Counter(seen.values())
        if len(tally) <= 1:
            continue
        top = max(tally.values())
        common = [v for v, n in tally.items() if n == top]
        why = ("no majority: the hosts disagree on the active controller" if len(common) > 1
               else "this host's ALUA view is not the other hosts' (stale after a failover?)")
        for hname, view in sorted(seen.items()):
            if common == [view]:
                continue
            others = ", ".join(f"{n} of {len(seen)} hosts see {_tpgs(v)} AO" for v, n in sorted(
                tally.items(), key=lambda kv: (-kv[1], kv[0])) if v != view)
            out.append(Finding(DANGER, "alua-view", hname, name,
                               f"{hname} {name}: sees {_tpgs(view)} AO, while {others}: {why}"))
    return out


def audit(inventory: Inventory, selector: Selector, policy: Policy,
          expectation: Expectation | None = None) -> tuple[Finding, ...]:
    exp = expectation or Expectation()
    findings: list[Finding] = []
    readable = [h for h in inventory.hosts if h.verifiable]
    findings += [unverifiable(h) for h in inventory.hosts if not h.verifiable]
    # each host's in-scope devices and their path counts, worked out once (256 x 32 = 8k devices)
    scoped = {h.name: _scoped(h, selector) for h in readable}
    sigs_of: dict[str, dict[str, tuple]] = {}
    for host in readable:
        for dev in scoped[host.name]:
            if not dev.managed:  # HPP & co: no PSP, no RR limit, no ALUA state to judge
                findings.append(Finding(DRIFT, "not-nmp", host.name, dev.canonical_name,
                                        f"{host.name} {dev.canonical_name}: {dev.mpp}, not managed"
                                        " (claimed by another multipathing plugin than NMP)"))
                findings += _dead_paths(host, dev) + _lun_state(host, dev)
                sigs_of.setdefault(dev.canonical_name, {})
                continue
            c = dev.counts()
            sigs_of.setdefault(dev.canonical_name, {})[host.name] = tuple(c.items())
            findings += _policy_findings(host, dev, policy)
            findings += _path_findings(host, dev, c, exp)
    names = sorted(sigs_of)
    if not names:
        findings.append(empty_scope(inventory))
    for host in readable:
        have = {d.canonical_name for d in scoped[host.name]}
        findings += [missing(host, n, len(sigs_of[n])) for n in names if n not in have]
    findings += _asymmetry(sigs_of) + alua_view(readable, selector)
    return finish(findings)


# ---------------------------------------------------------------- apply's re-read

def _rule_from_params(params: dict[str, str]) -> tuple[str, Policy]:
    opts = params.get("pspoption", "")
    if opts.startswith("iops="):
        pol = Policy(psp=params.get("psp", ""), limit_type="iops", iops=int(opts[5:]),
                     satp=params.get("satp", ""))
    else:
        pol = Policy(psp=params.get("psp", ""), limit_type=opts.partition("=")[2] or "latency",
                     iops=None, satp=params.get("satp", ""))
    return params.get("vendor", ""), pol


def _took(host: Host, change) -> tuple[bool, str]:
    params = dict(change.params)
    if change.kind == CHANGE_SATP_RULE:
        vendor, pol = _rule_from_params(params)
        ok = any(rule_equivalent(r, vendor, pol) for r in host.satp_rules)
        return ok, "no such SATP rule"
    dev = host.device(change.device or "")
    if dev is None:
        return False, "device gone"
    return policy_took(dev.policy, change)


def policy_took(current: DevicePolicy, change) -> tuple[bool, str]:
    """Whether a PSP or RR-limit change is in effect in a device's policy, and if not, why.
    Also what the adapter's read-back after a lost write answer asks (vsphere/writes.py)."""
    params = dict(change.params)
    if change.kind == CHANGE_PSP:
        return current.psp == params.get("psp"), f"PSP still {current.psp or 'unknown'}"
    if change.kind == CHANGE_RR_LIMIT:
        want = Policy(limit_type=params.get("type", ""),
                      iops=int(params["iops"]) if "iops" in params else None)
        return limit_compliant(current, want), f"RR limit still {limit_text(current)}"
    return False, f"unknown change kind {change.kind}"


def skipped_hosts(inventory: Inventory, plan: Plan) -> tuple[Finding, ...]:
    """apply: a host that could not be read before the writes is left alone; say why (its
    re-read may well succeed, so the report's hosts[] need not show it)."""
    out = []
    for name in plan.skipped_hosts:
        host = inventory.host(name)
        why = "not read" if host is None else host.error or f"host is {host.connection_state}"
        out.append(Finding(UNKNOWN, "host-skipped", name, None,
                           f"{name}: skipped, nothing planned or written: could not be read ({why})"))
    return tuple(out)


def not_reread(inventory: Inventory, why: str) -> Inventory:
    """The inventory read before the writes, each host marked as not re-read (vCenter gone):
    what apply reports when it cannot read back at all."""
    return Inventory(tuple(replace(h, error=f"not re-read after the writes: {why}")
                           for h in inventory.hosts))


def settle(results: tuple[ChangeResult, ...], after: Inventory) -> tuple[ChangeResult, ...]:
    """A write whose answer was lost ("unknown") and that the re-read shows in effect landed."""
    def settled(r: ChangeResult) -> ChangeResult:
        host = after.host(r.change.host)
        if r.unknown and host is not None and host.verifiable and _took(host, r.change)[0]:
            return ChangeResult(r.change, ok=True, confirmed=True)
        return r
    return tuple(settled(r) for r in results)


def verify_applied(inventory_after: Inventory, plan: Plan,
                   results: tuple[ChangeResult, ...] = ()) -> tuple[Finding, ...]:
    """One finding per planned change that is not in effect in the re-read inventory; a change
    never sent (Ctrl-C, vCenter gone) is its result's alone ("not written"), not a finding."""
    findings: list[Finding] = []
    unsent = {r.change for r in results if not r.sent}
    for change in (c for c in plan.changes if c not in unsent):
        host = inventory_after.host(change.host)
        where = f"{change.host} {change.device}" if change.device else change.host
        if host is None or not host.verifiable:
            why = "host not read" if host is None else (host.error or host.connection_state)
            findings.append(Finding(UNKNOWN, "not-verified", change.host, change.device,
                                    f"{where}: {change.kind} {change.after} not verified: {why}"))
            continue
        ok, why = _took(host, change)
        if not ok:
            findings.append(Finding(DRIFT, "not-applied", change.host, change.device,
                                    f"{where}: {change.kind} {change.before} -> {change.after}"
                                    f" did not take: {why}"))
    return finish(findings)


__all__ = ["audit", "alua_view", "verify_applied", "skipped_hosts", "not_reread", "settle",
           "group_ids", "groups_in_state", "group_text"]
