"""audit / check / after_failover: table-driven on the lab, plus property tests of the gate."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from esxpath.model import (
    PATH_ACTIVE,
    Device,
    Expectation,
    Host,
    Inventory,
    Path,
    Policy,
    Selector,
    Severity,
    TargetPortGroup,
    TpgState,
)
from esxpath.gate import after_failover, check, takeover_groups
from esxpath.verify import audit

from factory import (
    EUI1, EUI2, HOSTS, SCST, compliant, drop_device, edit_device, edit_host, edit_policy, lab,
    set_paths,
)

SEL, POL, EXP = Selector(), Policy(), Expectation()
OK, DRIFT, DANGER, UNKNOWN = Severity.OK, Severity.DRIFT, Severity.DANGER, Severity.UNKNOWN


def worst(findings) -> Severity:
    return max((f.severity for f in findings), default=OK)


def keys(findings) -> set[tuple]:
    return {(f.severity, f.code, f.host, f.device) for f in findings}


def failed_over():
    return lab(psp="VMW_PSP_RR", limit_type="iops", iops=1, active_tpg=2)


def both_ano_dead():
    return set_paths(compliant(), "esx03", EUI2, "dead", tpg=2)


# ---------------------------------------------------------------- audit

AUDIT_CASES = [
    pytest.param(compliant(), EXP, set(), id="compliant"),
    pytest.param(failed_over(), EXP, set(), id="failover-states-flipped"),
    pytest.param(compliant(), Expectation(ao=2, ano=2), set(), id="expected-counts"),
    pytest.param(lab(), EXP, {(DRIFT, "psp", h, d) for h in HOSTS for d in SCST}, id="mru-estate"),
    pytest.param(lab(psp="VMW_PSP_RR", limit_type="iops", iops=1000), EXP,
                 {(DRIFT, "rr-limit", h, d) for h in HOSTS for d in SCST}, id="rr-iops-1000"),
    pytest.param(edit_policy(compliant(), "esx02", EUI1, limit_type="default", iops=1), EXP,
                 {(DRIFT, "rr-limit", "esx02", EUI1)}, id="default-limit-type"),
    pytest.param(compliant(), Expectation(ao=4), {(DRIFT, "path-count", h, d) for h in HOSTS for d in SCST},
                 id="expect-4-ao"),
    pytest.param(both_ano_dead(), EXP,
                 {(DANGER, "dead-path", "esx03", EUI2), (DANGER, "no-ano", "esx03", EUI2),
                  (DRIFT, "asymmetric", "esx03", EUI2)}, id="both-ano-dead"),
    pytest.param(both_ano_dead(), Expectation(ano=0),
                 {(DANGER, "dead-path", "esx03", EUI2), (DRIFT, "asymmetric", "esx03", EUI2)}
                 | {(DRIFT, "path-count", h, d) for h in HOSTS for d in SCST if (h, d) != ("esx03", EUI2)},
                 id="single-controller-expected"),
    pytest.param(set_paths(compliant(), "esx01", EUI1, "dead", tpg=1), EXP,
                 {(DANGER, "dead-path", "esx01", EUI1), (DANGER, "no-ao", "esx01", EUI1),
                  (DRIFT, "asymmetric", "esx01", EUI1)}, id="both-ao-dead"),
    pytest.param(set_paths(compliant(), "esx04", EUI1, "dead", tpg=2, adapter="vmhba3"), EXP,
                 {(DANGER, "dead-path", "esx04", EUI1), (DRIFT, "asymmetric", "esx04", EUI1)},
                 id="one-dead-path"),
    pytest.param(set_paths(compliant(), "esx04", EUI1, "disabled", tpg=2, adapter="vmhba3"), EXP,
                 {(DANGER, "dead-path", "esx04", EUI1), (DRIFT, "asymmetric", "esx04", EUI1)},
                 id="disabled-path-counts-as-dead"),
    pytest.param(drop_device(compliant(), "esx02", EUI1), EXP,
                 {(DANGER, "missing-lun", "esx02", EUI1)}, id="missing-lun"),
    pytest.param(edit_host(compliant(), "esx02", connection_state="disconnected"), EXP,
                 {(UNKNOWN, "host-unverifiable", "esx02", None)}, id="disconnected"),
    pytest.param(edit_host(compliant(), "esx05", error="esxcli: SystemError", devices=()), EXP,
                 {(UNKNOWN, "host-unverifiable", "esx05", None)}, id="esxcli-failed"),
    pytest.param(compliant(), EXP, set(), id="naa-rr-1000-is-not-drift"),
]


@pytest.mark.parametrize("inv,exp,expected", AUDIT_CASES)
def test_audit_table(inv, exp, expected):
    found = audit(inv, SEL, POL, exp)
    assert keys(found) == expected
    assert worst(found) == max((k[0] for k in expected), default=OK)


def test_asymmetric_names_only_the_odd_host():
    h = compliant().host("esx04")
    dev = h.device(EUI1)
    inv = edit_device(compliant(), "esx04", EUI1, paths=dev.paths[:3])  # one ANO path unzoned
    found = audit(inv, SEL, POL, EXP)
    assert keys(found) == {(DRIFT, "asymmetric", "esx04", EUI1)}
    assert "ano=1" in found[0].message and "ano=2" in found[0].message


def test_audit_messages_name_host_and_device():
    for f in audit(both_ano_dead(), SEL, POL, EXP):
        assert "esx03" in f.message and EUI2 in f.message


def test_audit_empty_scope_is_unknown():
    for inv, sel in ((compliant(), Selector(vendors=("NOBODY",))), (Inventory(), SEL)):
        found = audit(inv, sel, POL, EXP)
        assert keys(found) == {(UNKNOWN, "empty-scope", None, None)}


def test_audit_unverifiable_host_devices_not_judged():
    # a disconnected host's stale MRU devices are not reported as drift: only UNKNOWN
    inv = edit_host(lab(), "esx02", connection_state="disconnected")
    found = [f for f in audit(inv, SEL, POL, EXP) if f.host == "esx02"]
    assert keys(found) == {(UNKNOWN, "host-unverifiable", "esx02", None)}


# ---------------------------------------------------------------- check

CHECK_CASES = [
    pytest.param(compliant(), EXP, set(), id="safe"),
    pytest.param(failed_over(), EXP, set(), id="safe-after-failover-back"),
    pytest.param(compliant(), Expectation(to_tpg=2, min_paths=2), set(), id="to-2-min-2"),
    pytest.param(compliant(), Expectation(min_paths=3),
                 {(DANGER, "target-paths", h, d) for h in HOSTS for d in SCST}, id="min-3"),
    pytest.param(both_ano_dead(), EXP, {(DANGER, "target-paths", "esx03", EUI2)}, id="both-ano-dead"),
    pytest.param(set_paths(compliant(), "esx03", EUI2, "dead", tpg=2, adapter="vmhba2"),
                 Expectation(min_paths=2), {(DANGER, "target-paths", "esx03", EUI2)},
                 id="one-ano-dead-min-2"),
    # 1 takeover path for 2 AO paths now: the host would lose redundancy (issue 13, case 1)
    pytest.param(set_paths(compliant(), "esx03", EUI2, "dead", tpg=2, adapter="vmhba2"), EXP,
                 {(DANGER, "redundancy", "esx03", EUI2)}, id="one-ano-dead-redundancy"),
    pytest.param(set_paths(compliant(), "esx03", EUI2, "dead", tpg=2, adapter="vmhba2"),
                 Expectation(allow_redundancy_loss=True), set(), id="one-ano-dead-waived"),
    # the failover gives back AO paths to a host that lost its AO group's: nothing lost
    pytest.param(set_paths(compliant(), "esx01", EUI1, "dead", tpg=1), EXP, set(), id="ao-group-dead"),
    pytest.param(compliant(), Expectation(to_tpg=1),
                 {(DANGER, "target-is-ao", h, d) for h in HOSTS for d in SCST}, id="to-tpg-is-ao"),
    pytest.param(lab(), EXP, {(DANGER, "psp", h, d) for h in HOSTS for d in SCST}, id="mru"),
    pytest.param(edit_host(compliant(), "esx02", connection_state="disconnected"), EXP,
                 {(UNKNOWN, "host-unverifiable", "esx02", None)}, id="disconnected"),
    pytest.param(edit_host(compliant(), "esx02", error="timeout"), EXP,
                 {(UNKNOWN, "host-unverifiable", "esx02", None)}, id="host-error"),
    pytest.param(drop_device(compliant(), "esx04", EUI2), EXP,
                 {(DANGER, "missing-lun", "esx04", EUI2)}, id="missing-lun"),
    pytest.param(compliant(), Expectation(to_tpg=7),
                 {(DANGER, "target-state", h, d) for h in HOSTS for d in SCST}, id="unknown-target-tpg"),
    pytest.param(edit_device(compliant(), "esx02", EUI1, mpp="HPP"), EXP,
                 {(UNKNOWN, "not-nmp", "esx02", EUI1)}, id="hpp-unverifiable"),
    pytest.param(edit_device(compliant(), "esx02", EUI1, operational_state=("degraded",)), EXP,
                 {(DANGER, "lun-state", "esx02", EUI1)}, id="lun-degraded"),
]


@pytest.mark.parametrize("inv,exp,expected", CHECK_CASES)
def test_check_table(inv, exp, expected):
    found = check(inv, SEL, POL, exp)
    assert keys(found) == expected
    for f in found:
        assert f.severity in (DANGER, UNKNOWN)
        if f.device:
            assert f.host in f.message and f.device in f.message


@pytest.mark.parametrize("inv,sel", [
    (Inventory(), SEL),
    (compliant(), Selector(vendors=("NOBODY",))),
    (compliant(), Selector(device_globs=("eui.none*",))),
])
def test_check_empty_scope_never_safe(inv, sel):
    found = check(inv, sel, POL, EXP)
    assert keys(found) == {(UNKNOWN, "empty-scope", None, None)}


def _set_group_state(inv, host, device, tpg, state):
    d = inv.host(host).device(device)
    return edit_device(inv, host, device,
                       tpgs=tuple(replace(g, state=state) if g.id == tpg else g for g in d.tpgs),
                       paths=tuple(replace(p, tpg_state=state) if p.tpg_id == tpg else p for p in d.paths))


def test_check_no_ano_group_needs_to_tpg():
    inv = compliant()
    for h in HOSTS:
        for d in SCST:
            inv = _set_group_state(inv, h, d, 2, TpgState.STANDBY)
    found = check(inv, SEL, POL, EXP)
    assert keys(found) == {(DANGER, "no-target", h, d) for h in HOSTS for d in SCST}
    # a standby group is not proven to take over: the gate refuses it, as audit calls it DANGER
    found = check(inv, SEL, POL, Expectation(to_tpg=2))
    assert keys(found) == {(DANGER, "target-state", h, d) for h in HOSTS for d in SCST}
    assert {(DANGER, "no-ano", h, d) for h in HOSTS for d in SCST} <= keys(audit(inv, SEL, POL, EXP))


def test_check_hosts_disagreeing_on_takeover_group_not_safe():
    inv = compliant()
    for d in SCST:  # esx03 already sees storage2 as AO: hosts disagree which group takes over
        inv = _set_group_state(inv, "esx03", d, 1, TpgState.ANO)
        inv = _set_group_state(inv, "esx03", d, 2, TpgState.AO)
    assert takeover_groups(inv, SEL) == {EUI1: None, EUI2: None}
    found = check(inv, SEL, POL, EXP)
    assert {f.code for f in found} == {"no-target", "alua-view"}
    assert {f.host for f in found} == set(HOSTS)
    assert {f.host for f in found if f.code == "alua-view"} == {"esx03"}
    # naming the group does not help: esx03's view is stale
    found = check(inv, SEL, POL, Expectation(to_tpg=2))
    assert {(f.code, f.host) for f in found} >= {("alua-view", "esx03"), ("target-is-ao", "esx03")}


def test_check_unavailable_target_group_not_safe():
    inv = _set_group_state(compliant(), "esx05", EUI1, 2, TpgState.UNAVAILABLE)
    found = check(inv, SEL, POL, Expectation(to_tpg=2))
    # the group's state is the reason; its paths then also do not count as live takeover paths
    assert (DANGER, "target-state", "esx05", EUI1) in keys(found)
    assert {(f.host, f.device) for f in found} == {("esx05", EUI1)}


# ---------------------------------------------------------------- after_failover

AFTER_CASES = [
    pytest.param(compliant(), Expectation(to_tpg=2),
                 {(DANGER, c, h, d) for c in ("not-ao-yet", "still-ao") for h in HOSTS
                  for d in SCST}, id="not-yet"),
    pytest.param(failed_over(), Expectation(to_tpg=2), set(), id="done"),
    pytest.param(failed_over(), Expectation(from_tpg=1), set(), id="done-from-1"),
    pytest.param(compliant(), Expectation(from_tpg=1),
                 {(DANGER, c, h, d) for c in ("not-ao-yet", "still-ao") for h in HOSTS
                  for d in SCST}, id="nothing-moved"),
    pytest.param(set_paths(failed_over(), "esx02", EUI1, "dead", tpg=2), Expectation(to_tpg=2),
                 {(DANGER, "target-paths", "esx02", EUI1)}, id="new-ao-dead"),
    pytest.param(edit_host(failed_over(), "esx02", connection_state="notResponding"),
                 Expectation(to_tpg=2), {(UNKNOWN, "host-unverifiable", "esx02", None)},
                 id="host-down"),
]


@pytest.mark.parametrize("inv,exp,expected", AFTER_CASES)
def test_after_failover_table(inv, exp, expected):
    assert keys(after_failover(inv, SEL, exp)) == expected


def test_after_failover_needs_a_group_and_names_only_the_lagging_hosts():
    inv = compliant()
    for d in SCST:
        inv = _set_group_state(inv, "esx03", d, 1, TpgState.ANO)
        inv = _set_group_state(inv, "esx03", d, 2, TpgState.AO)
    with pytest.raises(ValueError):  # "whatever is AO now" is never the answer
        after_failover(inv, SEL, EXP)
    for exp in (Expectation(to_tpg=2), Expectation(from_tpg=1)):
        found = after_failover(inv, SEL, exp)
        assert {f.host for f in found} == set(HOSTS) - {"esx03"}
        assert after_failover(failed_over(), SEL, exp) == ()


# ---------------------------------------------------------------- property: the gate is sound

PATH_STATES = ["active"] * 5 + ["standby", "dead", "disabled", "unknown"]
GROUP_STATES = [TpgState.AO, TpgState.ANO, TpgState.ANO, TpgState.AO, TpgState.STANDBY,
                TpgState.UNAVAILABLE, TpgState.UNKNOWN, TpgState.TRANSITIONING, TpgState.OFFLINE,
                TpgState.LBD]


def _device(name: str, master: int) -> Device:
    states = {g: TpgState.AO if g == master else TpgState.ANO for g in (1, 2)}
    paths = tuple(Path(name=f"{hba}-{g}-{name}", runtime_name=f"{hba}:C0:T{g - 1}:L1", adapter=hba,
                       state=PATH_ACTIVE, tpg_id=g, tpg_state=states[g])
                  for hba in ("vmhba2", "vmhba3") for g in (1, 2))
    return Device(canonical_name=name, vendor="SCST_BIO", paths=paths,
                  tpgs=tuple(TargetPortGroup(g, s) for g, s in states.items()),
                  policy=compliant().hosts[0].device(EUI1).policy)


def _edit_dev(host: Host, name: str, fn) -> Host:
    return replace(host, devices=tuple(fn(d) if d.canonical_name == name else d for d in host.devices))


def _regroup(d: Device, tpg: int, state: TpgState) -> Device:
    return replace(d, tpgs=tuple(replace(g, state=state) if g.id == tpg else g for g in d.tpgs),
                   paths=tuple(replace(p, tpg_state=state) if p.tpg_id == tpg else p for p in d.paths))


@st.composite
def estates(draw):
    """A healthy estate plus up to 4 random defects, so that examples sit at the boundary
    between safe and not safe (pure random path states are almost never safe)."""
    n_hosts = draw(st.integers(1, 4))
    master = draw(st.sampled_from([1, 2]))
    hosts = [Host(name=f"esx{i:02d}", devices=tuple(_device(n, master) for n in SCST))
             for i in range(1, n_hosts + 1)]
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, n_hosts - 1))
        name = draw(st.sampled_from(SCST))
        kind = draw(st.sampled_from(["path", "path", "path", "unzone", "group", "notpgs", "psp",
                                     "lag", "missing", "conn", "error", "pathtpg", "pathtpg",
                                     "hpp", "lunstate", "useano"]))
        h = hosts[i]
        if h.device(name) is None and kind not in ("lag", "conn", "error"):
            continue
        if kind in ("path", "unzone"):
            k = draw(st.integers(0, 3))
            state = draw(st.sampled_from(PATH_STATES[5:] + ["active"]))

            def fn(d, k=k, state=state, kind=kind):
                ps = list(d.paths)
                if k < len(ps):
                    if kind == "unzone":
                        del ps[k]
                    else:
                        ps[k] = replace(ps[k], state=state)
                return replace(d, paths=tuple(ps))
            h = _edit_dev(h, name, fn)
        elif kind == "pathtpg":  # one path reports its own ALUA state (issue 13, case 11)
            k, state = draw(st.integers(0, 3)), draw(st.sampled_from(GROUP_STATES))

            def fn(d, k=k, state=state):
                ps = list(d.paths)
                if k < len(ps):
                    ps[k] = replace(ps[k], tpg_state=state)
                return replace(d, paths=tuple(ps))
            h = _edit_dev(h, name, fn)
        elif kind == "hpp":
            h = _edit_dev(h, name, lambda d: replace(d, mpp="HPP"))
        elif kind == "lunstate":
            h = _edit_dev(h, name, lambda d: replace(d, operational_state=("lostCommunication",)))
        elif kind == "useano":
            h = _edit_dev(h, name, lambda d: replace(d, policy=replace(d.policy, use_ano=True)))
        elif kind == "group":
            tpg, state = draw(st.sampled_from([1, 2])), draw(st.sampled_from(GROUP_STATES))
            h = _edit_dev(h, name, lambda d: _regroup(d, tpg, state))
        elif kind == "notpgs":  # esxcli device config not read: states only from the paths
            h = _edit_dev(h, name, lambda d: replace(d, tpgs=()))
        elif kind == "psp":
            h = _edit_dev(h, name, lambda d: replace(d, policy=replace(d.policy, psp="VMW_PSP_MRU")))
        elif kind == "lag":  # this host alone saw (or missed) the failover
            h = replace(h, devices=tuple(_regroup(_regroup(d, 1, d.tpg_state(2)), 2, d.tpg_state(1))
                                         for d in h.devices))
        elif kind == "missing":
            h = replace(h, devices=tuple(d for d in h.devices if d.canonical_name != name))
        elif kind == "conn":
            h = replace(h, connection_state=draw(st.sampled_from(["disconnected", "notResponding"])))
        else:
            h = replace(h, error="esxcli failed")
        hosts[i] = h
    exp = Expectation(to_tpg=draw(st.sampled_from([None, None, 1, 2, 3])),
                      min_paths=draw(st.integers(0, 3)), allow_redundancy_loss=draw(st.booleans()))
    return Inventory(tuple(hosts)), exp


def _alive(p) -> bool:
    # written apart from Path.live: ESXi can send I/O on active and standby paths; an offline
    # group is a stopped node
    return p.state in ("active", "standby") and p.tpg_state != TpgState.OFFLINE


def _count(dev: Device, state: TpgState, tpg: int | None = None) -> int:
    return sum(1 for p in dev.paths if _alive(p) and p.tpg_state == state
               and (tpg is None or p.tpg_id == tpg))


def gate_violations(inv: Inventory, exp: Expectation) -> list[str]:
    """Why this estate must not be called safe (the rule restated apart from gate.py): on every
    host, the takeover group must not be AO now and must keep at least max(--min-paths, the AO
    paths now) paths that report ANO themselves."""
    why = []
    names = {d.canonical_name for h in inv.hosts for d in h.devices if SEL.matches(d)}
    if not inv.hosts or not names:
        why.append("empty scope")
    ano_groups, ao_groups = set(), set()
    for h in inv.hosts:
        for d in h.devices:
            for g in (1, 2, 3):
                if d.tpg_state(g) == TpgState.ANO:
                    ano_groups.add((d.canonical_name, g))
                if d.tpg_state(g) == TpgState.AO:
                    ao_groups.add((d.canonical_name, g))
    for h in inv.hosts:
        if h.connection_state != "connected" or h.error:
            why.append(f"{h.name} unverifiable")
            continue
        for name in sorted(names):
            d = h.device(name)
            if d is None:
                why.append(f"{h.name} {name} missing")
                continue
            if d.policy.psp != "VMW_PSP_RR" or d.mpp != "NMP":
                why.append(f"{h.name} {name} not RR under NMP")
            if d.operational_state != ("ok",):
                why.append(f"{h.name} {name} LUN {d.operational_state}")
            target = exp.to_tpg
            if target is None:
                cands = {g for n, g in ano_groups - ao_groups if n == name}
                target = cands.pop() if len(cands) == 1 else None
            if target is None:
                why.append(f"{name} no single takeover group")
                continue
            if _count(d, TpgState.AO, target) or d.tpg_state(target) == TpgState.AO:
                why.append(f"{h.name} {name} TPG {target} is AO now")
            need = max(1, exp.min_paths, 0 if exp.allow_redundancy_loss else _count(d, TpgState.AO))
            if _count(d, TpgState.ANO, target) < need:
                why.append(f"{h.name} {name} has {_count(d, TpgState.ANO, target)} of {need}"
                           f" takeover paths to TPG {target}")
    return why


def assert_gate_sound(gate, inv: Inventory, exp: Expectation) -> None:
    found = gate(inv, SEL, POL, exp)
    if not [f for f in found if f.severity > OK]:
        assert gate_violations(inv, exp) == [], "gate said safe"


def test_oracle_refutes_a_lax_gate():
    # the property below can fail: a gate that always says safe is caught on the lab case
    def lax(*_):
        return ()

    assert gate_violations(both_ano_dead(), EXP) == [f"esx03 {EUI2} has 0 of 2 takeover paths to TPG 2"]
    with pytest.raises(AssertionError, match="gate said safe"):
        assert_gate_sound(lax, both_ano_dead(), EXP)
    assert gate_violations(compliant(), EXP) == []


def test_generator_reaches_safe_multi_host_estates():
    # otherwise the soundness property would hold vacuously
    inv, exp = find(estates(), lambda c: len(c[0].hosts) >= 3 and c[1].min_paths >= 2
                    and not [f for f in check(c[0], SEL, POL, c[1]) if f.severity > OK],
                    settings=settings(max_examples=2000, database=None))
    assert gate_violations(inv, exp) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_check_never_safe_when_a_host_lacks_live_takeover_paths(case):
    assert_gate_sound(check, *case)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_after_failover_done_only_when_target_ao_with_live_paths(case):
    inv, exp = case
    if exp.to_tpg is None:
        exp = replace(exp, from_tpg=1)
    if after_failover(inv, SEL, exp):
        return
    names = {d.canonical_name for h in inv.hosts for d in h.devices if SEL.matches(d)}
    assert inv.hosts and names
    for h in inv.hosts:
        assert h.connection_state == "connected" and h.error is None
        for name in names:
            d = h.device(name)
            assert d is not None
            groups = [g for g in (1, 2, 3) if d.tpg_state(g) == TpgState.AO and _count(d, TpgState.AO, g)]
            if exp.to_tpg is not None:
                assert exp.to_tpg in groups
            else:
                assert groups and exp.from_tpg not in groups


@settings(max_examples=200, deadline=None)
@given(estates())
def test_audit_never_ok_with_dead_path_or_unreadable_host(case):
    inv, _ = case
    found = audit(inv, SEL, POL, EXP)
    bad = any(h.connection_state != "connected" or h.error for h in inv.hosts) or any(
        p.state not in ("active", "standby") for h in inv.hosts for d in h.devices for p in d.paths)
    if bad:
        assert worst(found) >= DANGER


def test_check_paths_reported_unavailable_do_not_count_as_takeover_paths():
    # TPG 2 is ANO as a group, but one of its paths reports UNAV and the other is dead:
    # the multipath layer may still call the UNAV one "standby"; it cannot carry I/O.
    inv = compliant()
    d = inv.host("esx02").device(EUI1)
    paths, first = [], True
    for p in d.paths:
        if p.tpg_id == 2:
            p = replace(p, tpg_state=TpgState.UNAVAILABLE, state="standby") if first \
                else replace(p, state="dead")
            first = False
        paths.append(p)
    inv = edit_device(inv, "esx02", EUI1, paths=tuple(paths))
    found = check(inv, SEL, POL, EXP)
    assert (DANGER, "target-paths", "esx02", EUI1) in keys(found)
