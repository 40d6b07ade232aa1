"""provision / unprovision through vSphere: VMFS on empty eui LUNs, eager-zeroed test VMs.

collect() reads a snapshot (facts for the pure planner in esxpath.core.provisioning, plus the
managed-object ids execution needs); execute() carries out exactly the plan the CLI showed.
Writes are never retried blindly (CreateVmfsDatastore, CreateVM_Task are not idempotent); a
failed or timed-out VM create is cancelled and its half-made VM removed. Task waiting with
progress: tasks.py.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pyVmomi import vim

from ..core.provisioning import CREATE, PROVISION_KEY, REMOVE, ActionResult, ProvisionOptions, ProvisionPlan
from ..errors import EsxpathError, TaskFailed

# collect() and wait_tasks() are part of this module's interface (the CLI and tests use them)
from .provision_read import Snapshot, _field_key, _retrieve, _tagged_vm, collect  # noqa: F401
from .session import Session, fault_message
from .tasks import Progress, wait_tasks
from .tasks import cancel_task as _cancel

log = logging.getLogger("esxpath.vsphere")

ANNOTATION = "fio test VM created by esxpath provision; `esxpath unprovision` removes it"
TEST_DISK_UNIT = 1  # SCSI 0:1, so that an OS disk at 0:0 is /dev/sda and the test disk /dev/sdb


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


def _expect(outcome: tuple[str, Any], what: str) -> Any:
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


INTERRUPTED = "not done: interrupted"


def _create_datastores(session: Session, snap: Snapshot, plan: ProvisionPlan,
                       progress: Progress | None,
                       stopped: Callable[[], bool]) -> tuple[list[ActionResult], set[str]]:
    """The plan's datastores, one by one (each a progress step); the results and the failed."""
    results: list[ActionResult] = []
    failed: set[str] = set()
    for a in plan.datastores:
        if a.kind != CREATE:
            continue
        if stopped():
            failed.add(a.name)
            results.append(ActionResult("datastore", a.name, CREATE, False, INTERRUPTED))
            continue
        step = f"datastore {a.name}"
        if progress:
            progress(step, None, "running")
        try:
            results.append(_create_datastore(session, snap, a))
        except Exception as exc:
            failed.add(a.name)
            results.append(ActionResult("datastore", a.name, CREATE, False, _message(exc)))
        if progress:
            progress(step, 100, "error" if a.name in failed else "success")
    return results, failed


def execute_provision(session: Session, snap: Snapshot, plan: ProvisionPlan,
                      options: ProvisionOptions, progress: Progress | None = None,
                      stop: threading.Event | None = None) -> tuple[ActionResult, ...]:
    """Create the plan's datastores (one by one), then start every VM create and wait for all.
    Once `stop` is set nothing new starts and unfinished VM creates are cancelled and cleaned up."""
    stopped = stop.is_set if stop is not None else (lambda: False)
    results, failed_ds = _create_datastores(session, snap, plan, progress, stopped)
    started: dict[str, tuple[vim.Task, float]] = {}
    for v in plan.vms:
        if v.kind != CREATE:
            continue
        if stopped():
            results.append(ActionResult("vm", v.name, CREATE, False, INTERRUPTED))
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
        outcomes = wait_tasks(session, {n: t for n, (t, _) in started.items()}, options.timeout,
                              progress, stop=stop)
        for name, (task, t0) in started.items():
            state, value = outcomes[name]
            secs = time.monotonic() - t0
            if state == "success":
                results.append(ActionResult("vm", name, CREATE, True, moid=value._GetMoId(), seconds=secs))
                continue
            if state == "timeout":
                _cancel(session, task)
                error = ("interrupted; cancelled" if stopped()
                         else f"not finished after {options.timeout:.0f}s; cancelled")
            else:
                error = fault_message(value) if value is not None else "task failed"
            results.append(ActionResult("vm", name, CREATE, False,
                                        f"{error} ({_cleanup_vm(session, name)})", seconds=secs))
    return tuple(results)


def execute_unprovision(session: Session, snap: Snapshot, plan: ProvisionPlan,
                        timeout: float = 600, progress: Progress | None = None,
                        stop: threading.Event | None = None) -> tuple[ActionResult, ...]:
    """Remove the plan's VMs, then (only if all their VMs are gone) its datastores."""
    results: list[ActionResult] = []
    stopped = stop.is_set if stop is not None else (lambda: False)
    for v in plan.vms:
        if v.kind != REMOVE:
            continue
        if stopped():
            results.append(ActionResult("vm", v.name, REMOVE, False, INTERRUPTED, v.moid))
            continue
        start = time.monotonic()
        if progress:
            progress(v.name, None, "running")
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
            if progress:
                progress(v.name, None, "error")
    failed_vm_ds = {d for r, v in zip(results, [x for x in plan.vms if x.kind == REMOVE], strict=True)
                    if not r.ok for d in v.datastore.split(",")}
    for a in plan.datastores:
        if a.kind != REMOVE:
            continue
        if stopped():
            results.append(ActionResult("datastore", a.name, REMOVE, False, INTERRUPTED, a.moid))
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
