"""apply_changes against the simulator: PSP through the typed API, RR limit and SATP rules
through esxcli, transient faults retried, failures isolated per change."""
import pytest

from esxpath.errors import EsxcliFault
from esxpath.core.model import CHANGE_PSP, CHANGE_RR_LIMIT, Change, Policy, Scope, Selector
from esxpath.core.plan import plan
from esxpath.vsphere import Esxcli, apply_changes, read_inventory
from seedlab import NAA, SCST

pytestmark = pytest.mark.sim



def short(name):
    return name.split(".", 1)[0]


def test_apply_then_reread_shows_rr_iops_1(lab, session):
    inv = read_inventory(session, Scope(), Selector())
    the_plan = plan(inv, Selector(), Policy())
    assert len(the_plan.changes) == 5 * 2 * 2  # per host and SCST LUN: PSP and limit
    lab.post("/stats/reset")
    results = apply_changes(session, inv, the_plan.changes)
    assert [r.change for r in results] == list(the_plan.changes)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    # the writes, and per host one lookup of its storage system (Fetch) and of its executer
    assert lab.get("/stats")["calls"] == {"SetMultipathLunPolicy": 10, "ExecuteSoap": 10,
                                          "Fetch": 5, "RetrieveManagedMethodExecuter": 5}

    after = read_inventory(session, Scope())
    for h in after.hosts:
        for name in SCST:
            p = h.device(name).policy
            assert (p.psp, p.limit_type, p.iops) == ("VMW_PSP_RR", "iops", 1)
        assert h.device(NAA).policy.iops == 1000  # foreign LUN untouched
    writes = lab.get("/stats")["writes"]
    assert writes and {w["device"] for w in writes} == set(SCST)
    assert sorted(w["what"] for w in writes).count("psp") == 10
    assert plan(read_inventory(session, Scope(), Selector()), Selector(), Policy()).empty


def test_transient_faults_on_set_psp_are_retried(lab, session):
    inv = read_inventory(session, Scope(hosts=("esx01",)), Selector())
    changes = [c for c in plan(inv, Selector(), Policy()).changes if c.kind == CHANGE_PSP]
    lab.post("/stats/reset")
    lab.post("/faults", {"method": "SetMultipathLunPolicy", "count": 2, "fault": "HostCommunication"})
    results = apply_changes(session, inv, changes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert lab.get("/stats")["calls"]["SetMultipathLunPolicy"] == len(changes) + 2
    state = lab.get("/state")["hosts"]["esx01"]["devices"]
    assert all(state[name]["psp"] == "VMW_PSP_RR" for name in SCST)


def test_one_failed_change_does_not_stop_the_others(lab, session):
    inv = read_inventory(session, Scope(hosts=("esx01", "esx02")), Selector())
    host1 = inv.hosts[0].name
    good = [c for c in plan(inv, Selector(), Policy()).changes]
    bad = [
        Change(host1, CHANGE_PSP, "eui.0000000000000000", "VMW_PSP_MRU", "VMW_PSP_RR",
               (("psp", "VMW_PSP_RR"),)),
        Change("esx99", CHANGE_RR_LIMIT, SCST[0], "iops 1000", "iops 1", (("type", "iops"), ("iops", "1"))),
    ]
    results = apply_changes(session, inv, bad + good)
    assert [r.ok for r in results[:2]] == [False, False]
    assert "eui.0000000000000000" in results[0].error and "esx99" in results[1].error
    assert all(r.ok for r in results[2:])


def test_esxcli_fault_names_the_problem(session):
    inv = read_inventory(session, Scope(hosts=("esx01",)), esxcli=False)
    host = inv.hosts[0]
    with pytest.raises(EsxcliFault) as err:
        Esxcli(session, host.moid, host.name).run(
            "storage nmp psp roundrobin deviceconfig set", device="eui.0000000000000000",
            type="iops", iops=1)
    assert "eui.0000000000000000" in str(err.value) and host.name in str(err.value)


def test_rr_limit_fails_cleanly_when_psp_is_not_rr(lab, session):
    inv = read_inventory(session, Scope(hosts=("esx01",)), Selector())
    limit_only = [c for c in plan(inv, Selector(), Policy()).changes if c.kind == CHANGE_RR_LIMIT]
    results = apply_changes(session, inv, limit_only)
    assert limit_only and all(not r.ok and r.error for r in results)
    assert not lab.get("/stats")["writes"]


def test_claim_rule_is_added_once(lab, session):
    policy = Policy(claim_rule=True)
    inv = read_inventory(session, Scope(hosts=("esx05",)), Selector(), satp_rules=True)
    rules = [c for c in plan(inv, Selector(), policy).changes if c.kind == "satp_rule"]
    assert len(rules) == 2  # SCST_BIO and SCST_FIO
    assert all(r.ok for r in apply_changes(session, inv, rules))
    again = read_inventory(session, Scope(hosts=("esx05",)), Selector(), satp_rules=True)
    assert not [c for c in plan(again, Selector(), policy).changes if c.kind == "satp_rule"]
