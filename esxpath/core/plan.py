"""plan(): the changes that bring in-scope devices to the desired Policy. Pure: no I/O.

A compliant device yields nothing, so a second apply writes nothing. Hosts that could not be
read completely are never planned for (their state is unknown): they go to Plan.skipped_hosts.
Devices not claimed by NMP (HPP) are never planned for: they take no NMP PSP.
"""
from __future__ import annotations

from .model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    PSP_RR,
    Change,
    Device,
    DevicePolicy,
    Host,
    Inventory,
    Plan,
    Policy,
    SatpRule,
    Selector,
)

RR = PSP_RR
CLAIM_OPTION_TPGS = "tpgs_on"  # claim only devices that report ALUA support (TPGS)
RULE_DESCRIPTION = "esxpath: SCST ALUA round robin"


def limit_text(policy: DevicePolicy) -> str:
    """The RR limit as an admin reads it: "iops 1000", "default (iops 1000)", "bytes 10485760",
    "latency"; ", useANO=1" when Round Robin also sends I/O to the non-optimized group."""
    t = (policy.limit_type or "").lower()
    if t == "iops":
        text = f"iops {policy.iops}" if policy.iops is not None else "iops"
    elif t == "default":  # policy=rr: ESXi's default limit, not the iops type (even at iops 1)
        text = f"default (iops {policy.iops})" if policy.iops is not None else "default"
    elif t == "bytes":
        text = f"bytes {policy.bytes}" if policy.bytes is not None else "bytes"
    elif t == "latency":
        text = "latency"
    else:
        text = "unknown"
    return text + (", useANO=1" if policy.use_ano else "")


def desired_limit_text(policy: Policy) -> str:
    return f"iops {policy.iops}" if policy.limit_type == "iops" else policy.limit_type


def limit_params(policy: Policy, use_ano_off: bool = False) -> tuple[tuple[str, str], ...]:
    """esxcli `psp roundrobin deviceconfig set` options for the desired limit; use_ano_off adds
    `--useano false` for a device that sends I/O to the non-optimized group too."""
    off = (("useano", "false"),) if use_ano_off else ()
    if policy.limit_type == "iops":
        return (("type", "iops"), ("iops", str(policy.iops))) + off
    return (("type", policy.limit_type),) + off


def limit_compliant(current: DevicePolicy, policy: Policy) -> bool:
    """True when the device's RR limit already is the policy's ("default" never counts) and RR
    keeps to the optimized paths (useANO=1 ships I/O through the other controller: the seed
    article's 120k -> 22k IOPS)."""
    if current.use_ano:
        return False
    if policy.limit_type == "iops":
        return current.limit_type == "iops" and current.iops == policy.iops
    return current.limit_type == policy.limit_type


def rule_psp_options(policy: Policy) -> str:
    return f"iops={policy.iops}" if policy.limit_type == "iops" else f"policy={policy.limit_type}"


def _option_set(text: str) -> frozenset[str]:
    parts = text.replace(";", ",").replace(" ", ",").split(",")
    return frozenset(p.strip().lower() for p in parts if p.strip())


def rule_equivalent(rule: SatpRule, vendor: str, policy: Policy) -> bool:
    """A rule that claims every device of the vendor with the desired SATP, PSP and options."""
    return (
        rule.satp == policy.satp
        and rule.vendor.strip() == vendor
        and not rule.model.strip()  # a model-specific rule does not cover the vendor's other LUNs
        and not rule.device.strip()
        and rule.psp == policy.psp
        and _option_set(rule.psp_options) == _option_set(rule_psp_options(policy))
        and CLAIM_OPTION_TPGS in _option_set(rule.claim_options)
    )


def rule_params(vendor: str, policy: Policy) -> tuple[tuple[str, str], ...]:
    """esxcli `storage nmp satp rule add` options, in a stable order."""
    return (
        ("satp", policy.satp),
        ("vendor", vendor),
        ("psp", policy.psp),
        ("pspoption", rule_psp_options(policy)),
        ("claimoption", CLAIM_OPTION_TPGS),
        ("description", RULE_DESCRIPTION),
    )


def _device_changes(host: Host, dev: Device, policy: Policy) -> list[Change]:
    out: list[Change] = []
    current = dev.policy
    if current.psp != policy.psp:
        out.append(Change(host.name, CHANGE_PSP, dev.canonical_name,
                          before=current.psp or "unknown", after=policy.psp,
                          params=(("psp", policy.psp),)))
    will_be_rr = policy.is_rr  # after the PSP change (or already) the device is RR
    # A device switched to RR starts with ESXi's default limit, so it always needs the limit set.
    if will_be_rr and (current.psp != RR or not limit_compliant(current, policy)):
        out.append(Change(host.name, CHANGE_RR_LIMIT, dev.canonical_name,
                          before=_limit_before(current),
                          after=desired_limit_text(policy),
                          params=limit_params(policy, use_ano_off=bool(current.use_ano))))
    return out


def _limit_before(current: DevicePolicy) -> str:
    """esxcli shows no RR limit for a device on another PSP: say what it will start from."""
    text = limit_text(current)
    if text == "unknown" and current.psp and current.psp != RR:
        return f"RR default (now {current.psp})"
    return text


def _rule_changes(host: Host, selector: Selector, policy: Policy) -> list[Change]:
    out: list[Change] = []
    for vendor in dict.fromkeys(v.strip() for v in selector.vendors):
        if any(rule_equivalent(r, vendor, policy) for r in host.satp_rules):
            continue
        after = f"{policy.satp} {vendor} {policy.psp} {rule_psp_options(policy)} {CLAIM_OPTION_TPGS}"
        out.append(Change(host.name, CHANGE_SATP_RULE, None, before="no rule", after=after,
                          params=rule_params(vendor, policy)))
    return out


def _order(c: Change) -> tuple:
    # Device changes first (PSP before its limit), host-wide rules last.
    return (c.host, c.device is None, c.device or "", c.kind, c.params)


def plan(inventory: Inventory, selector: Selector, policy: Policy) -> Plan:
    changes: list[Change] = []
    skipped: list[str] = []
    for host in inventory.hosts:
        if not host.verifiable:
            skipped.append(host.name)
            continue
        for dev in host.devices:
            # HPP devices refuse an NMP PSP: never planned, shown as "HPP, not managed"
            if selector.matches(dev) and dev.managed:
                changes.extend(_device_changes(host, dev, policy))
        if policy.claim_rule:
            changes.extend(_rule_changes(host, selector, policy))
    return Plan(changes=tuple(sorted(changes, key=_order)), skipped_hosts=tuple(sorted(skipped)))
