"""What provision and unprovision start from: one read of hosts, datastores, VMs and the
disks free for VMFS (collect), as facts for the pure planner (esxpath.core.provisioning) plus the
managed-object ids execution needs (Snapshot)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyVmomi import vim, vmodl

from ..core.model import Inventory, Scope, Selector
from ..core.provisioning import PROVISION_KEY, DatastoreFacts, LunFacts, ProvisionFacts, VmFacts
from ..errors import HostError
from .inventory import read_inventory
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")


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
    host_name_of = _hosts(snap, objs)
    snap.field_key = _field_key(session) if session.is_vcenter else None
    vms, vm_names = _vms(objs, host_name_of)
    datastores, ds_of_lun = _datastores(snap, objs, host_name_of, vm_names)
    snap.facts = ProvisionFacts(
        luns=_luns(inv, ds_of_lun, _VmfsOffer(session, snap)),
        datastores=tuple(sorted(datastores, key=lambda x: x.name)),
        vms=tuple(sorted(vms, key=lambda v: v.name)),
        can_tag_datastores=session.is_vcenter and session.content.customFieldsManager is not None,
        hosts=tuple(h.name for h in inv.hosts))
    return snap


def _hosts(snap: Snapshot, objs: dict) -> dict[str, str]:
    """Each host's moids for execution into snap; answers host moid -> name."""
    host_name_of = {}
    for moid, (obj, p) in objs.items():
        if not isinstance(obj, vim.HostSystem):
            continue
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
    return host_name_of


def _vms(objs: dict, host_name_of: dict[str, str]) -> tuple[list[VmFacts], dict[str, str]]:
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
    return vms, vm_names


def _datastores(snap: Snapshot, objs: dict, host_name_of: dict[str, str],
                vm_names: dict[str, str]) -> tuple[list[DatastoreFacts], dict[str, str]]:
    """The datastores (their moids into snap), and LUN -> the datastore on it."""
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
    return datastores, ds_of_lun


class _VmfsOffer:
    """The disks offered for VMFS, asked of the first host that answers (the answer is
    SAN-wide), each host at most once."""

    def __init__(self, session: Session, snap: Snapshot) -> None:
        self.session, self.snap = session, snap
        self.on: dict[str, set[str]] = {}
        self.failed: set[str] = set()

    def __call__(self, hosts: tuple[str, ...]) -> set[str]:
        error = None
        for host in hosts:
            if host in self.failed:
                continue
            if host not in self.on:
                try:
                    dss = vim.host.DatastoreSystem(self.snap.datastore_system[host], self.session.stub)
                    disks = self.session.call(dss.QueryAvailableDisksForVmfs) or []
                except Exception as exc:  # try the next host that sees the LUN
                    error = f"{host}: {fault_message(exc)}"
                    log.warning("QueryAvailableDisksForVmfs: %s", error)
                    self.failed.add(host)
                    continue
                self.on[host] = {d.canonicalName for d in disks}
            return self.on[host]
        raise HostError(hosts[0] if hosts else "?", f"cannot list disks available for VMFS ({error})")


def _luns(inv: Inventory, ds_of_lun: dict[str, str], available: _VmfsOffer) -> tuple[LunFacts, ...]:
    """The in-scope LUNs, the connected hosts that see them, whether they are offered for VMFS."""
    seen: dict[str, dict] = {}
    for h in inv.hosts:
        if not h.verifiable:
            continue
        for d in h.devices:
            e = seen.setdefault(d.canonical_name, {"dev": d, "hosts": []})
            e["hosts"].append(h.name)
    luns = []
    for canonical in sorted(seen):
        d, hosts = seen[canonical]["dev"], tuple(sorted(seen[canonical]["hosts"]))
        ds = ds_of_lun.get(canonical)
        luns.append(LunFacts(
            canonical=canonical, vendor=d.vendor, model=d.model, capacity_bytes=d.capacity_bytes,
            hosts=hosts, datastore=ds,
            available=bool(hosts) and ds is None and canonical in available(hosts)))
    return tuple(luns)


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


# ----- execution -----
