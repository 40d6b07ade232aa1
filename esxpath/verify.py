"""Findings for audit, the pre-failover gate and apply's re-read. Pure: no I/O.

The gate (check) is written to fail closed: anything it cannot prove -- an unreadable host, a
device missing on a host, an unknown group state, an empty scope -- is a finding, never "safe".
Message texts name host and device because an admin acts on them at 3 a.m.
"""
from __future__ import annotations

from collections import Counter

from .model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    Device,
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


def _unverifiable(host: Host) -> Finding:
    why = host.error or f"connection state {host.connection_state}"
    return Finding(UNKNOWN, "host-unverifiable", host.name, None,
                   f"{host.name}: cannot verify: {why}")


def _scope_names(inventory: Inventory, selector: Selector) -> list[str]:
    """In-scope device names seen on any verifiable host, sorted."""
    names = {d.canonical_name for h in inventory.hosts if h.verifiable for d in _scoped(h, selector)}
    return sorted(names)


def _empty_scope(inventory: Inventory) -> Finding:
    return Finding(UNKNOWN, "empty-scope", None, None,
                   f"no in-scope device on any readable host ({len(inventory.hosts)} hosts in scope):"
                   " nothing verified")


def _holders(hosts: list[Host], selector: Selector, name: str) -> int:
    return sum(1 for h in hosts if (d := h.device(name)) is not None and selector.matches(d))


def _missing(host: Host, name: str, others: int) -> Finding:
    return Finding(DANGER, "missing-lun", host.name, name,
                   f"{host.name} {name}: LUN missing on this host ({others} other hosts see it)")


def group_ids(dev: Device) -> list[int]:
    ids = {g.id for g in dev.tpgs} | {p.tpg_id for p in dev.paths if p.tpg_id is not None}
    return sorted(ids)


def groups_in_state(dev: Device, state: TpgState) -> list[int]:
    return [i for i in group_ids(dev) if dev.tpg_state(i) == state]


# A path whose own ALUA state is unavailable (or unreported) cannot carry I/O after a
# transition, even if the multipath layer calls it standby: never count it as a live path.
_USABLE_TPG_STATES = (TpgState.AO, TpgState.ANO, TpgState.STANDBY)


def live_paths(dev: Device, tpg_id: int) -> int:
    return sum(1 for p in dev.paths
               if p.tpg_id == tpg_id and p.live and p.tpg_state in _USABLE_TPG_STATES)


def _fmt_counts(c: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in c.items() if v or k in ("ao", "ano"))


def _finish(findings: list[Finding]) -> tuple[Finding, ...]:
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


def _path_findings(host: Host, dev: Device, c: dict[str, int], exp: Expectation) -> list[Finding]:
    out = []
    name = dev.canonical_name
    where = f"{host.name} {name}"
    if c["ao"] == 0:
        out.append(Finding(DANGER, "no-ao", host.name, name,
                           f"{where}: no live active/optimized path ({_fmt_counts(c)})"))
    if c["ano"] == 0 and exp.ano != 0:
        out.append(Finding(DANGER, "no-ano", host.name, name,
                           f"{where}: no live active/non-optimized path, one controller"
                           f" unreachable ({_fmt_counts(c)})"))
    dead = [p.runtime_name or p.name for p in dev.paths if not p.live]
    if dead:
        out.append(Finding(DANGER, "dead-path", host.name, name,
                           f"{where}: {len(dead)} dead path(s): {', '.join(sorted(dead))}"))
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


def audit(inventory: Inventory, selector: Selector, policy: Policy,
          expectation: Expectation | None = None) -> tuple[Finding, ...]:
    exp = expectation or Expectation()
    findings: list[Finding] = []
    readable = [h for h in inventory.hosts if h.verifiable]
    findings += [_unverifiable(h) for h in inventory.hosts if not h.verifiable]
    # each host's in-scope devices and their path counts, worked out once (256 x 32 = 8k devices)
    scoped = {h.name: _scoped(h, selector) for h in readable}
    sigs_of: dict[str, dict[str, tuple]] = {}
    for host in readable:
        for dev in scoped[host.name]:
            c = dev.counts()
            sigs_of.setdefault(dev.canonical_name, {})[host.name] = tuple(c.items())
            findings += _policy_findings(host, dev, policy)
            findings += _path_findings(host, dev, c, exp)
    names = sorted(sigs_of)
    if not names:
        findings.append(_empty_scope(inventory))
    for host in readable:
        have = {d.canonical_name for d in scoped[host.name]}
        findings += [_missing(host, n, len(sigs_of[n])) for n in names if n not in have]
    findings += _asymmetry(sigs_of)
    return _finish(findings)


# ---------------------------------------------------------------- pre-failover gate

def takeover_groups(inventory: Inventory, selector: Selector,
                    expectation: Expectation | None = None) -> dict[str, int | None]:
    """Per in-scope device: the TPG that will take over, or None when it cannot be named.

    expectation.to_tpg wins; otherwise the one group that readable hosts see as ANO. Hosts that
    disagree, or no/several ANO groups, give None (check then refuses). Record this before a
    failover and pass it to after_failover.
    """
    exp = expectation or Expectation()
    readable = [h for h in inventory.hosts if h.verifiable]
    out: dict[str, int | None] = {}
    for name in _scope_names(inventory, selector):
        if exp.to_tpg is not None:
            out[name] = exp.to_tpg
            continue
        ano: set[int] = set()
        for h in readable:
            d = h.device(name)
            if d is not None:
                ano |= set(groups_in_state(d, TpgState.ANO))
        out[name] = ano.pop() if len(ano) == 1 else None
    return out


def _check_device(host: Host, dev: Device, target: int | None, policy: Policy,
                  exp: Expectation) -> list[Finding]:
    out = []
    name = dev.canonical_name
    where = f"{host.name} {name}"
    need = max(1, exp.min_paths)  # "0 paths needed" would make the gate meaningless

    def danger(code: str, text: str) -> None:
        out.append(Finding(DANGER, code, host.name, name, f"{where}: {text}"))

    if dev.policy.psp != policy.psp:
        danger("psp", f"PSP is {dev.policy.psp or 'unknown'}, not {policy.psp}")
    ao = groups_in_state(dev, TpgState.AO)
    if not ao:
        danger("no-ao", "no active/optimized target port group now")
    for g in ao:
        if live_paths(dev, g) == 0:
            danger("ao-paths", f"current AO group TPG {g} has no live path")
    if target is None:
        ano = groups_in_state(dev, TpgState.ANO)
        seen = ",".join(map(str, ano)) or "none"
        danger("no-target", f"cannot tell which group takes over (ANO groups here: {seen});"
                            " pass --to-tpg")
        return out
    state = dev.tpg_state(target)
    if state not in (TpgState.AO, TpgState.ANO, TpgState.STANDBY):
        danger("target-state", f"takeover group TPG {target} is {state.value} on this host")
    live = live_paths(dev, target)
    if live < need:
        danger("target-paths", f"takeover group TPG {target} has {live} live path(s), need {need}")
    return out


def _normalize(policy, expectation) -> tuple[Policy, Expectation]:
    # CONTRACTS.md spells check(inventory, selector, expectation): accept that form too.
    if isinstance(policy, Expectation) and expectation is None:
        policy, expectation = None, policy
    return policy or Policy(), expectation or Expectation()


def check(inventory: Inventory, selector: Selector, policy: Policy | Expectation | None = None,
          expectation: Expectation | None = None) -> tuple[Finding, ...]:
    """Pre-failover gate: safe only when this returns no findings."""
    policy, exp = _normalize(policy, expectation)
    findings: list[Finding] = [_unverifiable(h) for h in inventory.hosts if not h.verifiable]
    readable = [h for h in inventory.hosts if h.verifiable]
    names = _scope_names(inventory, selector)
    if not inventory.hosts or not names:
        findings.append(_empty_scope(inventory))
    targets = takeover_groups(inventory, selector, exp)
    for host in readable:
        for name in names:
            dev = host.device(name)
            if dev is None or not selector.matches(dev):
                findings.append(_missing(host, name, _holders(readable, selector, name)))
                continue
            findings += _check_device(host, dev, targets[name], policy, exp)
    return _finish(findings)


def after_failover(inventory: Inventory, selector: Selector,
                   expectation: Expectation | None = None,
                   targets: dict[str, int | None] | None = None) -> tuple[Finding, ...]:
    """Post-failover wait: done when these are empty.

    The group that took over is targets[device] (from takeover_groups before the failover),
    else expectation.to_tpg, else the one group all readable hosts see as AO.
    """
    exp = expectation or Expectation()
    need = max(1, exp.min_paths)
    findings: list[Finding] = [_unverifiable(h) for h in inventory.hosts if not h.verifiable]
    readable = [h for h in inventory.hosts if h.verifiable]
    names = _scope_names(inventory, selector)
    if not inventory.hosts or not names:
        findings.append(_empty_scope(inventory))
    for name in names:
        target = (targets or {}).get(name, exp.to_tpg)
        if target is None:
            ao = {g for h in readable if (d := h.device(name)) for g in groups_in_state(d, TpgState.AO)}
            target = ao.pop() if len(ao) == 1 else None
            if target is None:
                findings.append(Finding(DANGER, "no-target", None, name,
                                        f"{name}: hosts do not agree on one AO group"
                                        f" ({','.join(map(str, sorted(ao))) or 'none'})"))
                continue
        for host in readable:
            dev = host.device(name)
            where = f"{host.name} {name}"
            if dev is None or not selector.matches(dev):
                findings.append(_missing(host, name, _holders(readable, selector, name)))
                continue
            state = dev.tpg_state(target)
            if state != TpgState.AO:
                findings.append(Finding(DANGER, "not-ao-yet", host.name, name,
                                        f"{where}: TPG {target} is {state.value}, not AO yet"))
            live = live_paths(dev, target)
            if live < need:
                findings.append(Finding(DANGER, "target-paths", host.name, name,
                                        f"{where}: TPG {target} has {live} live path(s), need {need}"))
    return _finish(findings)


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
    if change.kind == CHANGE_PSP:
        return dev.policy.psp == params.get("psp"), f"PSP still {dev.policy.psp or 'unknown'}"
    if change.kind == CHANGE_RR_LIMIT:
        want_type = params.get("type", "")
        want = Policy(limit_type=want_type,
                      iops=int(params["iops"]) if "iops" in params else None)
        return limit_compliant(dev.policy, want), f"RR limit still {limit_text(dev.policy)}"
    return False, f"unknown change kind {change.kind}"


def verify_applied(inventory_after: Inventory, plan: Plan) -> tuple[Finding, ...]:
    """One finding per planned change that is not in effect in the re-read inventory."""
    findings: list[Finding] = []
    for change in plan.changes:
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
    return _finish(findings)


__all__ = ["audit", "check", "after_failover", "verify_applied", "takeover_groups",
           "group_ids", "groups_in_state", "live_paths"]
