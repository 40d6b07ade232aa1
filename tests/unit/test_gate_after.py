"""The rule after the move (gate_after.py): the old group still AO, the baseline's redundancy,
views among switched hosts, open APD/PDL; the baseline document; TPG names. Pure."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esxpath.core import storage_events as se
from esxpath.core.gate_after import (Baseline, BaselineError, Before, after_failover, ao_tpg,
                                parse_baseline)
from esxpath.core.model import Expectation, Inventory, Report, Selector, Severity, TpgState
from esxpath.render.output import render
from esxpath.core.tpg_names import merge, parse_node_tpg, relabel
from esxpath.san.view import tpg_nodes

from factory import EUI1, EUI2, HOSTS, SCST, compliant, edit_device, edit_host, set_paths
from test_verify import _alive, _set_group_state, estates, failed_over, keys

SEL = Selector()
DANGER, UNKNOWN = Severity.DANGER, Severity.UNKNOWN
TO2 = Expectation(to_tpg=2)
T0 = datetime(2026, 12, 7, 23, 0, tzinfo=timezone.utc)


def baseline_of(inv: Inventory) -> Baseline:
    """What `check -o json` printed for this estate, read back as a baseline."""
    doc = json.loads(render(Report(command="check", inventory=inv), "json"))
    return parse_baseline(doc, "before.json")


# ---------------------------------------------------------------- item 1: old group still AO

def test_a_host_with_both_groups_ao_is_not_complete_and_only_it_is_named():
    inv = failed_over()
    for d in SCST:
        inv = _set_group_state(inv, "esx03", d, 1, TpgState.AO)
    for exp in (TO2, Expectation(from_tpg=1)):
        found = after_failover(inv, SEL, exp)
        assert keys(found) == {(DANGER, "still-ao", "esx03", d) for d in SCST}, found
        assert all("TPG 1 is still AO beside TPG 2" in f.message for f in found)


def test_one_path_of_the_old_group_still_reporting_ao_is_still_ao():
    inv = failed_over()
    d = inv.host("esx02").device(EUI1)
    p = next(p for p in d.paths if p.tpg_id == 1)
    paths = tuple(replace(q, tpg_state=TpgState.AO) if q is p else q for q in d.paths)
    found = after_failover(edit_device(inv, "esx02", EUI1, paths=paths), SEL, TO2)
    assert (DANGER, "still-ao", "esx02", EUI1) in keys(found)


def test_one_path_reporting_ao_does_not_make_the_new_group_ao():
    """The new group is AO by its own state; a live path that says AO while the group says
    standby (the device's TPG list, or most of its paths) is not a finished move."""
    inv = _set_group_state(failed_over(), "esx02", EUI1, 2, TpgState.STANDBY)
    d = inv.host("esx02").device(EUI1)
    p = next(p for p in d.paths if p.tpg_id == 2)
    paths = tuple(replace(q, tpg_state=TpgState.AO) if q is p else q for q in d.paths)
    found = after_failover(edit_device(inv, "esx02", EUI1, paths=paths), SEL, TO2)
    assert (DANGER, "not-ao-yet", "esx02", EUI1) in keys(found), found


# ---------------------------------------------------------------- item 2: the baseline

def test_baseline_round_trips_the_ao_group_and_live_ao_paths():
    base = baseline_of(compliant())
    assert base.devices[("", "esx03", EUI1)] == Before(ao_tpg=1, ao_paths=2)
    assert len(base.devices) == len(HOSTS) * len(SCST)
    assert ao_tpg(failed_over().host("esx01").device(EUI1)) == 2


def test_a_new_ao_path_dead_is_lost_redundancy_against_the_baseline():
    base = baseline_of(compliant())
    inv = set_paths(failed_over(), "esx03", EUI1, "dead", tpg=2, adapter="vmhba2")
    found = after_failover(inv, SEL, TO2, baseline=base)
    assert keys(found) == {(DANGER, "redundancy", "esx03", EUI1)}
    assert "1 live AO path(s), fewer than the 2" in found[0].message
    assert after_failover(inv, SEL, replace(TO2, allow_redundancy_loss=True), baseline=base) == ()
    assert after_failover(inv, SEL, TO2) == ()  # without a baseline: not judged (CLI says so)
    # --min-paths still holds with the waiver
    waived = replace(TO2, allow_redundancy_loss=True, min_paths=2)
    assert keys(after_failover(inv, SEL, waived, baseline=base)) == \
        {(DANGER, "target-paths", "esx03", EUI1)}


def test_a_host_in_maintenance_mode_is_judged_and_marked():
    base = baseline_of(compliant())
    inv = set_paths(edit_host(failed_over(), "esx02", maintenance=True), "esx02", EUI2, "dead",
                    tpg=2, adapter="vmhba3")
    [f] = after_failover(inv, SEL, TO2, baseline=base)
    assert f.code == "redundancy" and f.message.startswith(f"esx02 (maintenance mode) {EUI2}:")


def test_a_host_the_baseline_lacks_cannot_be_verified():
    base = baseline_of(edit_host(compliant(), "esx04", error="esxcli failed"))
    found = after_failover(failed_over(), SEL, TO2, baseline=base)
    assert keys(found) == {(UNKNOWN, "baseline-missing", "esx04", d) for d in SCST}


def test_a_baseline_that_already_had_the_target_ao_is_no_move():
    found = after_failover(failed_over(), SEL, TO2, baseline=baseline_of(failed_over()))
    assert {f.code for f in found} == {"not-moved"}


GOOD = json.loads(render(Report(command="check", inventory=compliant()), "json"))


@pytest.mark.parametrize("doc,words", [
    ([], "not an esxpath report"),
    ({**GOOD, "schema": "esxpath/timeline/1"}, "not an esxpath report"),
    ({**GOOD, "command": "audit"}, "a report of `audit`"),
    ({**GOOD, "hosts": {}}, "no hosts list"),
    ({**GOOD, "hosts": [{"name": "esx01", "connection_state": "connected", "error": None,
                         "devices": [{"name": EUI1, "ao_tpg": 1}]}]}, "no ao_tpg/ao_paths"),
    ({**GOOD, "hosts": [{"name": "esx01", "connection_state": "connected", "error": None,
                         "devices": [{"name": EUI1, "ao_tpg": 1, "ao_paths": True}]}]},
     "no ao_tpg/ao_paths"),
])
def test_a_document_that_is_no_check_baseline_is_refused_naming_the_file(doc, words):
    with pytest.raises(BaselineError, match=words) as e:
        parse_baseline(doc, "x.json")
    assert "--baseline x.json" in str(e.value) and e.value.status == 78


# ---------------------------------------------------------------- views among switched hosts

def test_a_switched_host_is_not_stale_because_the_others_lag():
    inv = compliant()
    for d in SCST:  # esx03 switched first
        inv = _set_group_state(_set_group_state(inv, "esx03", d, 1, TpgState.ANO),
                               "esx03", d, 2, TpgState.AO)
    assert {f.host for f in after_failover(inv, SEL, TO2)} == set(HOSTS) - {"esx03"}


def test_a_switched_host_that_sees_the_old_group_otherwise_is_named():
    inv = _set_group_state(failed_over(), "esx05", EUI2, 1, TpgState.STANDBY)
    assert keys(after_failover(inv, SEL, TO2)) == {(DANGER, "alua-view", "esx05", EUI2)}


# ---------------------------------------------------------------- APD / PDL

def window(*events, hosts=HOSTS, error=None) -> se.StorageWindow:
    return se.build_window(events, T0, T0 + timedelta(seconds=60), hosts=hosts, error=error)


def ev(sec: int, type_id: str, device: str = EUI1, host: str = "esx02") -> se.StorageEvent:
    return se.StorageEvent(host=host, time=T0 + timedelta(seconds=sec), type=type_id,
                           device=device)


@pytest.mark.parametrize("events,expected", [
    ((ev(5, se.APD_START),), {(DANGER, "apd-open", "esx02", EUI1)}),
    ((ev(5, se.CONNECTIVITY_LOST),), {(DANGER, "apd-open", "esx02", EUI1)}),
    ((ev(5, se.APD_START), ev(9, se.APD_EXIT)), set()),
    ((ev(5, se.PERMANENT_LOSS, EUI2),), {(DANGER, "pdl", "esx02", EUI2)}),
    ((ev(5, se.APD_START, "naa.600a098038303053453f463045727a4d"),), set()),  # not in scope
    ((ev(5, se.REDUNDANCY_DEGRADED),), set()),  # the paths decide that (with the baseline)
])
def test_open_apd_or_device_loss_is_not_complete(events, expected):
    assert keys(after_failover(failed_over(), SEL, TO2, storage=window(*events))) == expected


def test_unreadable_events_cannot_rule_out_apd():
    found = after_failover(failed_over(), SEL, TO2, storage=window(error="NoPermission"))
    assert keys(found) == {(UNKNOWN, "storage-events-unread", None, None)}


# ---------------------------------------------------------------- the promise, as a property

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates(), st.lists(st.integers(0, 4), min_size=10, max_size=10))
def test_complete_only_when_target_alone_ao_with_baseline_paths(case, before):
    """Restated apart from gate_after.py: complete => on every host and device, T is the only
    group AO (by state or a live path) and has >= max(1, --min-paths, baseline) live AO paths."""
    inv, exp = case
    exp = replace(exp, to_tpg=exp.to_tpg or 2)
    base = Baseline("b", {("", h.name, d): Before(1, n) for h, row in
                          zip(inv.hosts, zip(before[::2], before[1::2])) for d, n in zip(SCST, row)})
    if after_failover(inv, SEL, exp, baseline=base):
        return
    names = {d.canonical_name for h in inv.hosts for d in h.devices if SEL.matches(d)}
    for h in inv.hosts:
        for name in names:
            d = h.device(name)
            live = {g: sum(1 for p in d.paths if _alive(p) and p.tpg_id == g
                           and p.tpg_state == TpgState.AO) for g in (1, 2, 3)}
            ao = {g for g in (1, 2, 3) if live[g] or d.tpg_state(g) == TpgState.AO}
            assert ao == {exp.to_tpg}, (h.name, name, ao)
            floor = 0 if exp.allow_redundancy_loss else base.get(h, name).ao_paths
            assert live[exp.to_tpg] >= max(1, exp.min_paths, floor)


# ---------------------------------------------------------------- names

def test_node_tpg_specs_and_relabel():
    names = parse_node_tpg(["storage1=1", "storage2 = 2", "storage2=2"])
    assert names == {1: "storage1", 2: "storage2"}
    assert relabel("TPG 2 has 1 live AO path(s); TPG 1 is still AO", names) == \
        "TPG 2 (storage2) has 1 live AO path(s); TPG 1 (storage1) is still AO"
    assert relabel("TPG 2 (storage2) is AO; TPG 7 too", names) == "TPG 2 (storage2) is AO; TPG 7 too"
    assert relabel("takeover group local (TPG 2)", names) == "takeover group local (TPG 2)"
    for bad in (["storage1"], ["storage1=x"], ["storage1=1", "storage1=2"], ["a=1", "b=1"]):
        with pytest.raises(ValueError, match="--node-tpg"):
            parse_node_tpg(bad)


def test_names_from_san_and_a_clash_with_node_tpg():
    from esxpath.san.view import (SanDeviceGroup, SanGroupTarget, SanNode, SanTargetGroup)

    def node(name: str, own: int) -> SanNode:
        tgs = tuple(SanTargetGroup(f"g{g}", g, "active",
                                   (SanGroupTarget(f"t{g}", g, g == own, True),)) for g in (1, 2))
        return SanNode("f", name, 0, "promoted", (), (SanDeviceGroup("dg", (), tgs),), ())
    san = tpg_nodes([node("storage1", 1), node("storage2", 2)])
    assert san == {1: "storage1", 2: "storage2"}
    names, clash = merge({2: "storage1"}, san)
    assert names[2] == "storage1" and [f.code for f in clash] == ["node-names"]
    assert merge({2: "storage2"}, san) == (san, [])


def test_generator_reaches_complete_estates_with_a_baseline():
    from hypothesis import find
    inv, exp = find(estates(), lambda c: len(c[0].hosts) >= 3 and c[1].min_paths >= 2
                    and not after_failover(c[0], SEL, replace(c[1], to_tpg=2),
                                           baseline=baseline_of(compliant_of(c[0]))),
                    settings=settings(max_examples=3000, database=None))
    assert inv.hosts


def compliant_of(inv: Inventory) -> Inventory:
    """The same hosts before the move: TPG 1 AO with its two paths."""
    return Inventory(tuple(replace(h, devices=tuple(
        _flip(d) for d in h.devices)) for h in inv.hosts))


def _flip(d):
    from esxpath.core.model import TargetPortGroup
    return replace(d, tpgs=(TargetPortGroup(1, TpgState.AO), TargetPortGroup(2, TpgState.ANO)),
                   paths=tuple(replace(p, state="active", tpg_state=TpgState.AO if p.tpg_id == 1
                                       else TpgState.ANO) for p in d.paths))
