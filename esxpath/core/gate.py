"""The failover gate: check() before a planned controller failover, after_failover() after it.
Pure: no I/O. The rule is stated here once; README "The failover rule" repeats it for admins.

THE RULE. A failover to target port group T is safe only if, on every connected in-scope host
and for every in-scope device:
  (a) T is not the group that is active/optimized (AO) now: a "failover" to it moves nothing,
      and Pacemaker will move the master to the other node;
  (b) T is active/non-optimized (ANO) on the host, and T's paths that are live and report ANO
      themselves number at least --min-paths AND at least as many as the host's live AO paths
      now (no loss of redundancy). --allow-redundancy-loss drops the second half; the output
      then names it. A standby, unavailable, transitioning or offline path is not counted: it is
      not proven to come up as AO (audit calls a host without ANO paths DANGER for the same
      reason);
  (c) nothing is unverifiable: the host is connected and was read completely, the device is on
      it, is claimed by NMP with VMW_PSP_RR, its LUN is operational ("ok"), and the host sees
      T and the AO group in the same ALUA state as the other hosts (a host that disagrees has a
      stale view, and nobody can say what it will see after the move).
With --san, the SAN half of the rule, (d) to (f), is in gate_san.py.
Any violation is a finding that names host, device, group and the number that fell short.
Without --to-tpg, T is the one group the hosts see as ANO; none or several: refuse.

THE SAME PROMISE AFTER THE MOVE (check --after-failover, gate_after.py). The failover to T is
COMPLETE only if, on every connected in-scope host and for every in-scope device:
  (a') T is AO, and no other group is (by its state or by any live path that reports AO);
  (b') T's live AO paths number at least --min-paths AND at least the live AO paths the host
      had for the device before the move, read from --baseline (the `check -o json` document
      printed before it; a host/device it lacks cannot be verified). Without --baseline the
      second half is not judged and the summary line says so; --allow-redundancy-loss drops
      it and is named as above;
  (c') nothing is unverifiable (host connected and read completely, device on it, NMP, LUN
      ok), the host sees the groups as the other hosts do, and no All-Paths-Down (or lost
      connectivity) is open and no permanent device loss was reported on the device (vCenter's
      storage events; --no-events: not judged, and said so).
Without --to-tpg, T is the one group other than --from-tpg that is AO.
"""
from __future__ import annotations

from collections import Counter

from .gate_san import SanEvidence, gate_findings
from .model import Device, Expectation, Finding, Host, Inventory, Policy, Selector, Severity, TpgState
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

DANGER, UNKNOWN, NOTE = Severity.DANGER, Severity.UNKNOWN, Severity.NOTE

REDUNDANCY_WAIVER = "--allow-redundancy-loss"


def ao_paths(dev: Device) -> int:
    """Live paths that report AO themselves: what carries I/O now under RR (useANO=0)."""
    return sum(1 for p in dev.paths if p.live_in(TpgState.AO))


def takeover_paths(dev: Device, tpg: int) -> int:
    """Live paths of the group that report ANO themselves: what will be AO after the move."""
    return sum(1 for p in dev.paths if p.tpg_id == tpg and p.live_in(TpgState.ANO))


def _where(host: Host, name: str | None = None) -> str:
    where = f"{host.name} (maintenance mode)" if host.maintenance else host.name
    return f"{where} {name}" if name else where


def disagreeing_paths(dev: Device) -> list[str]:
    """'vmhba2:C0:T0:L1 of TPG 1 reports STBY (group AO)' for each live path that does not say
    what its group says: the group is judged by all its paths, and the odd one is named."""
    out = []
    for g in group_ids(dev):
        state = dev.tpg_state(g)
        for p in dev.paths:
            if p.tpg_id == g and p.live and p.tpg_state != state:
                out.append(f"{p.runtime_name or p.name} of TPG {g} reports {p.tpg_state.value}"
                           f" (group {state.value})")
    return out


def takeover_groups(inventory: Inventory, selector: Selector,
                    expectation: Expectation | None = None) -> dict[str, int | None]:
    """Per in-scope device: the TPG that will take over, or None when it cannot be named.

    expectation.to_tpg wins; otherwise the one group that readable hosts see as ANO and none
    sees as AO. None when there are none or several (check then refuses).
    """
    exp = expectation or Expectation()
    readable = [h for h in inventory.hosts if h.verifiable]
    out: dict[str, int | None] = {}
    for name in scope_names(inventory, selector):
        if exp.to_tpg is not None:
            out[name] = exp.to_tpg
            continue
        ano: set[int] = set()
        ao: set[int] = set()
        for h in readable:
            d = h.device(name)
            if d is not None:
                ano |= set(groups_in_state(d, TpgState.ANO))
                ao |= set(groups_in_state(d, TpgState.AO))
        ano -= ao
        out[name] = ano.pop() if len(ano) == 1 else None
    return out


def _views(hosts: list[Host], name: str, groups: set[int]) -> dict[int, dict[str, TpgState]]:
    """{group: {host: the state that host sees the group in}} for one device."""
    out: dict[int, dict[str, TpgState]] = {g: {} for g in groups}
    for h in hosts:
        d = h.device(name)
        if d is not None and d.managed:
            for g in groups:
                if (state := d.tpg_state(g)) != TpgState.UNKNOWN:  # no paths there: rule (b)'s
                    out[g][h.name] = state
    return out


def stale_views(hosts: list[Host], name: str, groups: set[int]) -> list[Finding]:
    """Hosts that see a group in another state than most hosts do (all of them on a tie)."""
    out = []
    for g, seen in sorted(_views(hosts, name, groups).items()):
        tally = Counter(seen.values())
        if len(tally) <= 1:
            continue
        top = max(tally.values())
        common = [s for s, n in tally.items() if n == top]
        for hname, state in sorted(seen.items()):
            if len(common) > 1 or state != common[0]:
                others = ", ".join(f"{n} host(s) {s.value}" for s, n in sorted(
                    tally.items(), key=lambda kv: -kv[1]) if s != state)
                out.append(Finding(DANGER, "alua-view", hname, name,
                                   f"{hname} {name}: sees TPG {g} as {state.value} while {others}:"
                                   " this host's ALUA view is stale, its state after the move"
                                   " cannot be foreseen"))
    return out


def _check_device(host: Host, dev: Device, target: int | None, policy: Policy,
                  exp: Expectation) -> list[Finding]:
    name = dev.canonical_name
    where = _where(host, name)
    out: list[Finding] = []

    def refuse(code: str, text: str, severity: Severity = DANGER) -> None:
        out.append(Finding(severity, code, host.name, name, f"{where}: {text}"))

    if not dev.managed:
        refuse("not-nmp", f"claimed by {dev.mpp}, not NMP: esxpath cannot read its ALUA state",
               UNKNOWN)
        return out
    if not dev.lun_ok:
        refuse("lun-state", f"LUN operational state is {','.join(dev.operational_state)}, not ok")
    if dev.policy.psp != policy.psp:
        refuse("psp", f"PSP is {dev.policy.psp or 'unknown'}, not {policy.psp}")
    odd = disagreeing_paths(dev)
    odd_text = f" ({'; '.join(odd)})" if odd else ""
    if target is None:
        seen = ",".join(map(str, groups_in_state(dev, TpgState.ANO))) or "none"
        refuse("no-target", f"cannot tell which group takes over (ANO groups here: {seen});"
                            " pass --to-tpg")
        return out
    state = dev.tpg_state(target)
    if state == TpgState.AO or any(p.tpg_id == target and p.live_in(TpgState.AO) for p in dev.paths):
        refuse("target-is-ao", f"TPG {target} is the active/optimized group now: a failover to it"
                               " moves nothing (name the peer's group with --to-tpg)")
        return out
    if state != TpgState.ANO:
        refuse("target-state", f"takeover group TPG {target} is {state.value} on this host, not"
                               f" ANO: not proven to take over{odd_text}")
        return out
    have, now = takeover_paths(dev, target), ao_paths(dev)
    need = max(1, exp.min_paths)
    if have < need:
        refuse("target-paths", f"takeover group TPG {target} has {have} live ANO path(s),"
                               f" --min-paths needs {need}{odd_text}")
    elif have < now and not exp.allow_redundancy_loss:
        refuse("redundancy", f"takeover group TPG {target} has {have} live ANO path(s), fewer than"
                             f" the {now} live AO path(s) now: the host would lose redundancy"
                             f" ({REDUNDANCY_WAIVER} to accept){odd_text}")
    return out


def _notes(host: Host, dev: Device) -> list[Finding]:
    return [Finding(NOTE, "path-disagrees", host.name, dev.canonical_name,
                    f"{_where(host, dev.canonical_name)}: path {text}")
            for text in disagreeing_paths(dev)]


def check(inventory: Inventory, selector: Selector, policy: Policy | None = None,
          expectation: Expectation | None = None,
          san: SanEvidence | None = None) -> tuple[Finding, ...]:
    """Pre-failover gate: safe only when no finding is worse than a note (Severity.NOTE).
    san: the storage nodes' dumps and the clock they were read by (san.audit.SanDumps); their
    disagreements with the hosts, stale dumps, and nodes behind the hosts' paths that are not
    dumped or not ready to take over refuse too (the SAN half of the rule: gate_san.py)."""
    policy, exp = policy or Policy(), expectation or Expectation()
    findings: list[Finding] = [unverifiable(h) for h in inventory.hosts if not h.verifiable]
    readable = [h for h in inventory.hosts if h.verifiable]
    names = scope_names(inventory, selector)
    if not inventory.hosts or not names:
        findings.append(empty_scope(inventory))
    targets = takeover_groups(inventory, selector, exp)
    for name in names:
        target = targets[name]
        for host in readable:
            dev = host.device(name)
            if dev is None or not selector.matches(dev):
                findings.append(missing(host, name, holders(readable, selector, name)))
                continue
            own = _check_device(host, dev, target, policy, exp)
            findings += own or _notes(host, dev)
        ao = {g for h in readable if (d := h.device(name)) for g in groups_in_state(d, TpgState.AO)}
        findings += stale_views(readable, name, ao | ({target} if target is not None else set()))
    if san is not None:
        findings += gate_findings(san, inventory, selector, targets)
    return finish(findings)


def after_failover(inventory: Inventory, selector: Selector, expectation: Expectation,
                   **kw) -> tuple[Finding, ...]:
    """The rule after the move (gate_after.after_failover: baseline, storage events)."""
    from .gate_after import after_failover as judge
    return judge(inventory, selector, expectation, **kw)


__all__ = ["check", "after_failover", "takeover_groups", "ao_paths", "takeover_paths",
           "disagreeing_paths", "stale_views", "REDUNDANCY_WAIVER"]
