"""read_inventory: collect -> select -> a bounded pool of host reads.

Round trips: one RetrievePropertiesEx (plus ContinueRetrievePropertiesEx while the server pages)
collects the hosts and, in the same collection, the compute resources, folders and datacenters
they sit in. The hosts in scope are selected from that in memory. Then each host gets
RetrieveManagedMethodExecuter, one `storage nmp device list` and one `storage nmp path list`,
in a thread pool of --parallel workers; a host that fails gets Host.error and never stops the
others.

What comes from where: devices (vendor, model, size, uuid, operational state) from the typed
API's scsiLun; policy, TPGs and paths from esxcli, which must be read anyway for the ALUA facts.
The typed API's multipathInfo says nothing more and is 3/4 of the read's bytes, so it is only
read where esxcli is not: esxcli=False, a host whose esxcli failed, and a host with a disk
that NMP does not claim (to learn which plugin does).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from pyVmomi import vim, vmodl

from ..core.model import MPP_NMP, Device, DevicePolicy, Host, Inventory, Path, SatpRule, Scope, Selector
from ..errors import EsxpathError, ScopeError
from .esxcli import Esxcli
from .esxcli_devices import DEVICE_LIST, NOT_NMP, PATH_LIST, UnreadableAnswer, devices_from_esxcli
from .hostprops import MISSING, MULTIPATH_INFO, SCSI_LUN, retrieve
from .parse import adapter_from_key, as_list, format_wwn, target_wwpn_from_path_name
from .records import LogicalUnit, Lun
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")

HOST_PROPERTIES = [
    "name",
    "parent",
    "runtime.connectionState",
    "runtime.inMaintenanceMode",
    SCSI_LUN,
    "configManager.storageSystem",
]
PAGE_SIZE = 100  # hosts per page: big estates page instead of one huge answer


@dataclass
class _RawHost:
    moid: str
    props: dict = field(default_factory=dict)
    datacenter: str = ""
    cluster: str | None = None
    compute_resource: str = ""
    cluster_moid: str = ""
    datacenter_moid: str = ""


# ----- the one PropertyCollector read -----

def _filter_spec(view, host_properties: list[str]) -> vmodl.query.PropertyCollector.FilterSpec:
    PC = vmodl.query.PropertyCollector
    traverse_view = PC.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse_view])],
        propSet=[
            PC.PropertySpec(type=vim.HostSystem, pathSet=host_properties),
            PC.PropertySpec(type=vim.ComputeResource, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Folder, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Datacenter, pathSet=["name", "parent"]),
        ],
    )


def _collect(session: Session, host_properties: list[str]) -> dict:
    """{moid: (managed object, {property: value})} for every host, compute resource, folder and
    datacenter."""
    content = session.content
    # Retrying a Create* at worst leaves a spare view/collector, which dies with the session.
    view = session.call(content.viewManager.CreateContainerView, content.rootFolder,
                        [vim.HostSystem, vim.ComputeResource, vim.Folder, vim.Datacenter], True)
    collector = session.call(content.propertyCollector.CreatePropertyCollector)
    try:
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=PAGE_SIZE)
        return retrieve(session, collector, _filter_spec(view, host_properties), options)
    finally:
        for destroy in (collector.DestroyPropertyCollector, view.DestroyView):
            try:
                session.call(destroy)
            except Exception as exc:  # cleanup only; the server drops them with the session
                log.debug("cleanup: %s", fault_message(exc))


def _locate(objects: dict, moid: str) -> tuple[str, str | None, str, str, str]:
    """A host's (datacenter, cluster or None, compute resource name, cluster moid, datacenter
    moid) by walking parents in memory."""
    parent = objects.get(moid, (None, {}))[1].get("parent")
    cluster = None
    compute = ""
    datacenter = ""
    cluster_moid = datacenter_moid = ""
    seen = 0
    while parent is not None and seen < 64:
        seen += 1
        pprops = objects.get(parent._GetMoId(), (parent, {}))[1]
        if isinstance(parent, vim.ClusterComputeResource) and cluster is None:
            cluster = pprops.get("name")
            cluster_moid = parent._GetMoId()
        if isinstance(parent, vim.ComputeResource) and not compute:
            compute = pprops.get("name", "")
        if isinstance(parent, vim.Datacenter):
            datacenter = pprops.get("name", "")
            datacenter_moid = parent._GetMoId()
            break
        parent = pprops.get("parent")
    return datacenter, cluster, compute, cluster_moid, datacenter_moid


def _short(name: str) -> str:
    return name.split(".", 1)[0]


def _select_hosts(objects: dict, scope: Scope) -> list[_RawHost]:
    hosts = []
    for moid, (obj, props) in objects.items():
        if not isinstance(obj, vim.HostSystem):
            continue
        dc, cluster, compute, cluster_moid, dc_moid = _locate(objects, moid)
        hosts.append(_RawHost(moid, props, dc, cluster, compute, cluster_moid, dc_moid))
    datacenters = {p.get("name") for o, p in objects.values() if isinstance(o, vim.Datacenter)}
    if scope.datacenter and scope.datacenter not in datacenters:
        raise ScopeError(f"datacenter {scope.datacenter!r} not found "
                         f"(known: {', '.join(sorted(filter(None, datacenters))) or 'none'})")
    if scope.datacenter:
        hosts = [h for h in hosts if h.datacenter == scope.datacenter]
    if scope.cluster:
        clusters = {h.cluster for h in hosts if h.cluster}
        # a cluster without hosts is still a valid scope
        clusters |= {p.get("name") for o, p in objects.values()
                     if isinstance(o, vim.ClusterComputeResource)}
        if scope.cluster not in clusters:
            where = f" in datacenter {scope.datacenter!r}" if scope.datacenter else ""
            raise ScopeError(f"cluster {scope.cluster!r} not found{where} "
                             f"(known: {', '.join(sorted(filter(None, clusters))) or 'none'})")
        hosts = [h for h in hosts if h.cluster == scope.cluster]
    if scope.hosts:
        wanted = list(dict.fromkeys(scope.hosts))
        picked, missing = [], []
        for name in wanted:
            match = [h for h in hosts if h.props.get("name") == name] or \
                    [h for h in hosts if _short(h.props.get("name", "")) == _short(name)]
            if not match:
                missing.append(name)
            picked += [h for h in match if h not in picked]
        if missing:
            within = " in the given datacenter/cluster" if scope.datacenter or scope.cluster else ""
            raise ScopeError(f"host(s) not found{within}: {', '.join(missing)}")
        hosts = picked
    return sorted(hosts, key=lambda h: h.props.get("name", ""))


# ----- building model objects -----

def _device_from_api(lun: Lun, lu: LogicalUnit | None) -> Device:
    """A device as the typed API alone shows it (no esxcli): no TPGs, no RR settings."""
    paths = []
    for p in (lu.paths if lu else ()):
        wwpn = format_wwn(p.target_wwpn) if p.target_wwpn is not None else None
        paths.append(Path(
            name=p.name,
            runtime_name="",
            adapter=adapter_from_key(p.adapter),
            state=p.state or "unknown",
            working=p.working,
            target_wwpn=wwpn or target_wwpn_from_path_name(p.name),
        ))
    return Device(
        canonical_name=lun.canonical_name,
        vendor=lun.vendor.strip(),
        model=lun.model.strip(),
        display_name=lun.display_name,
        # SetMultipathLunPolicy takes the multipath LogicalUnit id (on ESXi: the ScsiLun uuid)
        uuid=(lu.id if lu else None) or lun.uuid,
        capacity_bytes=lun.capacity_bytes,
        is_local=lun.is_local,
        policy=DevicePolicy(satp=lu.satp if lu else None, psp=lu.psp if lu else None),
        paths=tuple(paths),
        mpp=lu.mpp if lu else MPP_NMP,
        operational_state=lun.operational_state,
    )


def _api_devices(props: dict, units: list[LogicalUnit] | None) -> list[Device]:
    lu_by_lun = {lu.lun: lu for lu in units or []}
    return [_device_from_api(lun, lu_by_lun.get(lun.key))
            for lun in props.get(SCSI_LUN) or [] if lun.is_disk]


def _multipath_info(session: Session, host_moid: str) -> list[LogicalUnit] | None:
    """One host's multipathInfo, for a host whose esxcli failed; None if that fails too.
    The session's own collector is fine here: a one-object read keeps no state and never pages."""
    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=vim.HostSystem(host_moid, session.stub))],
                         propSet=[PC.PropertySpec(type=vim.HostSystem, pathSet=[MULTIPATH_INFO])])
    try:
        objects = retrieve(session, session.content.propertyCollector, spec, PC.RetrieveOptions())
    except Exception as exc:  # already failing host: show what we have
        log.debug("%s: multipathInfo: %s", host_moid, fault_message(exc))
        return None
    return objects.get(host_moid, (None, {}))[1].get(MULTIPATH_INFO)


def _satp_rule(row: dict) -> SatpRule:
    def col(key):
        v = row.get(key)
        return " ".join(as_list(v)) if isinstance(v, list) else (v or "")
    return SatpRule(
        satp=col("Name"), vendor=col("Vendor"), model=col("Model"), psp=col("DefaultPSP"),
        psp_options=col("PSPOptions"), claim_options=col("ClaimOptions"),
        description=col("Description"), options=col("Options"), transport=col("Transport"),
        driver=col("Driver"), device=col("Device"), rule_group=col("RuleGroup"))


def _read_host(session: Session, raw: _RawHost, selector: Selector | None, esxcli: bool,
               satp_rules: bool) -> Host:
    name = raw.props.get("name") or raw.moid
    state = str(raw.props.get("runtime.connectionState") or "unknown")
    base: dict[str, Any] = dict(name=name, moid=raw.moid, datacenter=raw.datacenter, cluster=raw.cluster,
                connection_state=state, cluster_moid=raw.cluster_moid, datacenter_moid=raw.datacenter_moid,
                maintenance=str(raw.props.get("runtime.inMaintenanceMode")).lower() == "true")
    if state != "connected":
        return Host(**base, error=f"host is {state} in vCenter")
    unreadable = {k: v for k, v in (raw.props.get(MISSING) or {}).items()
                  if k.startswith("config.storageDevice")}
    if unreadable:  # vCenter could not read it: unverifiable, not a host without LUNs
        why = "; ".join(f"{k} unreadable ({v})" for k, v in sorted(unreadable.items()))
        return Host(**base, error=why)
    if not esxcli:
        return _host(base, _api_devices(raw.props, raw.props.get(MULTIPATH_INFO)), selector)
    try:
        cli = Esxcli(session, raw.moid, name)
        luns = raw.props.get(SCSI_LUN) or []
        devices = devices_from_esxcli(luns, cli.fetch(DEVICE_LIST), cli.fetch(PATH_LIST))
    except UnreadableAnswer as exc:  # a malformed answer is a host problem, not a crash
        return _without_esxcli(session, raw, base, selector, str(exc))
    except Exception as exc:
        return _without_esxcli(session, raw, base, selector, _esxcli_error(name, exc))
    rules: tuple[SatpRule, ...] = ()
    error = None
    if satp_rules:
        try:
            rules = tuple(_satp_rule(r) for r in _rows(cli.run("storage nmp satp rule list")))
        except Exception as exc:  # the devices are known; only the rules are missing
            error = _esxcli_error(name, exc)
            log.warning("%s: %s", name, error)
    return _host(base, _plugins_named(session, raw.moid, devices, selector), selector,
                 error=error, satp_rules=rules)


def _plugins_named(session: Session, host_moid: str, devices: list[Device],
                   selector: Selector | None) -> list[Device]:
    """Disks that `nmp device list` does not know are claimed by another plugin; the typed API
    says which (HPP). One extra read, only on a host that has such a disk in scope."""
    odd = {d.canonical_name for d in devices
           if d.mpp == NOT_NMP and (selector is None or selector.matches(d))}
    if not odd:
        return devices
    mpp_of = {lu.id: lu.mpp for lu in _multipath_info(session, host_moid) or [] if lu.mpp != MPP_NMP}
    return [replace(d, mpp=mpp_of[d.uuid]) if d.canonical_name in odd and d.uuid in mpp_of else d
            for d in devices]


def _esxcli_error(name: str, exc: Exception) -> str:
    if isinstance(exc, EsxpathError):
        return str(exc).removeprefix(f"{name}: ")
    return f"esxcli failed: {fault_message(exc)}"  # a vSphere fault or a dropped connection


def _without_esxcli(session: Session, raw: _RawHost, base: dict, selector: Selector | None,
                    error: str) -> Host:
    """A host whose esxcli failed: the typed API's view survives (path states, no TPG facts)."""
    log.warning("%s: %s", base["name"], error)
    devices = _api_devices(raw.props, _multipath_info(session, raw.moid))
    return _host(base, devices, selector, error=error)


def _host(base: dict, devices: list[Device], selector: Selector | None, **extra) -> Host:
    if selector is not None:
        devices = [d for d in devices if selector.matches(d)]
    return Host(**base, devices=tuple(sorted(devices, key=lambda d: d.canonical_name)), **extra)


def _rows(result) -> list[dict]:
    return result if isinstance(result, list) else []


def read_inventory(session: Session, scope: Scope, selector: Selector | None = None,
                   parallel: int = 8, esxcli: bool = True, satp_rules: bool = False) -> Inventory:
    """The hosts in scope with their devices and paths (only devices the selector matches).

    Raises ScopeError for an unknown datacenter/cluster/host; per-host trouble lands in Host.error.
    satp_rules=True adds a third esxcli call per host (`storage nmp satp rule list`).
    """
    host_properties = HOST_PROPERTIES if esxcli else HOST_PROPERTIES + [MULTIPATH_INFO]
    try:
        try:
            objects = _collect(session, host_properties)
        except vmodl.fault.ManagedObjectNotFound:
            # The view and collector belong to the session: if it expired between their
            # creation and the read, the re-login made a new session without them. Once more.
            objects = _collect(session, host_properties)
    except Exception as exc:  # the vCenter-wide read failed: nothing can be said about any host
        err = session.translate(exc)
        if err is exc:
            raise
        raise err from exc
    raws = _select_hosts(objects, scope)
    read = partial(_reading, session, selector=selector, esxcli=esxcli, satp_rules=satp_rules)
    # --parallel is how many hosts are worked on at once: exactly this pool's size
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="esxpath-host")
    try:
        hosts = tuple(pool.map(read, raws))
    finally:  # on an error (Ctrl-C) hosts not started yet are not started at all
        pool.shutdown(wait=True, cancel_futures=True)
    return Inventory(hosts)


def _reading(session, raw, *, selector, esxcli, satp_rules) -> Host:
    try:
        return _read_host(session, raw, selector, esxcli, satp_rules)
    except Exception as exc:  # never let one host abort the others
        return _failed(raw, exc)


def _failed(raw: _RawHost, exc: Exception) -> Host:
    name = raw.props.get("name") or raw.moid
    log.warning("%s: %s", name, fault_message(exc))
    return Host(name=name, moid=raw.moid, datacenter=raw.datacenter, cluster=raw.cluster,
                cluster_moid=raw.cluster_moid, datacenter_moid=raw.datacenter_moid,
                connection_state=str(raw.props.get("runtime.connectionState") or "unknown"),
                error=fault_message(exc).removeprefix(f"{name}: "))
