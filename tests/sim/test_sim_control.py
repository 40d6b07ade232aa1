"""Each control endpoint of the simulator does what it says, as seen through SOAP and /state."""
from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

from sim_soap import lun_by_canonical, read_hosts, wwn_hex
from simlab import ControlError
from seedlab import ALL_HOSTS as HOSTS, EUI1 as LUN1, EUI2 as LUN2, NAA

pytestmark = pytest.mark.sim

STORAGE1 = {"21000024ff540980", "21000024ff540981"}
STORAGE2 = {"21000024ff540932", "21000024ff540933"}


def working_targets(h, canonical):
    lu = lun_by_canonical(h["config.storageDevice"])[canonical][1]
    return {wwn_hex(p.transport.portWorldWideName) for p in lu.path if p.isWorkingPath}


def paths(lab, host, canonical):
    return lab.get("/state")["hosts"][host]["devices"][canonical]["paths"]


def test_failover_flips_tpg_states_on_every_host(si, lab):
    assert all(working_targets(h, LUN1) <= STORAGE1 for h in read_hosts(si).values())
    lab.post("/failover", {"active": "storage2"})
    state = lab.get("/state")
    for name in HOSTS:
        for p in state["hosts"][name]["devices"][LUN1]["paths"]:
            expect = ("AO", "active") if p["tpg_id"] == 2 else ("ANO", "active unoptimized")
            assert (p["tpg_state"], p["group_state"]) == expect
        # the foreign array's TPG is in another failover group: untouched
        assert {p["tpg_state"] for p in state["hosts"][name]["devices"][NAA]["paths"]} == {"AO"}
    # MRU follows the AO group (alua_followover): the working path moved to storage2
    for name, h in read_hosts(si).items():
        assert len(working_targets(h, LUN1)) == 1
        assert working_targets(h, LUN1) <= STORAGE2, name
    lab.post("/failover", {"active": "storage1"})
    assert all(working_targets(h, LUN1) <= STORAGE1 for h in read_hosts(si).values())


def test_failover_unknown_node_is_an_error(lab):
    with pytest.raises(ControlError) as err:
        lab.post("/failover", {"active": "storage9"})
    assert err.value.status == 400


def test_path_dead_and_back_by_runtime_name(si, lab):
    before = paths(lab, "esx01", LUN1)
    working = [p for p in before if p["working"]]
    assert len(working) == 1 and working[0]["runtime"] == "vmhba2:C0:T0:L1"
    answer = lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": "dead"})
    assert answer["paths"] == [working[0]["name"]]

    hosts = read_hosts(si)
    lu = lun_by_canonical(hosts["esx01"]["config.storageDevice"])[LUN1][1]
    by_name = {p.name: p for p in lu.path}
    assert by_name[working[0]["name"]].state == "dead"
    assert not by_name[working[0]["name"]].isWorkingPath
    # MRU moved to the other AO path (vmhba3 -> storage1 port :81)
    assert working_targets(hosts["esx01"], LUN1) == {"21000024ff540981"}
    # other devices and other hosts are unaffected
    assert all(p.state == "active" for p in lun_by_canonical(hosts["esx01"]["config.storageDevice"])[LUN2][1].path)
    assert all(p.state == "active" for p in lun_by_canonical(hosts["esx02"]["config.storageDevice"])[LUN1][1].path)

    lab.post("/path", {"host": "esx01", "path": working[0]["name"], "state": "active"})
    assert paths(lab, "esx01", LUN1) == before


@pytest.mark.parametrize("state,tpg_state,group_state,typed", [
    ("standby", "STBY", "standby", "standby"),
    ("unavailable", "UNAV", "unavailable", "standby"),
])
def test_path_standby_and_unavailable(si, lab, state, tpg_state, group_state, typed):
    lab.post("/path", {"host": "esx02", "path": "vmhba3:C0:T1:L2", "state": state, "device": LUN2})
    p = next(p for p in paths(lab, "esx02", LUN2) if p["runtime"] == "vmhba3:C0:T1:L2")
    assert (p["tpg_state"], p["group_state"], p["state"], p["working"]) == (tpg_state, group_state, typed, False)
    lu = lun_by_canonical(read_hosts(si)["esx02"]["config.storageDevice"])[LUN2][1]
    assert next(x for x in lu.path if x.name == p["name"]).state == typed


def test_path_errors(lab):
    with pytest.raises(ControlError) as err:
        lab.post("/path", {"host": "esx01", "path": "vmhba9:C0:T0:L1", "state": "dead"})
    assert err.value.status == 400
    with pytest.raises(ControlError) as err:
        lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": "broken"})
    assert err.value.status == 400
    with pytest.raises(ControlError) as err:
        lab.post("/path", {"host": "esx99", "path": "vmhba2:C0:T0:L1", "state": "dead"})
    assert err.value.status == 404
    with pytest.raises(ControlError) as err:
        lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": "dead", "typo": 1})
    assert err.value.status == 400


def test_lun_add_is_claimed_by_satp_rules_and_remove(si, lab):
    new = {"canonical": "eui.3163393132333435", "vendor": "SCST_FIO", "model": "HDD-RAID10",
           "lun": 3, "size_gib": 100, "nodes": ["storage1", "storage2"]}
    lab.post("/lun", {"add": new})
    netapp = {"canonical": "naa.600a098038303053453f463045727a99", "vendor": "NETAPP",
              "model": "LUN C-Mode", "lun": 11, "size_gib": 10, "nodes": ["netapp"], "hosts": ["esx05"]}
    lab.post("/lun", {"add": netapp})
    hosts = read_hosts(si)
    for name, h in hosts.items():
        luns = lun_by_canonical(h["config.storageDevice"])
        lun, lu = luns[new["canonical"]]
        assert lun.vendor.strip() == "SCST_FIO" and lun.capacity.block * lun.capacity.blockSize == 100 << 30
        # no user rule: the system tpgs_on rule claims it with VMW_SATP_ALUA and its default PSP
        assert (lu.storageArrayTypePolicy.policy, lu.policy.policy) == ("VMW_SATP_ALUA", "VMW_PSP_MRU")
        assert len(lu.path) == 4
        assert (netapp["canonical"] in luns) == (name == "esx05")
    # the NETAPP system rule names VMW_PSP_RR
    assert lun_by_canonical(hosts["esx05"]["config.storageDevice"])[netapp["canonical"]][1].policy.policy == "VMW_PSP_RR"
    with pytest.raises(ControlError):
        lab.post("/lun", {"add": new})  # already there
    with pytest.raises(ControlError) as err:  # LUN 1 on storage1 is taken
        lab.post("/lun", {"add": dict(new, canonical="eui.3163393139393939", lun=1)})
    assert err.value.status == 400

    lab.post("/lun", {"remove": new["canonical"]})
    for h in read_hosts(si).values():
        assert new["canonical"] not in lun_by_canonical(h["config.storageDevice"])
    with pytest.raises(ControlError) as err:
        lab.post("/lun", {"remove": new["canonical"]})
    assert err.value.status == 404


def test_host_disconnect_and_reconnect(si, lab):
    hosts = read_hosts(si)
    lab.post("/host", {"name": "esx02", "connection": "disconnected"})
    after = read_hosts(si)
    assert after["esx02"]["runtime.connectionState"] == "disconnected"
    assert all(after[n]["runtime.connectionState"] == "connected" for n in HOSTS if n != "esx02")
    ss2 = vim.HostSystem(hosts["esx02"]["_moid"], si._stub).configManager.storageSystem
    ss3 = vim.HostSystem(hosts["esx03"]["_moid"], si._stub).configManager.storageSystem
    with pytest.raises(vmodl.fault.HostCommunication) as err:
        ss2.RescanAllHba()
    assert isinstance(err.value, vmodl.fault.HostNotConnected)
    ss3.RescanAllHba()
    assert lab.get("/state")["hosts"]["esx02"]["connection"] == "disconnected"

    lab.post("/host", {"name": "esx02", "connection": "connected"})
    ss2.RescanAllHba()
    assert read_hosts(si)["esx02"]["runtime.connectionState"] == "connected"
    with pytest.raises(ControlError):
        lab.post("/host", {"name": "esx02", "connection": "maybe"})


NO_EVENTS = {"posted": 0, "collectors": 0, "pages": 0, "returned": 0}


def test_reset_returns_to_the_scenario(si, lab):
    pristine = lab.get("/state")
    hosts = read_hosts(si)
    lu_id = lun_by_canonical(hosts["esx01"]["config.storageDevice"])[LUN1][1].id
    vim.HostSystem(hosts["esx01"]["_moid"], si._stub).configManager.storageSystem.SetMultipathLunPolicy(
        lunId=lu_id, policy=vim.host.MultipathInfo.LogicalUnitPolicy(policy="VMW_PSP_RR"))
    lab.post("/failover", {"active": "storage2"})
    lab.post("/path", {"host": "esx03", "path": "vmhba2:C0:T0:L2", "state": "dead"})
    lab.post("/host", {"name": "esx04", "connection": "disconnected"})
    lab.post("/lun", {"remove": LUN2})
    lab.post("/latency", {"ms": 5})
    lab.post("/faults", {"method": "RescanAllHba", "count": 5, "fault": "SystemError"})
    assert lab.get("/state") != pristine

    lab.post("/reset")
    assert lab.get("/state") == pristine
    assert lab.get("/stats") == {"calls": {}, "esxcli": {}, "writes": [], "events": NO_EVENTS}
    assert lab.get("/faults") == {"faults": []}
    assert lab.get("/requests") == {"requests": []}
    after = read_hosts(si)  # the session survived the reset
    assert after["esx04"]["runtime.connectionState"] == "connected"
    assert lun_by_canonical(after["esx01"]["config.storageDevice"])[LUN1][1].policy.policy == "VMW_PSP_MRU"
    assert LUN2 in lun_by_canonical(after["esx01"]["config.storageDevice"])


def test_state_shape(lab):
    state = lab.get("/state")
    assert set(state) >= {"hosts", "datastores", "vms"}
    esx01 = state["hosts"]["esx01"]
    assert esx01["connection"] == "connected" and esx01["cluster"] == "storage-cluster"
    assert state["hosts"]["esx05"]["cluster"] == ""
    dev = esx01["devices"][LUN1]
    assert (dev["psp"], dev["satp"], dev["limit_type"], dev["iops"], dev["bytes"], dev["use_ano"]) == \
        ("VMW_PSP_MRU", "VMW_SATP_ALUA", "default", 1000, 10485760, False)
    assert sorted((p["tpg_id"], p["tpg_state"]) for p in dev["paths"]) == \
        [(1, "AO"), (1, "AO"), (2, "ANO"), (2, "ANO")]
    assert {r["satp"] for r in esx01["satp_rules"]} >= {"VMW_SATP_ALUA"}


def test_stats_and_requests_log(si, lab):
    hosts = read_hosts(si)
    ss = vim.HostSystem(hosts["esx04"]["_moid"], si._stub).configManager.storageSystem
    ss.RescanAllHba()
    ss.RescanAllHba()
    stats = lab.get("/stats")
    assert stats["calls"]["RescanAllHba"] == 2
    assert stats["calls"]["RetrievePropertiesEx"] >= 1
    logged = lab.get("/requests?method=RescanAllHba")["requests"]
    assert [r["this"] for r in logged] == [ss._moId, ss._moId]
    assert all(r["host"] == "esx04" and "<RescanAllHba" in r["body"] for r in logged)
    lab.post("/requests/reset")
    assert lab.get("/requests")["requests"] == []
    lab.post("/stats/reset")
    assert lab.get("/stats") == {"calls": {}, "esxcli": {}, "writes": [], "events": NO_EVENTS}


def test_unknown_endpoint_and_method(lab):
    with pytest.raises(ControlError) as err:
        lab.get("/nope")
    assert err.value.status == 404
    with pytest.raises(ControlError) as err:
        lab.get("/reset")
    assert err.value.status == 405
