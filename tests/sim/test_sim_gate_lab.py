"""Simulator cases of real SANs for property tests (tests/sim: alua.go, hoststate.go, hpp.go,
unreadable.go, load.go): path and node ALUA states TRANS/OFFL, per-host ALUA views, failover
semantics, TPG id 0, maintenance / notResponding hosts, HPP devices, unreadable storage
properties, LUN operational state, per-host path states at load, and POST /load."""
from __future__ import annotations

import json

import pytest
from pyVmomi import vim, vmodl

from official_esxcli import esxcli, records
from sim_soap import connect, disconnect, lun_by_canonical, read_hosts
from simlab import SEED, ControlError, SimLab
from seedlab import ALL_HOSTS, BOOT, EUI1 as LUN1, EUI2 as LUN2

pytestmark = pytest.mark.sim

HPP = "eui.6868706868706868"
HOSTS = list(ALL_HOSTS)  # compared with sorted lists
PC = vmodl.query.PropertyCollector


def seed() -> dict:
    return json.loads(SEED.read_text())


def hpp_lun(**extra) -> dict:
    return dict({"canonical": HPP, "vendor": "NVMe", "model": "HPP-DISK", "lun": 5, "size_gib": 10,
                 "nodes": ["storage1", "storage2"], "mpp": "HPP"}, **extra)


def host_spec(sc: dict, name: str) -> dict:
    return next(h for h in sc["hosts"] if h["name"] == name)


def dev_paths(lab, host, dev) -> dict[str, dict]:
    """runtime name -> /state path."""
    return {p["runtime"]: p for p in lab.get("/state")["hosts"][host]["devices"][dev]["paths"]}


def esxcli_paths(lab, host, dev) -> dict[str, dict]:
    """runtime name -> esxcli `storage nmp path list -d` record."""
    recs = records(esxcli(lab, host, "storage", "nmp", "path", "list", "-d", dev).ok())
    return {r["Runtime Name"]: r for r in recs.values()}


def esxcli_device(lab, host, dev) -> dict:
    return records(esxcli(lab, host, "storage", "nmp", "device", "list", "-d", dev).ok())[dev]


def typed_paths(si, host, dev) -> dict[str, object]:
    """path name -> HostMultipathInfoPath."""
    lu = lun_by_canonical(read_hosts(si)[host]["config.storageDevice"])[dev][1]
    return {p.name: p for p in lu.path}


def storage_system(si, host):
    moid = read_hosts(si, ["name"])[host]["_moid"]
    return vim.HostSystem(moid, si._stub).configManager.storageSystem


# --- 1. path-level states ----------------------------------------------------------------------

@pytest.mark.parametrize("state, group, tpg, health, typed", [
    ("transitioning", "transitioning", "TRANS", "UP", "standby"),
    ("offline", "dead", "OFFL", "DOWN", "dead"),
    ("dead", "dead", "AO", "DOWN", "dead"),
    ("standby", "standby", "STBY", "UP", "standby"),
    ("unavailable", "unavailable", "UNAV", "UP", "standby"),
])
def test_path_state_shows_in_esxcli_typed_and_state(si, lab, state, group, tpg, health, typed):
    working = "vmhba2:C0:T0:L1"  # storage1 (AO), MRU's working path on esx02
    assert dev_paths(lab, "esx02", LUN1)[working]["working"]
    lab.post("/path", {"host": "esx02", "path": working, "state": state, "device": LUN1})
    rec = esxcli_paths(lab, "esx02", LUN1)[working]
    assert rec["Group State"] == group
    assert rec["Storage Array Type Path Config"] == f"{{TPG_id=1,TPG_state={tpg},RTP_id=1,RTP_health={health}}}"
    p = dev_paths(lab, "esx02", LUN1)[working]
    assert (p["state"], p["group_state"], p["tpg_state"], p["working"]) == (typed, group, tpg, False)
    tp = typed_paths(si, "esx02", LUN1)[p["name"]]
    assert (tp.state, tp.isWorkingPath) == (typed, False)
    # MRU moved to the other AO path; the device's TPG list is group-level, unchanged
    dev = esxcli_device(lab, "esx02", LUN1)
    assert dev["Working Paths"] == "vmhba3:C0:T0:L1"
    assert dev["Storage Array Type Device Config"].endswith("{TPG_id=1,TPG_state=AO}{TPG_id=2,TPG_state=ANO}}")
    # other hosts untouched; active clears
    assert dev_paths(lab, "esx01", LUN1)[working]["group_state"] == "active"
    lab.post("/path", {"host": "esx02", "path": working, "state": "active", "device": LUN1})
    assert dev_paths(lab, "esx02", LUN1)[working]["working"]


def test_rr_never_works_on_transitioning_or_offline_paths(lab):
    lab.post("/load", dict(seed(), luns=[dict(l, psp="VMW_PSP_RR") for l in seed()["luns"]]))
    lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": "transitioning"})
    lab.post("/path", {"host": "esx01", "path": "vmhba3:C0:T0:L1", "state": "offline"})
    paths = dev_paths(lab, "esx01", LUN1)
    # no AO path left: RR falls back to the ANO paths
    assert sorted(r for r, p in paths.items() if p["working"]) == ["vmhba2:C0:T1:L1", "vmhba3:C0:T1:L1"]
    assert esxcli_device(lab, "esx01", LUN1)["Working Paths"] == "vmhba2:C0:T1:L1, vmhba3:C0:T1:L1"


# --- 2. node-level states ----------------------------------------------------------------------

@pytest.mark.parametrize("state, group, health, typed", [
    ("OFFL", "dead", "DOWN", "dead"),
    ("TRANS", "transitioning", "UP", "standby"),
])
def test_node_state_applies_to_every_path_of_its_group(si, lab, state, group, health, typed):
    lab.post("/node", {"name": "storage1", "state": state})
    for host in HOSTS:
        recs = esxcli_paths(lab, host, LUN2) if host in ("esx01", "esx04") else None
        for runtime, p in dev_paths(lab, host, LUN2).items():
            if p["tpg_id"] == 1:
                assert (p["tpg_state"], p["group_state"], p["state"], p["working"]) == (state, group, typed, False)
                if recs:
                    assert recs[runtime]["Group State"] == group
                    assert f"TPG_state={state}," in recs[runtime]["Storage Array Type Path Config"]
                    assert recs[runtime]["Storage Array Type Path Config"].endswith(f"RTP_health={health}}}")
            else:
                assert p["tpg_state"] == "ANO"
    # MRU falls back to an ANO path of storage2
    assert dev_paths(lab, "esx03", LUN2)["vmhba2:C0:T1:L2"]["working"]
    assert esxcli_device(lab, "esx01", LUN2)["Storage Array Type Device Config"].endswith(
        f"{{TPG_id=1,TPG_state={state}}}{{TPG_id=2,TPG_state=ANO}}}}")
    assert {p.state for n, p in typed_paths(si, "esx05", LUN2).items() if "540980" in n or "540981" in n} == {typed}


def test_node_state_errors(lab):
    with pytest.raises(ControlError) as err:
        lab.post("/node", {"name": "storage1", "state": "DEAD"})
    assert err.value.status == 400


# --- 3. per-host ALUA view, 4. failover semantics ------------------------------------------------

def test_host_view_wins_over_node_and_survives_failover(si, lab):
    lab.post("/host-alua", {"host": "esx03", "node": "storage2", "state": "STBY"})
    paths = dev_paths(lab, "esx03", LUN1)
    assert {p["tpg_state"] for p in paths.values() if p["tpg_id"] == 2} == {"STBY"}
    assert esxcli_device(lab, "esx03", LUN1)["Storage Array Type Device Config"].endswith(
        "{TPG_id=1,TPG_state=AO}{TPG_id=2,TPG_state=STBY}}")
    assert {p["tpg_state"] for p in dev_paths(lab, "esx04", LUN1).values() if p["tpg_id"] == 2} == {"ANO"}
    assert lab.get("/state")["hosts"]["esx03"]["alua"] == {"storage2": "STBY"}

    lab.post("/failover", {"active": "storage2"})
    # every other host follows the failover; esx03 still sees storage2 STBY, and storage1 ANO
    for host in ("esx01", "esx02", "esx04", "esx05"):
        assert {(p["tpg_id"], p["tpg_state"]) for p in dev_paths(lab, host, LUN1).values()} == {(1, "ANO"), (2, "AO")}
    paths = dev_paths(lab, "esx03", LUN1)
    assert {(p["tpg_id"], p["tpg_state"]) for p in paths.values()} == {(1, "ANO"), (2, "STBY")}
    assert [r for r, p in paths.items() if p["working"]] == ["vmhba2:C0:T0:L1"]  # MRU: an ANO path
    recs = esxcli_paths(lab, "esx03", LUN1)
    assert recs["vmhba2:C0:T1:L1"]["Group State"] == "standby"
    assert recs["vmhba2:C0:T1:L1"]["Storage Array Type Path Config"].startswith("{TPG_id=2,TPG_state=STBY,")
    tp = typed_paths(si, "esx03", LUN1)
    assert tp[paths["vmhba2:C0:T1:L1"]["name"]].state == "standby"
    assert tp[paths["vmhba2:C0:T0:L1"]["name"]].isWorkingPath

    # a path override beats the host view
    lab.post("/path", {"host": "esx03", "path": "vmhba3:C0:T1:L1", "state": "dead", "device": LUN1})
    assert dev_paths(lab, "esx03", LUN1)["vmhba3:C0:T1:L1"]["group_state"] == "dead"
    # clearing the view: esx03 follows the node again (storage2 AO)
    answer = lab.post("/host-alua", {"host": "esx03", "node": "storage2", "state": ""})
    assert answer == {"host": "esx03", "alua": {}}
    paths = dev_paths(lab, "esx03", LUN1)
    assert paths["vmhba2:C0:T1:L1"]["tpg_state"] == "AO" and paths["vmhba2:C0:T1:L1"]["working"]
    assert paths["vmhba3:C0:T1:L1"]["group_state"] == "dead"


def test_host_view_errors(lab):
    for body, status in [({"host": "esx09", "node": "storage2", "state": "STBY"}, 404),
                         ({"host": "esx03", "node": "storage9", "state": "STBY"}, 400),
                         ({"host": "esx03", "node": "storage2", "state": "DOWN"}, 400)]:
        with pytest.raises(ControlError) as err:
            lab.post("/host-alua", body)
        assert err.value.status == status


def test_failover_sets_ao_and_ano_whatever_the_states_were(lab):
    sc = seed()
    sc["storage_nodes"].append({"name": "storage3", "group": "scst", "tpg_id": 3, "state": "UNAV",
                                "ports": ["21:00:00:24:ff:54:09:90"]})
    sc["zoning"]["vmhba2"].append("21:00:00:24:ff:54:09:90")
    for lun in sc["luns"][:2]:
        lun["nodes"].append("storage3")
    host_spec(sc, "esx02")["alua"] = {"storage1": "TRANS"}
    host_spec(sc, "esx01")["paths"] = [{"device": LUN1, "path": "vmhba3:C0:T0:L1", "state": "offline"}]
    lab.post("/load", sc)
    lab.post("/node", {"name": "storage1", "state": "OFFL"})
    lab.post("/node", {"name": "storage2", "state": "TRANS"})
    answer = lab.post("/failover", {"active": "storage3"})
    assert answer["nodes"]["storage3"]["state"] == "AO"
    assert {n: v["state"] for n, v in answer["nodes"].items()} == \
        {"storage1": "ANO", "storage2": "ANO", "storage3": "AO", "netapp": "AO"}
    state = lab.get("/state")
    assert state["hosts"]["esx02"]["alua"] == {"storage1": "TRANS"}  # the stuck view persists
    assert {p["tpg_state"] for p in state["hosts"]["esx02"]["devices"][LUN1]["paths"] if p["tpg_id"] == 1} == {"TRANS"}
    p = next(p for p in state["hosts"]["esx01"]["devices"][LUN1]["paths"] if p["runtime"] == "vmhba3:C0:T0:L1")
    assert (p["tpg_state"], p["group_state"]) == ("OFFL", "dead")  # the path override persists
    assert [p["runtime"] for p in state["hosts"]["esx01"]["devices"][LUN1]["paths"] if p["working"]] == ["vmhba2:C0:T3:L1"]  # storage3 is zoned as T3


# --- 5. TPG id 0 -----------------------------------------------------------------------------------

def test_tpg_id_zero_is_a_target_port_group(si, lab):
    sc = seed()
    sc["storage_nodes"][0]["tpg_id"] = 0  # storage1
    lab.post("/load", sc)
    dev = esxcli_device(lab, "esx01", LUN1)
    assert dev["Storage Array Type Device Config"].endswith("{TPG_id=0,TPG_state=AO}{TPG_id=2,TPG_state=ANO}}")
    assert esxcli_paths(lab, "esx01", LUN1)["vmhba2:C0:T0:L1"]["Storage Array Type Path Config"].startswith(
        "{TPG_id=0,TPG_state=AO,")
    state = lab.get("/state")
    assert sorted(p["tpg_id"] for p in state["hosts"]["esx01"]["devices"][LUN1]["paths"]) == [0, 0, 2, 2]
    boot = state["hosts"]["esx01"]["devices"][BOOT]["paths"][0]
    assert (boot["tpg_id"], boot["tpg_state"], boot["group_state"]) == (None, "", "active")
    assert next(n for n in state["nodes"] if n["name"] == "storage1")["tpg_id"] == 0
    lab.post("/failover", {"active": "storage2"})
    assert esxcli_device(lab, "esx01", LUN1)["Storage Array Type Device Config"].endswith(
        "{TPG_id=0,TPG_state=ANO}{TPG_id=2,TPG_state=AO}}")
    with pytest.raises(ControlError) as err:  # LUN number 1 is taken on storage1 (TPG 0)
        lab.post("/lun", {"add": {"canonical": "eui.3163393139393939", "vendor": "SCST_BIO", "model": "X",
                                  "lun": 1, "size_gib": 1, "nodes": ["storage1"]}})
    assert err.value.status == 400


def test_boot_disk_path_config_is_not_alua(lab):
    rec = next(iter(records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-d", BOOT).ok()).values()))
    assert rec["Storage Array Type Path Config"] == "SATP VMW_SATP_LOCAL does not support path configuration."


# --- 6. maintenance and notResponding hosts --------------------------------------------------------

def test_maintenance_mode(si, lab):
    answer = lab.post("/host", {"name": "esx02", "maintenance": True})
    assert answer == {"name": "esx02", "connection": "connected", "maintenance": True, "storage_unreadable": False}
    hosts = read_hosts(si, ["name", "runtime.inMaintenanceMode", "runtime.connectionState"])
    assert [n for n, h in hosts.items() if h["runtime.inMaintenanceMode"]] == ["esx02"]
    assert hosts["esx02"]["runtime.connectionState"] == "connected"
    assert lab.get("/state")["hosts"]["esx02"]["maintenance"] is True
    storage_system(si, "esx02").RescanAllHba()  # a host in maintenance still answers
    lab.post("/host", {"name": "esx02", "maintenance": False})
    assert not read_hosts(si, ["name", "runtime.inMaintenanceMode"])["esx02"]["runtime.inMaintenanceMode"]


def test_not_responding_host_faults_host_not_reachable(si, lab):
    ss = storage_system(si, "esx04")
    lab.post("/host", {"name": "esx04", "connection": "notResponding"})
    assert read_hosts(si)["esx04"]["runtime.connectionState"] == "notResponding"
    assert lab.get("/state")["hosts"]["esx04"]["connection"] == "notResponding"
    with pytest.raises(vmodl.fault.HostNotReachable) as err:
        ss.RescanAllHba()
    assert isinstance(err.value, vmodl.fault.HostCommunication) and "Cannot contact" in err.value.msg
    run = esxcli(lab, "esx04", "storage", "nmp", "device", "list")
    assert run.rc != 0
    storage_system(si, "esx03").RescanAllHba()
    lab.post("/host", {"name": "esx04", "connection": "connected"})
    ss.RescanAllHba()


def test_scenario_host_state_fields(si, lab):
    sc = seed()
    host_spec(sc, "esx01").update(maintenance=True)
    host_spec(sc, "esx02").update(connection="disconnected")
    host_spec(sc, "esx03").update(connection="notResponding")
    lab.post("/load", sc)
    hosts = read_hosts(si, ["name", "runtime.inMaintenanceMode", "runtime.connectionState"])
    assert {n: (h["runtime.connectionState"], h["runtime.inMaintenanceMode"]) for n, h in hosts.items()} == {
        "esx01": ("connected", True), "esx02": ("disconnected", False), "esx03": ("notResponding", False),
        "esx04": ("connected", False), "esx05": ("connected", False)}
    with pytest.raises(vmodl.fault.HostNotConnected):
        vim.HostSystem(hosts["esx02"]["_moid"], si._stub).configManager.storageSystem.RescanAllHba()
    with pytest.raises(vmodl.fault.HostNotReachable):
        vim.HostSystem(hosts["esx03"]["_moid"], si._stub).configManager.storageSystem.RescanAllHba()


def test_host_state_of_the_start_scenario(tmp_path):
    sc = seed()
    host_spec(sc, "esx02").update(maintenance=True, connection="notResponding", storage_unreadable=True,
                                  alua={"storage1": "OFFL"})
    path = tmp_path / "start.json"
    path.write_text(json.dumps(sc))
    with SimLab().start(scenario=path) as own:
        si = connect(own)
        try:
            got = retrieve(si, ["runtime.inMaintenanceMode", "runtime.connectionState", "config.storageDevice"])
            values, missing = got["esx02"]
            assert (values["runtime.inMaintenanceMode"], values["runtime.connectionState"]) == (True, "notResponding")
            assert set(missing) == {"config.storageDevice"}
            own.post("/load", seed())
            own.post("/reset")  # back to the start scenario, not the seed
            h = own.get("/state")["hosts"]["esx02"]
            assert (h["maintenance"], h["connection"], h["storage_unreadable"], h["alua"]) == \
                (True, "notResponding", True, {"storage1": "OFFL"})
        finally:
            disconnect(si)


def test_host_endpoint_errors(lab):
    for body, status in [({"name": "esx02"}, 400), ({"name": "esx02", "connection": "gone"}, 400),
                         ({"name": "esx09", "maintenance": True}, 404)]:
        with pytest.raises(ControlError) as err:
            lab.post("/host", body)
        assert err.value.status == status


# --- 7. HPP-claimed devices ----------------------------------------------------------------------

def test_hpp_device_is_a_disk_but_not_nmp(si, lab):
    lab.post("/load", dict(seed(), luns=seed()["luns"] + [hpp_lun()]))
    lun, lu = lun_by_canonical(read_hosts(si)["esx01"]["config.storageDevice"])[HPP]
    assert lun.canonicalName == HPP and lu.policy.policy == "LB-RR" and lu.storageArrayTypePolicy is None
    assert len(lu.path) == 4
    listed = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list").ok())
    assert HPP not in listed and LUN1 in listed
    paths = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list").ok())
    assert all(r["Device"] != HPP for r in paths.values())
    for argv in (["device", "list", "-d", HPP], ["path", "list", "-d", HPP],
                 ["device", "set", "-d", HPP, "--psp", "VMW_PSP_RR"],
                 ["psp", "roundrobin", "deviceconfig", "set", "-d", HPP, "--iops", "1"],
                 ["psp", "roundrobin", "deviceconfig", "get", "-d", HPP]):
        run = esxcli(lab, "esx01", "storage", "nmp", *argv)
        assert run.rc != 0 and f"Unknown device {HPP}" in run.out + run.err, argv
    with pytest.raises(vim.fault.HostConfigFault) as err:
        storage_system(si, "esx01").SetMultipathLunPolicy(
            lunId=lu.id, policy=vim.host.MultipathInfo.LogicalUnitPolicy(policy="VMW_PSP_RR"))
    assert "HPP" in err.value.msg
    dev = lab.get("/state")["hosts"]["esx01"]["devices"][HPP]
    assert (dev["mpp"], dev["satp"], dev["psp"], len(dev["paths"])) == ("HPP", "", "LB-RR", 4)
    assert [p["runtime"] for p in dev["paths"] if p["working"]] == ["vmhba2:C0:T0:L5", "vmhba3:C0:T0:L5"]
    assert lab.get("/state")["hosts"]["esx01"]["devices"][LUN1]["mpp"] == "NMP"
    assert lab.get("/stats")["writes"] == []


def test_hpp_lun_validation_and_add(lab):
    for bad in (hpp_lun(psp="LB-FASTEST"), hpp_lun(mpp="PP")):
        with pytest.raises(ControlError) as err:
            lab.post("/lun", {"add": bad})
        assert err.value.status == 400
    lab.post("/lun", {"add": hpp_lun(psp="FIXED", hosts=["esx05"])})
    dev = lab.get("/state")["hosts"]["esx05"]["devices"][HPP]
    assert (dev["mpp"], dev["psp"]) == ("HPP", "FIXED")
    assert [p["runtime"] for p in dev["paths"] if p["working"]] == ["vmhba2:C0:T0:L5"]


def test_a_seed_lun_flipped_to_hpp_drops_its_nmp_policy(lab):
    sc = seed()
    sc["luns"][0]["mpp"] = "HPP"  # keeps its satp VMW_SATP_ALUA, psp VMW_PSP_MRU and rr
    lab.post("/load", sc)
    dev = lab.get("/state")["hosts"]["esx02"]["devices"][LUN1]
    assert (dev["mpp"], dev["satp"], dev["psp"]) == ("HPP", "", "LB-RR")
    assert LUN1 not in records(esxcli(lab, "esx02", "storage", "nmp", "device", "list").ok())


@pytest.fixture(scope="module")
def sim8():
    """A second simulator announcing API 8.0.3.0, so pyVmomi negotiates a version that has
    HostMultipathInfoHppLogicalUnitPolicy (vSphere 7.0+)."""
    s = SimLab().start(extra_args=["--api-version", "8.0.3.0"])
    try:
        yield s
    finally:
        s.stop()


def test_hpp_policy_type_under_a_current_api_version(sim8):
    sim8.post("/load", dict(seed(), luns=seed()["luns"] + [hpp_lun(psp="FIXED")]))
    si = connect(sim8)
    try:
        assert si.content.about.apiVersion == "8.0.3.0"
        luns = lun_by_canonical(read_hosts(si)["esx02"]["config.storageDevice"])
        policy = luns[HPP][1].policy
        assert isinstance(policy, vim.host.MultipathInfo.HppLogicalUnitPolicy)
        assert policy.policy == "FIXED" and policy.path == luns[HPP][1].path[0].name
        assert type(luns[LUN1][1].policy) is vim.host.MultipathInfo.LogicalUnitPolicy
    finally:
        disconnect(si)


# --- 8. unreadable storage properties -------------------------------------------------------------

def retrieve(si, props, max_objects=None) -> dict[str, tuple[dict, dict]]:
    """host name -> ({prop: value}, {missing path: fault}) over all pages."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[PC.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[PC.PropertySpec(type=vim.HostSystem, pathSet=["name"] + list(props))])
    out = {}
    try:
        result = content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=max_objects))
        while result:
            for o in result.objects:
                got = {p.name: p.val for p in o.propSet}
                out[got["name"]] = (got, {m.path: m.fault for m in o.missingSet})
            result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token) if result.token else None
    finally:
        view.Destroy()
    return out


@pytest.mark.parametrize("max_objects", [None, 1])
def test_unreadable_storage_comes_back_in_missing_set(si, lab, max_objects):
    lab.post("/host", {"name": "esx04", "storage_unreadable": True})
    props = ["config.storageDevice.scsiLun", "config.storageDevice.multipathInfo", "runtime.connectionState"]
    got = retrieve(si, props, max_objects)
    assert sorted(got) == HOSTS
    values, missing = got["esx04"]
    assert set(values) == {"name", "runtime.connectionState"}
    assert set(missing) == {"config.storageDevice.scsiLun", "config.storageDevice.multipathInfo"}
    for fault in missing.values():
        assert isinstance(fault, vmodl.fault.SystemError) and fault.reason == "storage unreadable"
    for name in ("esx01", "esx02", "esx03", "esx05"):
        assert set(got[name][0]) == {"name"} | set(props) and got[name][1] == {}
    # the whole storageDevice, the whole config (without storageDevice), the storage system
    values, missing = retrieve(si, ["config.storageDevice", "config"])["esx04"]
    assert set(missing) == {"config.storageDevice"} and values["config"].storageDevice is None
    ss = storage_system(si, "esx04")
    with pytest.raises(vmodl.fault.SystemError):
        ss.storageDeviceInfo
    assert lab.get("/state")["hosts"]["esx04"]["storage_unreadable"] is True
    lab.post("/host", {"name": "esx04", "storage_unreadable": False})
    assert retrieve(si, props)["esx04"][1] == {}
    assert ss.storageDeviceInfo.scsiLun


def test_scenario_storage_unreadable(si, lab):
    sc = seed()
    host_spec(sc, "esx01")["storage_unreadable"] = True
    lab.post("/load", sc)
    got = retrieve(si, ["config.storageDevice.scsiLun"])
    assert [n for n, (_, missing) in got.items() if missing] == ["esx01"]


# --- 9. ScsiLun operationalState -----------------------------------------------------------------

def test_operational_state_from_scenario_and_per_host(si, lab):
    sc = seed()
    sc["luns"][1]["operational_state"] = ["degraded"]  # LUN2
    lab.post("/load", sc)
    lab.post("/lun-state", {"host": "esx02", "device": LUN1, "state": ["lostCommunication"]})
    hosts = read_hosts(si)

    def op(host, dev):
        return list(lun_by_canonical(hosts[host]["config.storageDevice"])[dev][0].operationalState)
    assert op("esx02", LUN1) == ["lostCommunication"] and op("esx01", LUN1) == ["ok"]
    assert op("esx03", LUN2) == ["degraded"]
    state = lab.get("/state")["hosts"]
    assert state["esx02"]["devices"][LUN1]["operational_state"] == ["lostCommunication"]
    assert state["esx03"]["devices"][LUN2]["operational_state"] == ["degraded"]
    lab.post("/lun-state", {"host": "esx02", "device": LUN1, "state": []})
    assert lab.get("/state")["hosts"]["esx02"]["devices"][LUN1]["operational_state"] == ["ok"]
    for body, status in [({"host": "esx02", "device": LUN1, "state": ["broken"]}, 400),
                         ({"host": "esx02", "device": "eui.nope", "state": ["ok"]}, 404)]:
        with pytest.raises(ControlError) as err:
            lab.post("/lun-state", body)
        assert err.value.status == status


# --- 10. per-host path states in the scenario ------------------------------------------------------

def test_scenario_paths_are_applied_at_load(si, lab):
    sc = seed()
    host_spec(sc, "esx02")["paths"] = [
        {"device": LUN1, "path": "vmhba2:C0:T0:L1", "state": "dead"},
        {"path": "vmhba3:C0:T1:L2", "state": "transitioning"},
    ]
    lab.post("/load", sc)
    assert dev_paths(lab, "esx02", LUN1)["vmhba2:C0:T0:L1"]["group_state"] == "dead"
    assert dev_paths(lab, "esx02", LUN2)["vmhba3:C0:T1:L2"]["group_state"] == "transitioning"
    assert dev_paths(lab, "esx01", LUN1)["vmhba2:C0:T0:L1"]["group_state"] == "active"
    name = dev_paths(lab, "esx02", LUN1)["vmhba2:C0:T0:L1"]["name"]
    assert typed_paths(si, "esx02", LUN1)[name].state == "dead"


def test_scenario_path_naming_no_path_is_refused_and_changes_nothing(lab):
    before = lab.get("/state")
    sc = seed()
    sc["storage_nodes"][1]["state"] = "STBY"
    host_spec(sc, "esx02")["paths"] = [{"device": LUN1, "path": "vmhba7:C0:T0:L1", "state": "dead"}]
    with pytest.raises(ControlError) as err:
        lab.post("/load", sc)
    assert err.value.status == 400 and "vmhba7:C0:T0:L1" in err.value.body
    assert lab.get("/state") == before


# --- 11. POST /load ------------------------------------------------------------------------------

def test_load_replaces_the_lab_and_reset_returns_to_the_start(si, lab):
    pristine = lab.get("/state")
    lab.post("/faults", {"method": "RescanAllHba", "count": 3, "fault": "SystemError"})
    lab.post("/path", {"host": "esx03", "path": "vmhba2:C0:T0:L2", "state": "dead"})
    sc = seed()
    sc["storage_nodes"][0]["state"], sc["storage_nodes"][1]["state"] = "ANO", "AO"
    sc["luns"] = [l for l in sc["luns"] if l["canonical"] != LUN2] + [hpp_lun()]
    host_spec(sc, "esx05")["ip"] = "10.9.9.15"
    lab.post("/load", sc)
    assert lab.get("/faults") == {"faults": []}
    assert lab.get("/stats") == {"calls": {}, "esxcli": {}, "writes": [],
                                 "events": {"posted": 0, "collectors": 0, "pages": 0, "returned": 0}}
    assert lab.get("/requests") == {"requests": []}
    state = lab.get("/state")
    assert set(state["hosts"]["esx03"]["devices"]) == {BOOT, LUN1, HPP, "naa.600a098038303053453f463045727a4d"}
    assert {p["group_state"] for p in state["hosts"]["esx03"]["devices"][LUN1]["paths"]} == {"active", "active unoptimized"}
    assert [p["runtime"] for p in state["hosts"]["esx03"]["devices"][LUN1]["paths"] if p["working"]] == ["vmhba2:C0:T1:L1"]
    # the pyVmomi session survived; the typed view is the new one; esxcli finds esx05 by its new IP
    assert LUN2 not in lun_by_canonical(read_hosts(si)["esx01"]["config.storageDevice"])
    assert HPP in lun_by_canonical(read_hosts(si)["esx01"]["config.storageDevice"])
    assert si.content.searchIndex.FindByIp(ip="10.9.9.15", vmSearch=False).name == "esx05"

    lab.post("/reset")
    assert lab.get("/state") == pristine


@pytest.mark.parametrize("change, text", [
    (lambda sc: sc["hosts"].pop(), "missing [esx05]"),
    (lambda sc: sc["hosts"].append(dict(sc["hosts"][0], name="esx06")), "unknown [esx06]"),
    (lambda sc: sc["hosts"][4].update(cluster="storage-cluster"), "cluster"),
    (lambda sc: sc.update(datacenter="DC9"), "datacenter"),
    (lambda sc: sc.update(colour="blue"), "colour"),
    (lambda sc: sc["hosts"][0].update(alua={"storage9": "AO"}), "storage9"),
    (lambda sc: sc["storage_nodes"][0].update(state="BAD"), "BAD"),
])
def test_load_refuses_scenarios_the_running_inventory_cannot_take(lab, change, text):
    before = lab.get("/state")
    sc = seed()
    change(sc)
    with pytest.raises(ControlError) as err:
        lab.post("/load", sc)
    assert err.value.status == 400 and text in err.value.body
    assert lab.get("/state") == before


# --- 12. GET /state shape -------------------------------------------------------------------------

def test_state_has_the_new_fields(lab):
    lab.post("/host-alua", {"host": "esx01", "node": "storage2", "state": "UNAV"})
    state = lab.get("/state")
    h = state["hosts"]["esx01"]
    assert {"moid", "connection", "cluster", "maintenance", "alua", "storage_unreadable", "devices",
            "satp_rules"} <= set(h)
    assert (h["connection"], h["maintenance"], h["alua"], h["storage_unreadable"]) == \
        ("connected", False, {"storage2": "UNAV"}, False)
    dev = h["devices"][LUN1]
    assert (dev["mpp"], dev["operational_state"]) == ("NMP", ["ok"])
    assert set(dev["paths"][0]) == {"name", "runtime", "adapter", "state", "group_state", "tpg_id",
                                    "tpg_state", "working"}
    assert {n["name"]: (n["tpg_id"], n["state"], n["group"]) for n in state["nodes"]} == {
        "storage1": (1, "AO", "scst"), "storage2": (2, "ANO", "scst"), "netapp": (1000, "AO", "netapp")}
