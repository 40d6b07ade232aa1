"""HostStorageSystem multipath methods in the simulator: per-host effect, faults, write log."""
from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

from sim_soap import lun_by_canonical, read_hosts, wwn_hex
from seedlab import EUI1 as LUN1, EUI2 as LUN2

pytestmark = pytest.mark.sim

STORAGE1 = {"21000024ff540980", "21000024ff540981"}


def storage_system(si, hosts, name):
    return vim.HostSystem(hosts[name]["_moid"], si._stub).configManager.storageSystem


def rr(policy="VMW_PSP_RR"):
    return vim.host.MultipathInfo.LogicalUnitPolicy(policy=policy)


def test_set_policy_on_esx01_changes_esx01_only(si, lab):
    hosts = read_hosts(si)
    lu_id = lun_by_canonical(hosts["esx01"]["config.storageDevice"])[LUN1][1].id
    storage_system(si, hosts, "esx01").SetMultipathLunPolicy(lunId=lu_id, policy=rr())

    after = read_hosts(si)
    for name, h in after.items():
        luns = lun_by_canonical(h["config.storageDevice"])
        policies = {c: lu.policy.policy for c, (_, lu) in luns.items()}
        if name == "esx01":
            assert policies[LUN1] == "VMW_PSP_RR"
            working = [p for p in luns[LUN1][1].path if p.isWorkingPath]
            # RR with useANO=0: both AO paths (storage1) carry I/O, the ANO ones do not
            assert {wwn_hex(p.transport.portWorldWideName) for p in working} == STORAGE1
        else:
            assert policies[LUN1] == "VMW_PSP_MRU", name
        assert policies[LUN2] == "VMW_PSP_MRU", name
    # the HostStorageSystem view of esx01 changed too, other hosts' did not
    ss1 = storage_system(si, after, "esx01").storageDeviceInfo
    ss2 = storage_system(si, after, "esx02").storageDeviceInfo
    assert lun_by_canonical(ss1)[LUN1][1].policy.policy == "VMW_PSP_RR"
    assert lun_by_canonical(ss2)[LUN1][1].policy.policy == "VMW_PSP_MRU"

    state = lab.get("/state")["hosts"]
    assert state["esx01"]["devices"][LUN1]["psp"] == "VMW_PSP_RR"
    assert state["esx01"]["devices"][LUN1]["iops"] == 1000
    assert state["esx01"]["devices"][LUN1]["limit_type"] == "default"
    assert state["esx02"]["devices"][LUN1]["psp"] == "VMW_PSP_MRU"
    writes = lab.get("/stats")["writes"]
    assert writes == [{"host": "esx01", "device": LUN1, "what": "psp", "value": "VMW_PSP_RR"}]


def test_invalid_psp_is_invalid_argument_and_changes_nothing(si, lab):
    hosts = read_hosts(si)
    lu_id = lun_by_canonical(hosts["esx01"]["config.storageDevice"])[LUN1][1].id
    with pytest.raises(vmodl.fault.InvalidArgument) as err:
        storage_system(si, hosts, "esx01").SetMultipathLunPolicy(lunId=lu_id, policy=rr("VMW_PSP_XX"))
    assert err.value.invalidProperty == "policy.policy"
    assert lab.get("/state")["hosts"]["esx01"]["devices"][LUN1]["psp"] == "VMW_PSP_MRU"
    assert lab.get("/stats")["writes"] == []


def test_unknown_lun_id_is_not_found(si, lab):
    hosts = read_hosts(si)
    with pytest.raises(vim.fault.NotFound):
        # the canonical name is not the multipath id: a real host refuses it as well
        storage_system(si, hosts, "esx01").SetMultipathLunPolicy(lunId=LUN1, policy=rr())
    assert lab.get("/stats")["writes"] == []


def test_each_valid_psp_is_accepted_and_shown(si, lab):
    hosts = read_hosts(si)
    ss = storage_system(si, hosts, "esx03")
    lu_id = lun_by_canonical(hosts["esx03"]["config.storageDevice"])[LUN2][1].id
    for psp in ("VMW_PSP_FIXED", "VMW_PSP_RR", "VMW_PSP_MRU"):
        ss.SetMultipathLunPolicy(lunId=lu_id, policy=rr(psp))
        lu = lun_by_canonical(ss.storageDeviceInfo)[LUN2][1]
        assert lu.policy.policy == psp
        working = [p for p in lu.path if p.isWorkingPath]
        assert len(working) == (2 if psp == "VMW_PSP_RR" else 1)
        if psp == "VMW_PSP_FIXED":
            assert isinstance(lu.policy, vim.host.MultipathInfo.FixedLogicalUnitPolicy)
            assert lu.policy.prefer == lu.path[0].name
    assert [w["value"] for w in lab.get("/stats")["writes"]] == ["VMW_PSP_FIXED", "VMW_PSP_RR", "VMW_PSP_MRU"]


def test_rescan_and_refresh_answer_and_keep_the_view(si, lab):
    hosts = read_hosts(si)
    ss = storage_system(si, hosts, "esx02")
    before = sorted(lun_by_canonical(ss.storageDeviceInfo))
    ss.RescanAllHba()
    ss.RefreshStorageSystem()
    assert sorted(lun_by_canonical(ss.storageDeviceInfo)) == before
    calls = lab.get("/stats")["calls"]
    assert calls["RescanAllHba"] == 1 and calls["RefreshStorageSystem"] == 1
    assert lab.get("/stats")["writes"] == []
