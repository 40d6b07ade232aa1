"""read_inventory against the simulator's seed lab: real SOAP, nothing of pyVmomi mocked."""
import pytest

from esxpath.errors import ScopeError
from esxpath.core.model import Scope, Selector, TpgState
from esxpath.vsphere import inventory, read_inventory
import seedlab
from seedlab import BOOT, NAA, SCST_MODELS as SCST

pytestmark = pytest.mark.sim

CLUSTER_HOSTS = list(seedlab.CLUSTER_HOSTS)  # compared with lists
ALL_HOSTS = list(seedlab.ALL_HOSTS)
TIB = 1 << 40


def short(name):
    return name.split(".", 1)[0]


def test_seed_lab_hosts(session):
    inv = read_inventory(session, Scope())
    assert [short(h.name) for h in inv.hosts] == ALL_HOSTS
    for h in inv.hosts:
        assert h.error is None and h.connection_state == "connected" and h.moid
        assert h.datacenter == "DC0"
        assert h.cluster == (None if short(h.name) == "esx05" else "storage-cluster")
        assert {d.canonical_name for d in h.devices} == set(SCST) | {NAA, BOOT}


def test_scst_luns_have_two_ao_and_two_ano_paths(session):
    inv = read_inventory(session, Scope())
    for h in inv.hosts:
        for name, (model, lun) in SCST.items():
            d = h.device(name)
            assert (d.vendor, d.model, d.is_local) == ("SCST_BIO", model, False)
            assert d.capacity_bytes == TIB and d.uuid
            assert (d.policy.satp, d.policy.psp) == ("VMW_SATP_ALUA", "VMW_PSP_MRU")
            assert d.policy.limit_type is None  # MRU: no Round Robin settings to report
            assert [(g.id, g.state) for g in d.tpgs] == [(1, TpgState.AO), (2, TpgState.ANO)]
            assert d.counts() == {"ao": 2, "ano": 2, "standby": 0, "unavailable": 0, "dead": 0}
            by_runtime = {p.runtime_name: p for p in d.paths}
            assert set(by_runtime) == {f"vmhba{a}:C0:T{t}:L{lun}" for a in (2, 3) for t in (0, 1)}
            assert by_runtime[f"vmhba2:C0:T0:L{lun}"].target_wwpn == "21:00:00:24:ff:54:09:80"
            assert by_runtime[f"vmhba3:C0:T0:L{lun}"].target_wwpn == "21:00:00:24:ff:54:09:81"
            assert by_runtime[f"vmhba2:C0:T1:L{lun}"].target_wwpn == "21:00:00:24:ff:54:09:32"
            assert by_runtime[f"vmhba3:C0:T1:L{lun}"].target_wwpn == "21:00:00:24:ff:54:09:33"
            for p in d.paths:
                assert p.adapter == p.runtime_name.split(":")[0]
                assert p.state == "active" and p.name.startswith("fc.") and p.name.endswith(name)
                assert (p.tpg_id, p.tpg_state) == ((1, TpgState.AO) if ":T0:" in p.runtime_name
                                                   else (2, TpgState.ANO))


def test_boot_disk_and_foreign_lun(session):
    h = read_inventory(session, Scope(hosts=("esx01",))).hosts[0]
    boot = h.device(BOOT)
    assert boot.is_local and (boot.vendor, boot.model) == ("ATA", "SATADOM")
    assert (boot.policy.satp, boot.policy.psp) == ("VMW_SATP_LOCAL", "VMW_PSP_FIXED")
    assert [p.adapter for p in boot.paths] == ["vmhba32"]
    naa = h.device(NAA)
    assert (naa.vendor, naa.policy.psp, naa.policy.iops) == ("NETAPP", "VMW_PSP_RR", 1000)
    assert naa.policy.limit_type in ("default", "iops")
    assert len(naa.paths) == 2


def test_selector_keeps_only_scst_devices(session):
    inv = read_inventory(session, Scope(), Selector())
    assert all({d.canonical_name for d in h.devices} == set(SCST) for h in inv.hosts)


@pytest.mark.parametrize("scope, hosts", [
    (Scope(cluster="storage-cluster"), CLUSTER_HOSTS),
    (Scope(datacenter="DC0"), ALL_HOSTS),
    (Scope(datacenter="DC0", cluster="storage-cluster"), CLUSTER_HOSTS),
    (Scope(hosts=("esx05", "esx02")), ["esx02", "esx05"]),
    (Scope(cluster="storage-cluster", hosts=("esx03",)), ["esx03"]),
])
def test_scope(session, scope, hosts):
    inv = read_inventory(session, scope, Selector(), esxcli=False)
    assert [short(h.name) for h in inv.hosts] == hosts


@pytest.mark.parametrize("scope, missing", [
    (Scope(cluster="no-such-cluster"), "no-such-cluster"),
    (Scope(datacenter="DC9"), "DC9"),
    (Scope(hosts=("esx01", "esx99")), "esx99"),
    (Scope(cluster="storage-cluster", hosts=("esx05",)), "esx05"),  # exists, not in the cluster
])
def test_unknown_scope_names_what_is_missing(session, scope, missing):
    with pytest.raises(ScopeError) as err:
        read_inventory(session, scope)
    assert missing in str(err.value)


def test_one_property_read_and_two_esxcli_calls_per_host(lab, session):
    lab.post("/stats/reset")
    read_inventory(session, Scope())
    stats = lab.get("/stats")
    calls = stats["calls"]
    assert calls.get("RetrievePropertiesEx") == 1
    assert not calls.get("ContinueRetrievePropertiesEx") and not calls.get("RetrieveProperties")
    assert stats["esxcli"] == {"storage nmp device list": 5, "storage nmp path list": 5}
    assert calls.get("ExecuteSoap") == 10


def test_satp_rules_only_when_asked(lab, session):
    lab.post("/stats/reset")
    inv = read_inventory(session, Scope(hosts=("esx01",)), satp_rules=True)
    assert lab.get("/stats")["esxcli"].get("storage nmp satp rule list") == 1
    rules = inv.hosts[0].satp_rules
    assert rules and all(r.satp for r in rules)
    assert any(r.satp == "VMW_SATP_ALUA" for r in rules)


def test_disconnected_host_is_isolated(lab, session):
    lab.post("/host", {"name": "esx02", "connection": "disconnected"})
    inv = read_inventory(session, Scope())
    by_name = {short(h.name): h for h in inv.hosts}
    assert by_name["esx02"].connection_state == "disconnected"
    assert by_name["esx02"].error and not by_name["esx02"].verifiable
    for name in ALL_HOSTS:
        if name != "esx02":
            assert by_name[name].error is None and len(by_name[name].devices) == 4


def test_esxcli_failure_on_one_host_is_isolated(lab, session):
    lab.post("/faults", {"method": "storage nmp path list", "count": 20, "fault": "SystemError",
                         "host": "esx03"})
    inv = read_inventory(session, Scope())
    by_name = {short(h.name): h for h in inv.hosts}
    assert by_name["esx03"].error and "SystemError" in by_name["esx03"].error
    assert by_name["esx03"].connection_state == "connected"
    assert all(by_name[n].error is None for n in ALL_HOSTS if n != "esx03")
    # the typed API's view survives: devices and path states, without TPG facts
    dev = by_name["esx03"].device("eui.3163393161633461")
    assert dev is not None and (dev.policy.satp, dev.policy.psp) == ("VMW_SATP_ALUA", "VMW_PSP_MRU")
    assert len(dev.paths) == 4 and all(p.state == "active" and p.adapter for p in dev.paths)
    assert sum(p.working for p in dev.paths) == 1
    assert {p.tpg_state for p in dev.paths} == {TpgState.UNKNOWN}


def test_path_states_from_esxcli_match_the_typed_api(lab, session):
    # Paths come from esxcli (Group State, Working Paths); the typed API's multipathInfo, read
    # with esxcli=False, must tell the same state and working flag for every path.
    lab.post("/failover", {"active": "storage2"})
    paths = lab.get("/state")["hosts"]["esx01"]["devices"]["eui.3163393161633461"]["paths"]
    for p, state in zip(paths, ("dead", "standby", "unavailable")):
        lab.post("/path", {"host": "esx01", "path": p["name"], "state": state})

    def view(esxcli):
        inv = read_inventory(session, Scope(hosts=("esx01",)), esxcli=esxcli)
        return {(d.canonical_name, p.name): (p.state, p.working, p.adapter, p.target_wwpn)
                for d in inv.hosts[0].devices for p in d.paths}

    from_esxcli = view(True)
    assert from_esxcli == view(False)
    states = {v[0] for k, v in from_esxcli.items() if k[0] == "eui.3163393161633461"}
    assert states == {"dead", "standby", "active"}


@pytest.mark.parametrize("fault, count, reads", [
    ("HostCommunication", 2, 3), ("SystemError", 1, 2), ("reset", 1, 2),
    # re-login, then the old session's collector is gone: a new view and collector, read again
    ("NotAuthenticated", 1, 3),
])
def test_the_big_read_rides_out_faults_like_any_call(lab, session, fault, count, reads):
    # The read's answer is parsed by ElementTree (rawsoap), but faults must still come back as
    # pyVmomi faults / connection errors, so that Session.call retries or logs in again.
    lab.post("/faults", {"method": "RetrievePropertiesEx", "count": count, "fault": fault})
    inv = read_inventory(session, Scope())
    assert [short(h.name) for h in inv.hosts] == ALL_HOSTS
    assert all(h.verifiable for h in inv.hosts)
    assert lab.get("/stats")["calls"]["RetrievePropertiesEx"] == reads


def test_a_paged_collection_reads_the_same(lab, session, monkeypatch):
    # vCenter answers a big collection in pages (ContinueRetrievePropertiesEx); the seed lab is
    # read again two objects per page, so that every page boundary is crossed
    whole = read_inventory(session, Scope())
    monkeypatch.setattr(inventory, "PAGE_SIZE", 2)
    lab.post("/stats/reset")
    paged = read_inventory(session, Scope())
    stats = lab.get("/stats")
    calls = stats["calls"]
    assert calls.get("RetrievePropertiesEx") == 1 and calls.get("ContinueRetrievePropertiesEx", 0) >= 4
    # every host read once, its reads started from its page (location filled in at the end)
    assert stats["esxcli"] == {"storage nmp device list": 5, "storage nmp path list": 5}
    assert paged == whole and len(paged.hosts) == 5


@pytest.mark.parametrize("fault", ["NotAuthenticated", "reset"])
def test_a_collection_broken_midway_is_read_again_without_reading_a_host_twice(
        lab, session, monkeypatch, fault):
    # NotAuthenticated on the second page: the re-login makes a new session, whose collector
    # does not know the token, so the whole collection is read again; hosts whose reads began
    # from the first pages must not be read a second time
    whole = read_inventory(session, Scope())
    monkeypatch.setattr(inventory, "PAGE_SIZE", 2)
    lab.post("/stats/reset")
    lab.post("/faults", {"method": "ContinueRetrievePropertiesEx", "count": 1, "fault": fault})
    again = read_inventory(session, Scope())
    assert lab.get("/faults")["faults"] == [], "the fault never fired"
    stats = lab.get("/stats")
    assert stats["esxcli"] == {"storage nmp device list": 5, "storage nmp path list": 5}
    assert again == whole


@pytest.mark.parametrize("scope, hosts", [
    (Scope(cluster="storage-cluster"), CLUSTER_HOSTS),
    (Scope(hosts=("esx05", "esx02")), ["esx02", "esx05"]),
])
def test_a_paged_collection_never_reads_a_host_outside_the_scope(lab, session, monkeypatch,
                                                                  scope, hosts):
    # reads start page by page only when every host is in scope; a scoped read waits for the
    # whole collection (clusters and names may come on later pages)
    monkeypatch.setattr(inventory, "PAGE_SIZE", 2)
    lab.post("/stats/reset")
    inv = read_inventory(session, scope)
    assert [short(h.name) for h in inv.hosts] == hosts
    esxcli_hosts = {short(r["host"]) for r in lab.get("/requests")["requests"] if r.get("esxcli")}
    assert esxcli_hosts == set(hosts)
    assert lab.get("/stats")["esxcli"]["storage nmp path list"] == len(hosts)
