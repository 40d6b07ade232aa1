"""plan(): table-driven over device policies, scopes and host states; verify_applied on the result."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from esxpath.core.model import (
    CHANGE_PSP,
    CHANGE_RR_LIMIT,
    CHANGE_SATP_RULE,
    Inventory,
    Plan,
    Policy,
    SatpRule,
    Selector,
    Severity,
)
from esxpath.core.plan import plan
from esxpath.core.verify import verify_applied

from factory import (EUI1, EUI2, HOSTS, MPX, NAA, SCST, compliant, edit_device, edit_host, edit_policy,
                     lab)

RR, MRU = "VMW_PSP_RR", "VMW_PSP_MRU"
SEL = Selector()
IOPS1 = Policy()
LATENCY = Policy(limit_type="latency", iops=None)


def kinds(p: Plan, host: str = "esx01", device: str = EUI1) -> list[str]:
    return [c.kind for c in p.changes if c.host == host and c.device == device]


def apply_to(inv: Inventory, p: Plan) -> Inventory:
    """What a perfect writer would leave behind (stand-in for the vSphere adapter)."""
    for c in p.changes:
        params = dict(c.params)
        if c.kind == CHANGE_PSP:
            inv = edit_policy(inv, c.host, c.device, psp=params["psp"])
        elif c.kind == CHANGE_RR_LIMIT:
            iops = int(params["iops"]) if "iops" in params else None
            inv = edit_policy(inv, c.host, c.device, limit_type=params["type"], iops=iops)
        else:
            rule = SatpRule(satp=params["satp"], vendor=params["vendor"], psp=params["psp"],
                            psp_options=params["pspoption"], claim_options=params["claimoption"],
                            description=params["description"], rule_group="user")
            inv = edit_host(inv, c.host, satp_rules=inv.host(c.host).satp_rules + (rule,))
    return inv


def test_compliant_estate_gives_empty_plan():
    p = plan(compliant(), SEL, IOPS1)
    assert p.empty and p.changes == () and p.skipped_hosts == ()


def test_mru_estate_plans_psp_and_limit_only_for_scst_eui_devices():
    p = plan(lab(), SEL, IOPS1)
    assert {c.device for c in p.changes} == set(SCST)
    assert {c.host for c in p.changes} == set(HOSTS)
    assert len(p.changes) == len(HOSTS) * len(SCST) * 2
    psp = [c for c in p.changes if c.kind == CHANGE_PSP]
    limit = [c for c in p.changes if c.kind == CHANGE_RR_LIMIT]
    assert {(c.before, c.after, c.params) for c in psp} == {(MRU, RR, (("psp", RR),))}
    assert {(c.before, c.after, c.params) for c in limit} == {
        ("default (iops 1000)", "iops 1", (("type", "iops"), ("iops", "1")))}


# (device psp, limit_type, iops, policy) -> expected kinds and the limit change's before text
DEVICE_CASES = [
    pytest.param(MRU, "default", 1000, IOPS1, [CHANGE_PSP, CHANGE_RR_LIMIT], "default (iops 1000)", id="mru"),
    pytest.param("VMW_PSP_FIXED", None, None, IOPS1, [CHANGE_PSP, CHANGE_RR_LIMIT],
                 "RR default (now VMW_PSP_FIXED)", id="fixed-no-limit"),
    pytest.param(None, None, None, IOPS1, [CHANGE_PSP, CHANGE_RR_LIMIT], "unknown", id="psp-unknown"),
    pytest.param(RR, "iops", 1000, IOPS1, [CHANGE_RR_LIMIT], "iops 1000", id="rr-iops-1000"),
    pytest.param(RR, "default", 1000, IOPS1, [CHANGE_RR_LIMIT], "default (iops 1000)", id="rr-default"),
    pytest.param(RR, "default", 1, IOPS1, [CHANGE_RR_LIMIT], "default (iops 1)", id="rr-default-type-not-iops"),
    pytest.param(RR, "bytes", 1000, IOPS1, [CHANGE_RR_LIMIT], "bytes 10485760", id="rr-bytes"),
    pytest.param(RR, "latency", None, IOPS1, [CHANGE_RR_LIMIT], "latency", id="rr-latency-want-iops"),
    pytest.param(RR, None, None, IOPS1, [CHANGE_RR_LIMIT], "unknown", id="rr-limit-unread"),
    pytest.param(RR, "iops", 1, IOPS1, [], None, id="rr-iops-1-compliant"),
    pytest.param(RR, "iops", 5, Policy(iops=5), [], None, id="rr-iops-5-wanted"),
    pytest.param(RR, "iops", 1, LATENCY, [CHANGE_RR_LIMIT], "iops 1", id="want-latency"),
    pytest.param(RR, "latency", None, LATENCY, [], None, id="latency-compliant"),
    pytest.param(RR, "iops", 1, Policy(psp=MRU), [CHANGE_PSP], None, id="policy-not-rr-no-limit"),
]


@pytest.mark.parametrize("psp,limit_type,iops,policy,expected,before", DEVICE_CASES)
def test_device_policy_table(psp, limit_type, iops, policy, expected, before):
    inv = edit_policy(compliant(), "esx01", EUI1, psp=psp, limit_type=limit_type, iops=iops)
    p = plan(inv, SEL, policy)
    if policy == IOPS1:  # every other device is compliant with the default policy
        assert {(c.host, c.device) for c in p.changes} <= {("esx01", EUI1)}
    assert kinds(p) == expected
    limit = [c for c in p.changes if c.kind == CHANGE_RR_LIMIT and c.device == EUI1
             and c.host == "esx01"]
    if before is not None:
        assert limit[0].before == before
        assert limit[0].params == (
            (("type", "iops"), ("iops", str(policy.iops))) if policy.limit_type == "iops"
            else (("type", "latency"),))
        assert limit[0].after == ("latency" if policy.limit_type == "latency" else f"iops {policy.iops}")


SCOPE_CASES = [
    pytest.param(Selector(), set(SCST), id="default"),
    pytest.param(Selector(device_globs=(EUI1,)), {EUI1}, id="one-device"),
    pytest.param(Selector(device_globs=("eui.31633931616*",)), {EUI1}, id="glob"),
    pytest.param(Selector(vendors=("SCST_FIO",)), set(), id="other-vendor"),
    pytest.param(Selector(device_globs=("naa.*",)), set(), id="naa-glob-but-netapp-vendor"),
    pytest.param(Selector(device_globs=("*",)), set(SCST), id="all-names-scst-vendor"),
    pytest.param(Selector(device_globs=("*",), vendors=("SCST_BIO", "NETAPP", "ATA")),
                 set(SCST) | {NAA}, id="netapp-only-when-asked-local-never"),
]


@pytest.mark.parametrize("selector,expected", SCOPE_CASES)
def test_out_of_scope_devices_never_planned(selector, expected):
    p = plan(lab(), selector, IOPS1)
    assert {c.device for c in p.changes} == expected
    assert MPX not in {c.device for c in p.changes}


@pytest.mark.parametrize("change", [
    {"connection_state": "disconnected"},
    {"connection_state": "notResponding"},
    {"error": "esxcli: SystemError"},
])
def test_unverifiable_host_is_skipped_not_planned(change):
    inv = edit_host(lab(), "esx02", **change)
    p = plan(inv, SEL, IOPS1)
    assert p.skipped_hosts == ("esx02",)
    assert "esx02" not in {c.host for c in p.changes}
    assert {c.host for c in p.changes} == set(HOSTS) - {"esx02"}


def test_order_is_deterministic_host_device_kind():
    inv = lab()
    shuffled = list(inv.hosts)
    random.Random(4).shuffle(shuffled)
    shuffled = [replace(h, devices=tuple(reversed(h.devices))) for h in shuffled]
    a = plan(inv, SEL, Policy(claim_rule=True))
    b = plan(Inventory(tuple(shuffled)), SEL, Policy(claim_rule=True))
    assert a == b
    keys = [(c.host, c.device is None, c.device or "", c.kind) for c in a.changes]
    assert keys == sorted(keys)
    # the PSP must be set before its RR limit
    assert kinds(a) == [CHANGE_PSP, CHANGE_RR_LIMIT]


GOOD_RULE = SatpRule(satp="VMW_SATP_ALUA", vendor="SCST_BIO", psp=RR, psp_options="iops=1",
                     claim_options="tpgs_on", rule_group="user")

RULE_CASES = [
    pytest.param((), {"SCST_BIO", "SCST_FIO"}, id="none"),
    pytest.param((GOOD_RULE,), {"SCST_FIO"}, id="bio-exists"),
    pytest.param((GOOD_RULE, replace(GOOD_RULE, vendor="SCST_FIO")), set(), id="both-exist"),
    pytest.param((replace(GOOD_RULE, model="SSD-RAID6-1"),), {"SCST_BIO", "SCST_FIO"},
                 id="model-specific-does-not-count"),
    pytest.param((replace(GOOD_RULE, psp_options="iops=1000"),), {"SCST_BIO", "SCST_FIO"},
                 id="other-iops"),
    pytest.param((replace(GOOD_RULE, psp=MRU),), {"SCST_BIO", "SCST_FIO"}, id="other-psp"),
    pytest.param((replace(GOOD_RULE, claim_options=""),), {"SCST_BIO", "SCST_FIO"},
                 id="without-tpgs_on"),
    pytest.param((replace(GOOD_RULE, satp="VMW_SATP_DEFAULT_AA"),), {"SCST_BIO", "SCST_FIO"},
                 id="other-satp"),
]


@pytest.mark.parametrize("rules,expected_vendors", RULE_CASES)
def test_claim_rule_per_host_per_vendor_unless_equivalent_exists(rules, expected_vendors):
    inv = compliant()
    for h in HOSTS:
        inv = edit_host(inv, h, satp_rules=rules)
    p = plan(inv, SEL, Policy(claim_rule=True))
    for h in HOSTS:
        rules_planned = [c for c in p.for_host(h) if c.kind == CHANGE_SATP_RULE]
        assert {dict(c.params)["vendor"] for c in rules_planned} == expected_vendors
        assert all(c.device is None for c in rules_planned)
    assert all(c.kind == CHANGE_SATP_RULE for c in p.changes)


def test_claim_rule_params_and_no_rule_without_flag():
    p = plan(compliant(), Selector(vendors=("SCST_BIO",)), Policy(claim_rule=True))
    assert [c.params for c in p.for_host("esx01")] == [(
        ("satp", "VMW_SATP_ALUA"), ("vendor", "SCST_BIO"), ("psp", RR), ("pspoption", "iops=1"),
        ("claimoption", "tpgs_on"), ("description", "esxpath: SCST ALUA round robin"))]
    assert plan(compliant(), SEL, Policy(claim_rule=False)).empty


@pytest.mark.parametrize("policy", [IOPS1, LATENCY, Policy(claim_rule=True),
                                    Policy(limit_type="latency", iops=None, claim_rule=True)])
def test_applied_plan_verifies_and_replans_empty(policy):
    inv = lab()
    p = plan(inv, SEL, policy)
    assert not p.empty
    after = apply_to(inv, p)
    assert verify_applied(after, p) == ()
    assert plan(after, SEL, policy).empty


def test_changes_that_did_not_take_are_drift_and_unread_hosts_unknown():
    inv = lab()
    p = plan(inv, SEL, Policy(claim_rule=True))
    after = apply_to(inv, p)
    after = edit_policy(after, "esx01", EUI2, psp=MRU)  # the PSP write was lost
    after = edit_policy(after, "esx03", EUI1, limit_type="iops", iops=1000)
    after = edit_host(after, "esx04", satp_rules=())
    after = edit_host(after, "esx05", connection_state="disconnected")
    found = {(f.severity, f.host, f.device, f.code) for f in verify_applied(after, p)}
    expected = {
        (Severity.DRIFT, "esx01", EUI2, "not-applied"),
        (Severity.DRIFT, "esx03", EUI1, "not-applied"),
        (Severity.DRIFT, "esx04", None, "not-applied"),
    } | {(Severity.UNKNOWN, "esx05", c.device, "not-verified") for c in p.for_host("esx05")}
    assert found == expected
    # one finding per change: esx01 PSP, esx03 limit, esx04 two rules, every esx05 change
    assert len(verify_applied(after, p)) == 1 + 1 + 2 + len(p.for_host("esx05"))


def test_verify_applied_device_gone():
    p = plan(lab(), SEL, IOPS1)
    after = apply_to(lab(), p)
    h = after.host("esx02")
    after = edit_host(after, "esx02", devices=tuple(d for d in h.devices if d.canonical_name != EUI1))
    found = verify_applied(after, p)
    assert {(f.host, f.device) for f in found} == {("esx02", EUI1)}
    assert all("device gone" in f.message for f in found)


def test_use_ano_is_not_compliant_and_apply_turns_it_off():
    # RR with useANO=1 sends I/O through the non-optimized controller (the article's collapse)
    inv = edit_policy(compliant(), "esx02", EUI1, use_ano=True)
    p = plan(inv, Selector(), Policy())
    assert [(c.host, c.device, c.kind, c.before, c.params) for c in p.changes] == [
        ("esx02", EUI1, CHANGE_RR_LIMIT, "iops 1, useANO=1",
         (("type", "iops"), ("iops", "1"), ("useano", "false")))]


def test_hpp_devices_are_never_planned():
    inv = edit_device(lab(), "esx01", EUI1, mpp="HPP")
    p = plan(inv, Selector(), Policy())
    assert not [c for c in p.changes if (c.host, c.device) == ("esx01", EUI1)]
    assert [c for c in p.changes if (c.host, c.device) == ("esx01", EUI2)]


def test_results_after_an_interrupted_or_lost_run():
    """Never sent: its result alone, no not-applied finding (issue 23, item 6); an unknown write
    that the re-read shows in effect is confirmed; one the re-read misses stays unknown."""
    from esxpath.core.model import ChangeResult
    from esxpath.core.verify import not_reread, settle
    inv = lab()
    p = plan(inv, SEL, IOPS1)
    first, lost, unsent = p.for_host("esx01")[0], p.for_host("esx01")[1], p.for_host("esx02")
    results = tuple([ChangeResult(first, ok=True), ChangeResult(lost, ok=False, unknown=True)]
                    + [ChangeResult(c, ok=False, sent=False, error="not written: x") for c in unsent])
    assert [r.outcome for r in results[:3]] == ["applied", "unknown", "not-written"]
    nothing_done = inv
    found = verify_applied(nothing_done, p, results)
    assert not {(f.host, f.device) for f in found} & {("esx02", c.device) for c in unsent}
    assert ("esx01", lost.device, "not-applied") in {(f.host, f.device, f.code) for f in found}
    assert [r.outcome for r in settle(results, nothing_done)][:2] == ["applied", "unknown"]
    done = apply_to(inv, Plan(changes=(first, lost)))
    assert settle(results, done)[1].outcome == "confirmed"
    gone = not_reread(inv, "vCenter is gone")
    assert all(h.error == "not re-read after the writes: vCenter is gone" for h in gone.hosts)
    assert {f.code for f in verify_applied(gone, p, results)} == {"not-verified"}


def test_a_host_left_alone_says_why():
    from esxpath.core.verify import skipped_hosts
    inv = edit_host(lab(), "esx03", error="esxcli failed: session not accepted")
    inv = edit_host(inv, "esx04", connection_state="disconnected")
    p = plan(inv, SEL, IOPS1)
    found = {f.host: (f.severity, f.code, f.message) for f in skipped_hosts(inv, p)}
    assert set(found) == {"esx03", "esx04"}
    assert found["esx03"][:2] == (Severity.UNKNOWN, "host-skipped")
    assert "session not accepted" in found["esx03"][2] and "disconnected" in found["esx04"][2]
