"""provision / unprovision against the simulator, through real SOAP: VMFS on empty SCST LUNs,
eager-zeroed VMs read back from their config, task progress, idempotency, LUNs that must never
be formatted, and unprovision removing only what provision made."""
import json
import time

import pytest
from pyVmomi import vim, vmodl

from esxpath.errors import TaskFailed
from esxpath.core.model import Scope
from esxpath.core.provisioning import (
    CREATE,
    EXISTS,
    KEEP,
    PROVISION_KEY,
    REFUSED,
    REMOVE,
    DatastoreAction,
    ProvisionOptions,
    ProvisionPlan,
    plan_provision,
    plan_unprovision,
)
from esxpath.vsphere import ConnectOptions, connect
from esxpath.vsphere import provision as prov
from esxpath.vsphere.session import RETRY_ATTEMPTS
from simlab import ControlError, SimLab
from seedlab import ALL_HOSTS as HOSTS, EUI1 as LUN1, EUI2 as LUN2

pytestmark = pytest.mark.sim

GIB = 1 << 30
OPTS = ProvisionOptions(size_bytes=GIB, create_datastores=True, timeout=60)
# a third SCST LUN that already holds a datastore, and a fourth with only partitions
VMFS_LUN = {"canonical": "eui.3163393161636666", "vendor": "SCST_BIO", "model": "SSD-RAID6-3",
            "lun": 3, "size_gib": 100, "nodes": ["storage1", "storage2"], "vmfs": "existing-ds"}
PART_LUN = {"canonical": "eui.3163393161637777", "vendor": "SCST_BIO", "model": "SSD-RAID6-4",
            "lun": 4, "size_gib": 100, "nodes": ["storage1", "storage2"], "partitions": True}


def provision(session, options=OPTS, progress=None):
    snap = prov.collect(session, Scope())
    plan = plan_provision(snap.facts, options)
    return plan, prov.execute_provision(session, snap, plan, options, progress)


def writes(lab, what=None):
    return [w for w in lab.get("/stats")["writes"] if what is None or w["what"] == what]


def read_vms(session):
    """name -> props of every VM, read back from the server."""
    objs = prov._retrieve(session, [(vim.VirtualMachine, [
        "name", "config.hardware.device", "config.extraConfig", "config.guestId", "datastore",
        "runtime.host"])])
    return {p["name"]: p for _, p in objs.values()}


def test_provision_creates_datastores_and_eager_zeroed_vms(lab, session):
    lab.post("/stats/reset")
    plan, results = provision(session)
    assert [(a.kind, a.lun) for a in plan.datastores] == [(CREATE, LUN2), (CREATE, LUN1)]
    assert {a.name for a in plan.datastores} == {"SSD-RAID6-1", "SSD-RAID6-2"}
    assert all(r.ok for r in results), results
    assert sorted((r.what, r.name) for r in results) == [
        ("datastore", "SSD-RAID6-1"), ("datastore", "SSD-RAID6-2"),
        ("vm", "fio-SSD-RAID6-1"), ("vm", "fio-SSD-RAID6-2")]

    state = lab.get("/state")
    dss = {d["name"]: d for d in state["datastores"]}
    assert dss["SSD-RAID6-1"]["lun"] == LUN1 and dss["SSD-RAID6-2"]["lun"] == LUN2
    assert all(d["moid"].startswith("datastore-") for d in dss.values())
    for d in ("SSD-RAID6-1", "SSD-RAID6-2"):  # shared LUN: one datastore, mounted everywhere
        assert sorted(dss[d]["hosts"]) == list(HOSTS)
        assert dss[d]["vms"] == 1
    assert [w["device"] for w in writes(lab, "datastore")] == [LUN2, LUN1]

    vms = read_vms(session)
    assert set(vms) == {"fio-SSD-RAID6-1", "fio-SSD-RAID6-2"}
    for name, props in vms.items():
        disks = [d for d in props["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)]
        ctrls = [d for d in props["config.hardware.device"]
                 if isinstance(d, vim.vm.device.ParaVirtualSCSIController)]
        assert len(disks) == 1 and len(ctrls) == 1
        disk = disks[0]
        assert disk.backing.thinProvisioned is False and disk.backing.eagerlyScrub is True
        assert disk.capacityInKB * 1024 == GIB
        assert disk.controllerKey == ctrls[0].key and disk.unitNumber == 1
        assert disk.backing.fileName.startswith(f"[{name.removeprefix('fio-')}]")
        assert props["config.guestId"] == "debian12_64Guest"
        assert {o.key: o.value for o in props["config.extraConfig"]}[PROVISION_KEY] == "1"
    assert sorted(w["value"].split()[1] for w in writes(lab, "vm")) == sorted(vms)

    # the datastores carry the esxpath custom attribute, so unprovision can find them
    facts = prov.collect(session, Scope()).facts
    assert all(d.tagged for d in facts.datastores)
    assert [v.name for v in facts.vms if v.tagged] == ["fio-SSD-RAID6-1", "fio-SSD-RAID6-2"]


def test_progress_advances_while_the_disk_is_zeroed(lab, session):
    seen = []
    t0 = time.monotonic()
    _, results = provision(session, progress=lambda n, p, s: seen.append((n, p, s, time.monotonic() - t0)))
    assert all(r.ok for r in results)
    for name in ("fio-SSD-RAID6-1", "fio-SSD-RAID6-2"):
        mine = [(p, s, t) for n, p, s, t in seen if n == name]
        values = [p for p, _, _ in mine]
        assert values == sorted(values), values  # never goes back
        assert len({p for p in values if 0 < p < 100}) >= 3, values  # real intermediate steps
        assert mine[-1][:2] == (100, "success")
        # 1 GiB at the default 512 MiB/s: about 2 s, not instantly
        assert 1.0 < mine[-1][2] < 15
    vm_results = [r for r in results if r.what == "vm"]
    assert all(r.seconds > 1.0 for r in vm_results)


def test_second_provision_creates_nothing(lab, session):
    provision(session)
    lab.post("/stats/reset")
    plan, results = provision(session)
    assert plan.writes == 0 and results == ()
    assert {a.kind for a in plan.datastores} == {EXISTS}
    assert [(v.kind, v.name) for v in plan.vms] == [(EXISTS, "fio-SSD-RAID6-2"), (EXISTS, "fio-SSD-RAID6-1")]
    assert writes(lab) == []
    assert sorted(read_vms(session)) == ["fio-SSD-RAID6-1", "fio-SSD-RAID6-2"]


def test_a_lun_with_a_datastore_or_partitions_is_never_formatted(lab, session):
    lab.post("/lun", {"add": VMFS_LUN})
    lab.post("/lun", {"add": PART_LUN})
    snap = prov.collect(session, Scope())
    by_lun = {lf.canonical: lf for lf in snap.facts.luns}
    assert by_lun[VMFS_LUN["canonical"]].datastore == "existing-ds"
    assert not by_lun[VMFS_LUN["canonical"]].available
    assert not by_lun[PART_LUN["canonical"]].available and by_lun[PART_LUN["canonical"]].datastore is None

    plan = plan_provision(snap.facts, OPTS)
    acts = {a.lun: a for a in plan.datastores}
    assert acts[VMFS_LUN["canonical"]].kind == EXISTS and acts[VMFS_LUN["canonical"]].name == "existing-ds"
    assert acts[PART_LUN["canonical"]].kind == REFUSED
    assert {acts[LUN1].kind, acts[LUN2].kind} == {CREATE}
    # the existing datastore still gets a test VM; nothing formats its LUN
    assert ("fio-existing-ds", CREATE) in [(v.name, v.kind) for v in plan.vms]
    lab.post("/stats/reset")
    results = prov.execute_provision(session, snap, plan, OPTS)
    assert all(r.ok for r in results), results
    assert {w["device"] for w in writes(lab, "datastore")} == {LUN1, LUN2}

    # even a forged plan cannot format them: the adapter checks again, the host refuses too
    for lun in (VMFS_LUN["canonical"], PART_LUN["canonical"]):
        forged = ProvisionPlan("provision", (DatastoreAction(CREATE, "forged", lun, "esx03"),))
        [r] = prov.execute_provision(session, snap, forged, OPTS)
        assert not r.ok and "no longer offered for VMFS" in r.error
    dss = vim.host.DatastoreSystem(snap.datastore_system["esx03"], session.stub)
    offered = {d.canonicalName for d in dss.QueryAvailableDisksForVmfs()}
    assert offered.isdisjoint({VMFS_LUN["canonical"], PART_LUN["canonical"], LUN1, LUN2})
    spec = vim.host.VmfsDatastoreCreateSpec(
        vmfs=vim.host.VmfsVolume.Specification(volumeName="forged", majorVersion=6,
                               extent=vim.host.ScsiDisk.Partition(diskName=VMFS_LUN["canonical"], partition=1)),
        partition=vim.host.DiskPartitionInfo.Specification(partitionFormat="gpt"))
    with pytest.raises(vim.fault.PlatformConfigFault):
        dss.CreateVmfsDatastore(spec=spec)
    assert {w["device"] for w in writes(lab, "datastore")} == {LUN1, LUN2}


def test_scenario_lun_with_existing_vmfs(tmp_path):
    from simlab import SEED
    sc = json.loads(open(SEED).read())
    for lun in sc["luns"]:
        if lun["canonical"] == LUN1:
            lun["vmfs"] = "prod-ds"
    path = tmp_path / "lab-vmfs.json"
    path.write_text(json.dumps(sc))
    with SimLab().start(path) as other:
        s = connect(ConnectOptions(other.url, other.user, other.password, ca_file=other.ca_file))
        try:
            facts = prov.collect(s, Scope()).facts
            by_lun = {lf.canonical: lf for lf in facts.luns}
            assert by_lun[LUN1].datastore == "prod-ds" and not by_lun[LUN1].available
            assert by_lun[LUN2].available
            assert facts.datastore("prod-ds").hosts == HOSTS and not facts.datastore("prod-ds").tagged
            other.post("/reset")  # reset keeps the scenario's datastore
            assert [d["name"] for d in other.get("/state")["datastores"]] == ["prod-ds"]
        finally:
            s.close()


def _foreign_vm(session, snap, datastore, name="app-vm"):
    """A VM esxpath did not make (no tag), on one of the datastores."""
    spec = vim.vm.ConfigSpec(name=name, guestId="otherGuest64", numCPUs=1, memoryMB=256,
                             files=vim.vm.FileInfo(vmPathName=f"[{datastore}]"))
    folder = vim.Folder(snap.vm_folder["esx01"], session.stub)
    task = folder.CreateVM_Task(config=spec, pool=vim.ResourcePool(snap.resource_pool["esx01"], session.stub))
    state, _ = prov.wait_tasks(session, {"vm": task}, 30)["vm"]
    assert state == "success"


def test_unprovision_removes_only_what_provision_made(lab, session):
    lab.post("/lun", {"add": VMFS_LUN})  # untagged pre-existing datastore
    provision(session)
    snap = prov.collect(session, Scope())
    _foreign_vm(session, snap, "SSD-RAID6-1")
    _foreign_vm(session, snap, "existing-ds", "db-vm")
    lab.post("/stats/reset")

    snap = prov.collect(session, Scope())
    plan = plan_unprovision(snap.facts, datastores=True)
    assert {v.kind for v in plan.vms} == {REMOVE}
    assert sorted(v.name for v in plan.vms) == ["fio-SSD-RAID6-1", "fio-SSD-RAID6-2", "fio-existing-ds"]
    assert {(a.name, a.kind) for a in plan.datastores} == {("SSD-RAID6-1", KEEP), ("SSD-RAID6-2", REMOVE)}
    results = prov.execute_unprovision(session, snap, plan)
    assert all(r.ok for r in results), results

    assert sorted(read_vms(session)) == ["app-vm", "db-vm"]
    assert sorted(d["name"] for d in lab.get("/state")["datastores"]) == ["SSD-RAID6-1", "existing-ds"]
    assert sorted(w["value"] for w in writes(lab, "vm")) == [
        "destroy fio-SSD-RAID6-1", "destroy fio-SSD-RAID6-2", "destroy fio-existing-ds"]
    assert [(w["what"], w["device"]) for w in writes(lab, "datastore")] == [("datastore", LUN2)]
    # the freed LUN is offered for VMFS again; the others are not
    facts = prov.collect(session, Scope()).facts
    avail = {lf.canonical for lf in facts.luns if lf.available}
    assert avail == {LUN2}
    # nothing left of ours: a second unprovision plans nothing
    assert plan_unprovision(facts, datastores=True).writes == 0


def test_existing_untagged_vm_of_the_name_is_reported_not_duplicated(lab, session):
    provision(session, ProvisionOptions(size_bytes=GIB, create_datastores=True, datastores=("SSD-RAID6-1",)))
    snap = prov.collect(session, Scope())
    _foreign_vm(session, snap, "SSD-RAID6-2", name="fio-SSD-RAID6-2")
    snap = prov.collect(session, Scope())
    plan = plan_provision(snap.facts, OPTS)
    [vm2] = [v for v in plan.vms if v.name == "fio-SSD-RAID6-2"]
    assert vm2.kind == EXISTS and "not made by esxpath" in vm2.reason
    assert plan.writes == 0
    # and unprovision leaves it alone
    assert [v.name for v in plan_unprovision(snap.facts).vms] == ["fio-SSD-RAID6-1"]


def test_timed_out_create_is_cancelled_and_cleaned_up(lab, session):
    lab.post("/config", {"zero_rate_mbps": 8})  # 1 GiB would take about 2 minutes
    states = []
    plan, results = provision(session, ProvisionOptions(size_bytes=GIB, create_datastores=True, timeout=1.5),
                              progress=lambda n, p, s: states.append(s))
    vm_results = [r for r in results if r.what == "vm"]
    assert len(vm_results) == 2 and not any(r.ok for r in vm_results)
    assert all("cancelled" in r.error and "nothing left behind" in r.error for r in vm_results), vm_results
    assert "timeout" in states
    assert read_vms(session) == {}
    assert writes(lab, "vm") == []
    # the datastores were made and stay (a retry reuses them)
    assert all(r.ok for r in results if r.what == "datastore")
    lab.post("/reset")
    assert lab.get("/config")["zero_rate_mbps"] == 512


def test_failed_create_call_leaves_nothing(lab, session):
    provision(session, ProvisionOptions(size_bytes=GIB, create_datastores=True, datastores=("SSD-RAID6-1",)))
    lab.post("/faults", {"method": "CreateVM_Task", "count": 1, "fault": "SystemError"})
    plan, results = provision(session)
    [r] = [r for r in results if r.what == "vm"]
    assert r.name == "fio-SSD-RAID6-2" and not r.ok and "SystemError" in r.error
    assert lab.get("/stats")["calls"]["CreateVM_Task"] == 2  # not retried blindly
    assert sorted(read_vms(session)) == ["fio-SSD-RAID6-1"]


def test_config_endpoint_validates(lab):
    with pytest.raises(ControlError):
        lab.post("/config", {"zero_rate_mbps": 0})
    with pytest.raises(ControlError):
        lab.post("/config", {"rate": 5})
    assert lab.post("/config", {"zero_rate_mbps": 2048}) == {"zero_rate_mbps": 2048}


def test_wait_with_zero_timeout_then_cancel(lab, session):
    """A zero timeout returns at once with the task timed out; CancelTask ends it, no VM."""
    lab.post("/config", {"zero_rate_mbps": 1})
    snap = prov.collect(session, Scope())
    plan = plan_provision(snap.facts, OPTS)
    ds_results = prov.execute_provision(session, snap, ProvisionPlan("provision", plan.datastores), OPTS)
    assert all(r.ok for r in ds_results)
    snap = prov.collect(session, Scope())
    folder = vim.Folder(snap.vm_folder["esx01"], session.stub)
    task = folder.CreateVM_Task(config=prov._vm_spec("fio-x", "SSD-RAID6-1", OPTS),
                                pool=vim.ResourcePool(snap.resource_pool["esx01"], session.stub))
    assert prov.wait_tasks(session, {"t": task}, 0) == {"t": ("timeout", None)}
    task.CancelTask()
    state, fault = prov.wait_tasks(session, {"t": task}, 10)["t"]
    assert state == "error" and isinstance(fault, vmodl.fault.RequestCanceled), fault
    with pytest.raises(TaskFailed):
        prov._expect((state, fault), "create")
    assert read_vms(session) == {}


def test_task_wait_survives_an_expired_session(lab, session, caplog):
    caplog.set_level("INFO", logger="esxpath.vsphere")
    expired = []

    def progress(name, pct, state):
        if state == "running" and pct and not expired:
            expired.append(lab.post("/sessions/expire"))

    _, results = provision(session, progress=progress)
    assert expired and all(r.ok for r in results), results
    assert "reopening the property collector" in caplog.text  # the old one died with the session
    assert sorted(read_vms(session)) == ["fio-SSD-RAID6-1", "fio-SSD-RAID6-2"]


def test_search_index_finds_provisioned_vms(lab, session):
    provision(session, ProvisionOptions(size_bytes=GIB, create_datastores=True, datastores=("SSD-RAID6-1",)))
    si = session.content.searchIndex
    vm = si.FindByInventoryPath("DC0/vm/fio-SSD-RAID6-1")
    assert isinstance(vm, vim.VirtualMachine) and vm.name == "fio-SSD-RAID6-1"
    dc = si.FindByInventoryPath("DC0")
    assert si.FindChild(dc.vmFolder, "fio-SSD-RAID6-1") == vm
    assert si.FindByInventoryPath("DC0/vm/nope") is None
    assert si.FindByInventoryPath("DC0/host/storage-cluster") is not None


def test_plain_datastore_destroy_frees_the_lun(lab, session):
    snap = prov.collect(session, Scope())
    plan = plan_provision(snap.facts, OPTS)
    results = prov.execute_provision(session, snap, ProvisionPlan("provision", plan.datastores), OPTS)
    assert all(r.ok for r in results)
    ds = vim.Datastore(next(r.moid for r in results if r.name == "SSD-RAID6-1"), session.stub)
    lab.post("/stats/reset")
    state, _ = prov.wait_tasks(session, {"d": ds.Destroy_Task()}, 30)["d"]
    assert state == "success"
    assert writes(lab) == [{"host": "", "device": LUN1, "what": "datastore", "value": "destroy SSD-RAID6-1"}]
    facts = prov.collect(session, Scope()).facts
    assert {lf.canonical for lf in facts.luns if lf.available} == {LUN1}
    assert [d.name for d in facts.datastores] == ["SSD-RAID6-2"]
    for host in HOSTS:  # no host still lists it
        dss = vim.host.DatastoreSystem(snap.datastore_system[host], session.stub)
        assert [d.name for d in dss.datastore] == ["SSD-RAID6-2"]


def test_tag_and_rescan_failures_are_warnings_and_the_untagged_datastore_is_kept(lab, session):
    # as many failures as the session's retries: the calls fail for good
    lab.post("/faults", {"method": "SetField", "count": RETRY_ATTEMPTS, "fault": "SystemError"})
    lab.post("/faults", {"method": "RescanVmfs", "count": RETRY_ATTEMPTS, "fault": "HostCommunication",
                         "host": "esx03"})
    opts = ProvisionOptions(size_bytes=GIB, create_datastores=True, datastores=("SSD-RAID6-2",))
    _, results = provision(session, opts)
    [ds] = [r for r in results if r.what == "datastore" and r.name == "SSD-RAID6-2"]
    assert ds.ok and "not tagged" in ds.error and "esx03: rescan failed" in ds.error, ds
    other = [r for r in results if r.what == "datastore" and r.name == "SSD-RAID6-1"]
    assert other and other[0].ok and other[0].error is None
    snap = prov.collect(session, Scope())
    assert not snap.facts.datastore("SSD-RAID6-2").tagged
    plan = plan_unprovision(snap.facts, datastores=True)
    assert [a.name for a in plan.datastores] == ["SSD-RAID6-1"]  # the untagged one is kept
    assert [v.name for v in plan.vms] == ["fio-SSD-RAID6-2"]  # its VM is tagged: removed


def test_unprovision_in_a_cluster_scope_leaves_the_standalone_host_alone(lab, session):
    # make a tagged VM on the standalone host esx05, and one on esx01
    provision(session)
    snap = prov.collect(session, Scope())
    folder = vim.Folder(snap.vm_folder["esx05"], session.stub)
    task = folder.CreateVM_Task(config=prov._vm_spec("fio-on-esx05", "SSD-RAID6-1",
                                                     ProvisionOptions(size_bytes=1 << 20)),
                                pool=vim.ResourcePool(snap.resource_pool["esx05"], session.stub),
                                host=vim.HostSystem(snap.host_moid["esx05"], session.stub))
    assert prov.wait_tasks(session, {"t": task}, 30)["t"][0] == "success"
    scoped = prov.collect(session, Scope(cluster="storage-cluster"))
    plan = plan_unprovision(scoped.facts)
    assert "fio-on-esx05" not in [v.name for v in plan.vms]
    assert plan.vms, "the cluster's tagged VMs are in the plan"
    results = prov.execute_unprovision(session, scoped, plan)
    assert all(r.ok for r in results)
    assert "fio-on-esx05" in read_vms(session)


def test_available_disks_are_asked_of_the_next_host_when_one_fails(lab, session):
    lab.post("/faults", {"method": "QueryAvailableDisksForVmfs", "count": RETRY_ATTEMPTS,
                         "fault": "SystemError", "host": "esx01"})
    lab.post("/stats/reset")
    facts = prov.collect(session, Scope()).facts
    assert all(lf.available for lf in facts.luns)
    # esx01 failed every retry, esx02 answered
    assert lab.get("/stats")["calls"]["QueryAvailableDisksForVmfs"] == RETRY_ATTEMPTS + 1


def test_thin_and_lazy_zeroed_disks_keep_their_backing_and_create_at_once(lab, session):
    snap = prov.collect(session, Scope())
    plan = plan_provision(snap.facts, OPTS)
    assert all(r.ok for r in prov.execute_provision(session, snap, ProvisionPlan("provision", plan.datastores), OPTS))
    snap = prov.collect(session, Scope())
    lab.post("/config", {"zero_rate_mbps": 1})  # would take ages if these were zeroed
    for name, thin, eager in (("thin-vm", True, False), ("lazy-vm", False, False)):
        spec = prov._vm_spec(name, "SSD-RAID6-1", OPTS)
        spec.extraConfig = []
        disk = spec.deviceChange[1].device
        disk.backing.thinProvisioned, disk.backing.eagerlyScrub = thin, eager
        folder = vim.Folder(snap.vm_folder["esx01"], session.stub)
        task = folder.CreateVM_Task(config=spec, pool=vim.ResourcePool(snap.resource_pool["esx01"], session.stub))
        assert task.info.state == "success"  # not zeroed: done at once, as vcsim does it
        assert prov.wait_tasks(session, {"t": task}, 10)["t"][0] == "success"
    vms = read_vms(session)
    for name, thin in (("thin-vm", True), ("lazy-vm", False)):
        [disk] = [d for d in vms[name]["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)]
        assert (disk.backing.thinProvisioned, disk.backing.eagerlyScrub) == (thin, False)
    assert {w["value"] for w in writes(lab, "vm")} >= {"create thin-vm on SSD-RAID6-1", "create lazy-vm on SSD-RAID6-1"}
