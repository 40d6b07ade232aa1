"""provision / unprovision through vSphere: VMFS on empty eui LUNs, eager-zeroed test VMs.

collect() reads a snapshot (facts for the pure planner in esxpath.provisioning, plus the
managed-object ids execution needs); execute() carries out exactly the plan the CLI showed.
Writes are never retried blindly (CreateVmfsDatastore, CreateVM_Task are not idempotent); a
failed or timed-out VM create is cancelled and its half-made VM removed. Task progress comes
from our own WaitForUpdatesEx loop with a deadline (pyVim's WaitForTask has no timeout).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from pyVmomi import vim, vmodl

from ..errors import EsxpathError, HostError, TaskFailed
from ..model import Scope, Selector
from ..provisioning import (
    CREATE,
    PROVISION_KEY,
    REMOVE,
    ActionResult,
    DatastoreFacts,
    LunFacts,
    ProvisionFacts,
    ProvisionOptions,
    ProvisionPlan,
    VmFacts,
)
from .inventory import read_inventory
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")

# progress(task name, percent 0..100 or None, state "running"|"success"|"error")
Progress = Callable[[str, "int | None", str], None]

ANNOTATION = "fio test VM created by esxpath provision; `esxpath unprovision` removes it"
TEST_DISK_UNIT = 1  # SCSI 0:1, so that an OS disk at 0:0 is /dev/sda and the test disk /dev/sdb


@dataclass
class Snapshot:
    facts: ProvisionFacts
    # moids execution needs
    host_moid: dict[str, str] = field(default_factory=dict)  # host name -> HostSystem
    datastore_system: dict[str, str] = field(default_factory=dict)  # host name -> moid
    storage_system: dict[str, str] = field(default_factory=dict)  # host name -> moid
    resource_pool: dict[str, str] = field(default_factory=dict)  # host name -> root pool moid
    vm_folder: dict[str, str] = field(default_factory=dict)  # host name -> its datacenter's vm folder
    datastore_moid: dict[str, str] = field(default_factory=dict)  # datastore name -> moid
    field_key: int | None = None  # custom attribute key of PROVISION_KEY on Datastore


def _retrieve(session: Session, types_and_paths: list[tuple[type, list[str]]]) -> dict:
    """moid -> (object, props) for every object of the given types, in one paged read."""
    content = session.content
    PC = vmodl.query.PropertyCollector
    view = session.call(content.viewManager.CreateContainerView, content.rootFolder,
                        [t for t, _ in types_and_paths], True, idempotent=False)
    collector = session.call(content.propertyCollector.CreatePropertyCollector, idempotent=False)
    try:
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
                PC.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)])],
            propSet=[PC.PropertySpec(type=t, pathSet=paths) for t, paths in types_and_paths])
        out: dict = {}
        result = session.call(collector.RetrievePropertiesEx, specSet=[spec],
                              options=PC.RetrieveOptions(maxObjects=500))
        while result is not None:
            for oc in result.objects or []:
                out[oc.obj._GetMoId()] = (oc.obj, {p.name: p.val for p in oc.propSet or []})
            if not result.token:
                break
            result = session.call(collector.ContinueRetrievePropertiesEx, token=result.token)
        return out
    finally:
        for destroy in (collector.DestroyPropertyCollector, view.DestroyView):
            try:
                session.call(destroy)
            except Exception as exc:  # cleanup only
                log.debug("cleanup: %s", fault_message(exc))


def _tagged_vm(props: dict) -> bool:
    for opt in props.get("config.extraConfig") or []:
        if opt.key == PROVISION_KEY and str(opt.value) == "1":
            return True
    return False


def _field_key(session: Session) -> int | None:
    cfm = session.content.customFieldsManager
    if cfm is None:
        return None
    for f in session.call(lambda: cfm.field) or []:
        if f.name == PROVISION_KEY and f.managedObjectType in (None, vim.Datastore):
            return f.key
    return None


def collect(session: Session, scope: Scope, selector: Selector | None = None) -> Snapshot:
    """Read what provision/unprovision plan from: in-scope LUNs (selector, default SCST eui),
    whether each is offered for VMFS, datastores on them, and the VMs (tagged or not)."""
    inv = read_inventory(session, scope, selector or Selector(), esxcli=False)
    objs = _retrieve(session, [
        (vim.HostSystem, ["name", "parent", "configManager.datastoreSystem",
                          "configManager.storageSystem"]),
        (vim.Datastore, ["name", "info", "host", "vm", "customValue"]),
        (vim.VirtualMachine, ["name", "config.extraConfig", "datastore", "runtime.host",
                              "runtime.powerState"]),
        (vim.ComputeResource, ["parent", "resourcePool"]),
        (vim.Folder, ["parent"]),
        (vim.Datacenter, ["name", "vmFolder"]),
    ])
    snap = Snapshot(ProvisionFacts())
    host_name_of = {}
    for moid, (obj, p) in objs.items():
        if isinstance(obj, vim.HostSystem):
            name = p.get("name", moid)
            host_name_of[moid] = name
            snap.host_moid[name] = moid
            if p.get("configManager.datastoreSystem") is not None:
                snap.datastore_system[name] = p["configManager.datastoreSystem"]._GetMoId()
            if p.get("configManager.storageSystem") is not None:
                snap.storage_system[name] = p["configManager.storageSystem"]._GetMoId()
            cr = p.get("parent")
            crp = objs.get(cr._GetMoId(), (None, {}))[1] if cr is not None else {}
            if crp.get("resourcePool") is not None:
                snap.resource_pool[name] = crp["resourcePool"]._GetMoId()
            dc = _datacenter_of(objs, cr)
            if dc is not None and dc.get("vmFolder") is not None:
                snap.vm_folder[name] = dc["vmFolder"]._GetMoId()
    snap.field_key = _field_key(session) if session.is_vcenter else None

    vm_names = {}
    vms = []
    for moid, (obj, p) in objs.items():
        if not isinstance(obj, vim.VirtualMachine):
            continue
        vm_names[moid] = p.get("name", moid)
        host = p.get("runtime.host")
        vms.append(VmFacts(
            name=p.get("name", moid), moid=moid,
            datastores=tuple(sorted(objs.get(d._GetMoId(), (None, {}))[1].get("name", d._GetMoId())
                                    for d in p.get("datastore") or [])),
            host=host_name_of.get(host._GetMoId(), "") if host is not None else "",
            tagged=_tagged_vm(p), power_state=str(p.get("runtime.powerState") or "poweredOff")))

    datastores = []
    ds_of_lun: dict[str, str] = {}
    for moid, (obj, p) in objs.items():
        if not isinstance(obj, vim.Datastore):
            continue
        name = p.get("name", moid)
        snap.datastore_moid[name] = moid
        info = p.get("info")
        extents = tuple(e.diskName for e in getattr(getattr(info, "vmfs", None), "extent", None) or [])
        for lun in extents:
            ds_of_lun[lun] = name
        tagged = snap.field_key is not None and any(
            getattr(v, "key", None) == snap.field_key and getattr(v, "value", "") == "1"
            for v in p.get("customValue") or [])
        datastores.append(DatastoreFacts(
            name=name, moid=moid, luns=extents,
            hosts=tuple(sorted(host_name_of.get(m.key._GetMoId(), m.key._GetMoId())
                               for m in p.get("host") or [])),
            tagged=tagged,
            vms=tuple(sorted(vm_names.get(v._GetMoId(), v._GetMoId()) for v in p.get("vm") or []))))

    # in-scope LUNs, the connected hosts that see them, and whether they are offered for VMFS
    seen: dict[str, dict] = {}
    for h in inv.hosts:
        if not h.verifiable:
            continue
        for d in h.devices:
            e = seen.setdefault(d.canonical_name, {"dev": d, "hosts": []})
            e["hosts"].append(h.name)
    available_on: dict[str, set[str]] = {}
    failed: set[str] = set()

    def available(hosts: tuple[str, ...]) -> set[str]:
        """What the first host that answers offers for VMFS (the answer is SAN-wide)."""
        error = None
        for host in hosts:
            if host in failed:
                continue
            if host not in available_on:
                try:
                    dss = vim.host.DatastoreSystem(snap.datastore_system[host], session.stub)
                    disks = session.call(dss.QueryAvailableDisksForVmfs) or []
                except Exception as exc:  # try the next host that sees the LUN
                    error = f"{host}: {fault_message(exc)}"
                    log.warning("QueryAvailableDisksForVmfs: %s", error)
                    failed.add(host)
                    continue
                available_on[host] = {d.canonicalName for d in disks}
            return available_on[host]
        raise HostError(hosts[0] if hosts else "?", f"cannot list disks available for VMFS ({error})")

    luns = []
    for canonical in sorted(seen):
        d, hosts = seen[canonical]["dev"], tuple(sorted(seen[canonical]["hosts"]))
        ds = ds_of_lun.get(canonical)
        luns.append(LunFacts(
            canonical=canonical, vendor=d.vendor, model=d.model, capacity_bytes=d.capacity_bytes,
            hosts=hosts, datastore=ds,
            available=bool(hosts) and ds is None and canonical in available(hosts)))
    snap.facts = ProvisionFacts(
        luns=tuple(luns), datastores=tuple(sorted(datastores, key=lambda x: x.name)),
        vms=tuple(sorted(vms, key=lambda v: v.name)),
        can_tag_datastores=session.is_vcenter and session.content.customFieldsManager is not None,
        hosts=tuple(h.name for h in inv.hosts))
    return snap


def _datacenter_of(objs: dict, obj) -> dict | None:
    for _ in range(64):
        if obj is None:
            return None
        moid = obj._GetMoId()
        o, p = objs.get(moid, (obj, {}))
        if isinstance(o, vim.Datacenter):
            return p
        obj = p.get("parent")
    return None


# ----- task waiting -----

def wait_tasks(session: Session, tasks: dict[str, vim.Task], timeout: float,
               progress: Progress | None = None, max_wait: int = 5) -> dict[str, tuple[str, object]]:
    """Wait for tasks with WaitForUpdatesEx until all finish or timeout seconds pass.

    Returns name -> ("success", result) | ("error", fault) | ("timeout", None). progress gets
    every change of info.progress and the final state of each task."""
    PC = vmodl.query.PropertyCollector
    by_moid = {t._GetMoId(): name for name, t in tasks.items()}
    done: dict[str, tuple[str, object]] = {}
    last: dict[str, int | None] = {}
    deadline = time.monotonic() + timeout
    collector = None

    def open_collector():
        pc = session.call(session.content.propertyCollector.CreatePropertyCollector, idempotent=False)
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=t) for t in tasks.values()],
            propSet=[PC.PropertySpec(type=vim.Task, pathSet=[
                "info.state", "info.progress", "info.error", "info.result"])])
        session.call(pc.CreateFilter, spec=spec, partialUpdates=False, idempotent=False)
        return pc

    version = ""
    state: dict[str, dict] = {name: {} for name in tasks}
    failures = 0
    try:
        while len(done) < len(tasks):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                if collector is None:
                    collector = open_collector()
                    version = ""
                update = session.call(collector.WaitForUpdatesEx, version=version,
                                      options=PC.WaitOptions(maxWaitSeconds=max(1, min(max_wait, int(remaining)))),
                                      idempotent=False)
            except (vmodl.fault.ManagedObjectNotFound, EsxpathError) as exc:
                # the collector died with the session (re-login): make a new one
                failures += 1
                if failures > 3:
                    raise
                log.info("task wait: %s; reopening the property collector", fault_message(exc))
                collector = None
                continue
            if update is None:
                continue
            version = update.version
            for fs in update.filterSet or []:
                for oc in fs.objectSet or []:
                    name = by_moid.get(oc.obj._GetMoId())
                    if name is None:
                        continue
                    for ch in oc.changeSet or []:
                        state[name][ch.name] = ch.val
                    _report(name, state[name], last, done, progress)
    finally:
        if collector is not None:
            try:
                session.call(collector.DestroyPropertyCollector)
            except Exception as exc:
                log.debug("cleanup: %s", fault_message(exc))
    for name in tasks:
        if name not in done:
            done[name] = ("timeout", None)
            if progress:
                progress(name, last.get(name), "timeout")
    return done


def _report(name, st, last, done, progress) -> None:
    s = str(st.get("info.state") or "")
    pct = st.get("info.progress")
    if s == "success":
        pct = 100
    if pct != last.get(name) and progress and s not in ("success", "error"):
        progress(name, pct, "running")
    last[name] = pct
    if s in ("success", "error") and name not in done:
        done[name] = ("success", st.get("info.result")) if s == "success" else ("error", st.get("info.error"))
        if progress:
            progress(name, pct, s)


# ----- execution -----

def _vm_spec(name: str, datastore: str, options: ProvisionOptions) -> vim.vm.ConfigSpec:
    dev = vim.vm.device
    ctrl = dev.ParaVirtualSCSIController(key=1000, busNumber=0, sharedBus="noSharing")
    disk = dev.VirtualDisk(
        key=2000, controllerKey=1000, unitNumber=TEST_DISK_UNIT,
        capacityInKB=options.size_bytes // 1024, capacityInBytes=options.size_bytes,
        backing=dev.VirtualDisk.FlatVer2BackingInfo(
            fileName=f"[{datastore}]", diskMode="persistent",
            thinProvisioned=False, eagerlyScrub=True))
    return vim.vm.ConfigSpec(
        name=name, guestId=options.guest_id, numCPUs=options.cpus, memoryMB=options.memory_mb,
        annotation=ANNOTATION, files=vim.vm.FileInfo(vmPathName=f"[{datastore}]"),
        extraConfig=[vim.option.OptionValue(key=PROVISION_KEY, value="1")],
        deviceChange=[
            dev.VirtualDeviceSpec(operation="add", device=ctrl),
            dev.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk),
        ])


def _ensure_field_key(session: Session, snap: Snapshot) -> int | None:
    if snap.field_key is not None or not snap.facts.can_tag_datastores:
        return snap.field_key
    cfm = session.content.customFieldsManager
    try:
        f = session.call(cfm.AddCustomFieldDef, name=PROVISION_KEY, moType=vim.Datastore,
                         idempotent=False)
        snap.field_key = f.key
    except vim.fault.DuplicateName:
        snap.field_key = _field_key(session)
    return snap.field_key


def _create_datastore(session: Session, snap: Snapshot, action) -> ActionResult:
    start = time.monotonic()
    dss = vim.host.DatastoreSystem(snap.datastore_system[action.host], session.stub)
    # check again right before formatting: the plan may be stale
    disks = session.call(dss.QueryAvailableDisksForVmfs) or []
    disk = next((d for d in disks if d.canonicalName == action.lun), None)
    if disk is None:
        raise TaskFailed(f"{action.lun} is no longer offered for VMFS by {action.host}; not formatted")
    options = session.call(dss.QueryVmfsDatastoreCreateOptions, devicePath=disk.devicePath)
    if not options:
        raise TaskFailed(f"{action.host} offers no VMFS layout for {action.lun}")
    spec = options[0].spec
    spec.vmfs.volumeName = action.name
    ds = session.call(dss.CreateVmfsDatastore, spec=spec, idempotent=False)
    snap.datastore_moid[action.name] = ds._GetMoId()
    warnings = []
    try:  # the datastore exists now: a failed tag is a warning, not a failed create
        key = _ensure_field_key(session, snap)
        if key is not None:
            session.call(session.content.customFieldsManager.SetField, entity=ds, key=key, value="1")
        else:
            warnings.append("not tagged (no vCenter custom attributes): unprovision keeps it")
    except Exception as exc:
        warnings.append(f"not tagged ({fault_message(exc)}): unprovision keeps it")
    for host in action.rescan:
        try:
            ss = vim.host.StorageSystem(snap.storage_system[host], session.stub)
            session.call(ss.RescanVmfs)
        except Exception as exc:  # the datastore exists; a host that misses it is reported
            warnings.append(f"{host}: rescan failed ({fault_message(exc)})")
    for w in warnings:
        log.warning("%s: %s", action.name, w)
    return ActionResult("datastore", action.name, CREATE, True, "; ".join(warnings) or None,
                        moid=ds._GetMoId(), seconds=time.monotonic() - start)


def _find_vm(session: Session, name: str) -> tuple[object, dict] | None:
    objs = _retrieve(session, [(vim.VirtualMachine, ["name", "config.extraConfig", "runtime.powerState"])])
    for obj, p in objs.values():
        if p.get("name") == name:
            return obj, p
    return None


def _destroy_vm(session: Session, vm, power_state: str, timeout: float) -> None:
    if power_state == "poweredOn":
        t = session.call(vm.PowerOffVM_Task, idempotent=False)
        _expect(wait_tasks(session, {"power-off": t}, timeout)["power-off"], "power off")
    t = session.call(vm.Destroy_Task, idempotent=False)
    _expect(wait_tasks(session, {"destroy": t}, timeout)["destroy"], "destroy")


def _expect(outcome: tuple[str, object], what: str) -> object:
    state, value = outcome
    if state == "success":
        return value
    if state == "timeout":
        raise TaskFailed(f"{what} timed out")
    raise TaskFailed(f"{what} failed: {fault_message(value) if value else 'unknown error'}")


def _cleanup_vm(session: Session, name: str) -> str:
    """Remove a half-made VM of ours after a failed/cancelled create. Returns a note."""
    try:
        found = _find_vm(session, name)
        if found is None:
            return "nothing left behind"
        vm, p = found
        if not _tagged_vm(p):
            return "a VM of that name exists but is not ours; left alone"
        _destroy_vm(session, vm, str(p.get("runtime.powerState") or ""), 120)
        return "half-made VM removed"
    except Exception as exc:
        return f"cleanup failed: {fault_message(exc)}"


def execute_provision(session: Session, snap: Snapshot, plan: ProvisionPlan,
                      options: ProvisionOptions, progress: Progress | None = None) -> tuple[ActionResult, ...]:
    """Create the plan's datastores (one by one), then start every VM create and wait for all."""
    results: list[ActionResult] = []
    failed_ds: set[str] = set()
    for a in plan.datastores:
        if a.kind != CREATE:
            continue
        try:
            results.append(_create_datastore(session, snap, a))
        except Exception as exc:
            failed_ds.add(a.name)
            results.append(ActionResult("datastore", a.name, CREATE, False, _message(exc)))
    started: dict[str, tuple[vim.Task, float]] = {}
    for v in plan.vms:
        if v.kind != CREATE:
            continue
        if v.datastore in failed_ds:
            results.append(ActionResult("vm", v.name, CREATE, False,
                                        f"datastore {v.datastore} was not created"))
            continue
        try:
            folder = vim.Folder(snap.vm_folder[v.host], session.stub)
            pool = vim.ResourcePool(snap.resource_pool[v.host], session.stub)
            host = vim.HostSystem(snap.host_moid[v.host], session.stub)
            task = session.call(folder.CreateVM_Task, config=_vm_spec(v.name, v.datastore, options),
                                pool=pool, host=host, idempotent=False)
            started[v.name] = (task, time.monotonic())
        except Exception as exc:
            note = _cleanup_vm(session, v.name)
            results.append(ActionResult("vm", v.name, CREATE, False, f"{_message(exc)} ({note})"))
    if started:
        outcomes = wait_tasks(session, {n: t for n, (t, _) in started.items()}, options.timeout, progress)
        for name, (task, t0) in started.items():
            state, value = outcomes[name]
            secs = time.monotonic() - t0
            if state == "success":
                results.append(ActionResult("vm", name, CREATE, True, moid=value._GetMoId(), seconds=secs))
                continue
            if state == "timeout":
                _cancel(session, task)
                error = f"not finished after {options.timeout:.0f}s; cancelled"
            else:
                error = fault_message(value) if value is not None else "task failed"
            results.append(ActionResult("vm", name, CREATE, False,
                                        f"{error} ({_cleanup_vm(session, name)})", seconds=secs))
    return tuple(results)


def _cancel(session: Session, task) -> None:
    try:
        session.call(task.CancelTask, idempotent=False)
        wait_tasks(session, {"cancel": task}, 30)
    except Exception as exc:
        log.warning("cancel: %s", fault_message(exc))


def execute_unprovision(session: Session, snap: Snapshot, plan: ProvisionPlan,
                        timeout: float = 600, progress: Progress | None = None) -> tuple[ActionResult, ...]:
    """Remove the plan's VMs, then (only if all their VMs are gone) its datastores."""
    results: list[ActionResult] = []
    for v in plan.vms:
        if v.kind != REMOVE:
            continue
        start = time.monotonic()
        try:
            facts = next(x for x in snap.facts.vms if x.moid == v.moid)
            vm = vim.VirtualMachine(v.moid, session.stub)
            _destroy_vm(session, vm, facts.power_state, timeout)
            results.append(ActionResult("vm", v.name, REMOVE, True, moid=v.moid,
                                        seconds=time.monotonic() - start))
            if progress:
                progress(v.name, 100, "success")
        except Exception as exc:
            results.append(ActionResult("vm", v.name, REMOVE, False, _message(exc), v.moid))
    failed_vm_ds = {d for r, v in zip(results, [x for x in plan.vms if x.kind == REMOVE])
                    if not r.ok for d in v.datastore.split(",")}
    for a in plan.datastores:
        if a.kind != REMOVE:
            continue
        if a.name in failed_vm_ds:
            results.append(ActionResult("datastore", a.name, REMOVE, False,
                                        "a VM on it could not be removed"))
            continue
        start = time.monotonic()
        try:
            dss = vim.host.DatastoreSystem(snap.datastore_system[a.host], session.stub)
            session.call(dss.RemoveDatastore, datastore=vim.Datastore(a.moid, session.stub),
                         idempotent=False)
            results.append(ActionResult("datastore", a.name, REMOVE, True, moid=a.moid,
                                        seconds=time.monotonic() - start))
        except Exception as exc:
            results.append(ActionResult("datastore", a.name, REMOVE, False, _message(exc), a.moid))
    return tuple(results)


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, EsxpathError) else fault_message(exc)
