"""read_inventory: one PropertyCollector read for all hosts, then esxcli facts per host.

Round trips: one RetrievePropertiesEx (plus ContinueRetrievePropertiesEx while the server pages)
collects the hosts and, in the same collection, the compute resources, folders and datacenters
they sit in. Then each host gets one `storage nmp device list` and one `storage nmp path list`
in a bounded thread pool; a host that fails gets Host.error and never stops the others.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pyVmomi import vim, vmodl

from ..errors import EsxpathError, ScopeError
from ..model import (
    Device,
    DevicePolicy,
    Host,
    Inventory,
    Path,
    SatpRule,
    Scope,
    Selector,
    TpgState,
)
from .esxcli import Esxcli
from .parse import (
    adapter_from_key,
    as_list,
    format_wwn,
    parse_path_tpg,
    parse_rr_device_config,
    parse_tpgs,
    target_wwpn_from_path_name,
)
from .session import Session, fault_message

log = logging.getLogger("esxpath.vsphere")

HOST_PROPERTIES = [
    "name",
    "parent",
    "runtime.connectionState",
    "config.storageDevice.scsiLun",
    "config.storageDevice.multipathInfo",
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


# ----- the one PropertyCollector read -----

def _filter_spec(view) -> vmodl.query.PropertyCollector.FilterSpec:
    PC = vmodl.query.PropertyCollector
    traverse_view = PC.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse_view])],
        propSet=[
            PC.PropertySpec(type=vim.HostSystem, pathSet=HOST_PROPERTIES),
            PC.PropertySpec(type=vim.ComputeResource, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Folder, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Datacenter, pathSet=["name", "parent"]),
        ],
    )


def _collect(session: Session):
    """({moid: (managed object, {property: value})} for every host, compute resource, folder and
    datacenter, cleanup) -- cleanup() destroys the view and collector; it may run in parallel
    with the per-host reads, so that it costs no wall time."""
    content = session.content
    # Retrying a Create* at worst leaves a spare view/collector, which dies with the session.
    view = session.call(content.viewManager.CreateContainerView, content.rootFolder,
                        [vim.HostSystem, vim.ComputeResource, vim.Folder, vim.Datacenter], True)
    collector = session.call(content.propertyCollector.CreatePropertyCollector)

    def cleanup():
        for destroy in (collector.DestroyPropertyCollector, view.DestroyView):
            try:
                session.call(destroy)
            except Exception as exc:  # cleanup only; the server drops them with the session
                log.debug("cleanup: %s", fault_message(exc))

    try:
        spec = _filter_spec(view)
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=PAGE_SIZE)
        objects: dict[str, tuple[object, dict]] = {}
        result = session.call(collector.RetrievePropertiesEx, specSet=[spec], options=options)
        while result is not None:
            for oc in result.objects or []:
                props = {p.name: p.val for p in oc.propSet or []}
                objects[oc.obj._GetMoId()] = (oc.obj, props)
            if not result.token:
                break
            result = session.call(collector.ContinueRetrievePropertiesEx, token=result.token)
    except BaseException:
        cleanup()
        raise
    return objects, cleanup


def _locate(objects: dict, moid: str) -> tuple[str, str | None, str]:
    """A host's (datacenter, cluster or None, compute resource name) by walking parents in memory."""
    parent = objects.get(moid, (None, {}))[1].get("parent")
    cluster = None
    compute = ""
    datacenter = ""
    seen = 0
    while parent is not None and seen < 64:
        seen += 1
        pprops = objects.get(parent._GetMoId(), (parent, {}))[1]
        if isinstance(parent, vim.ClusterComputeResource) and cluster is None:
            cluster = pprops.get("name")
        if isinstance(parent, vim.ComputeResource) and not compute:
            compute = pprops.get("name", "")
        if isinstance(parent, vim.Datacenter):
            datacenter = pprops.get("name", "")
            break
        parent = pprops.get("parent")
    return datacenter, cluster, compute


def _short(name: str) -> str:
    return name.split(".", 1)[0]


def _select_hosts(objects: dict, scope: Scope) -> list[_RawHost]:
    hosts = []
    for moid, (obj, props) in objects.items():
        if not isinstance(obj, vim.HostSystem):
            continue
        dc, cluster, compute = _locate(objects, moid)
        hosts.append(_RawHost(moid, props, dc, cluster, compute))
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

def _device_from_api(lun, lu) -> Device:
    capacity = 0
    cap = getattr(lun, "capacity", None)
    if cap is not None:
        capacity = int(cap.block) * int(cap.blockSize)
    policy = DevicePolicy(
        satp=getattr(getattr(lu, "storageArrayTypePolicy", None), "policy", None) if lu else None,
        psp=getattr(getattr(lu, "policy", None), "policy", None) if lu else None,
    )
    paths = []
    for p in (lu.path if lu else None) or []:
        transport = p.transport
        wwpn = format_wwn(getattr(transport, "portWorldWideName", None)) \
            if isinstance(transport, vim.host.FibreChannelTargetTransport) else None
        paths.append(Path(
            name=p.name,
            runtime_name="",
            adapter=adapter_from_key(p.adapter),
            state=p.state or "unknown",
            working=bool(p.isWorkingPath),
            target_wwpn=wwpn or target_wwpn_from_path_name(p.name),
        ))
    return Device(
        canonical_name=lun.canonicalName,
        vendor=(lun.vendor or "").strip(),
        model=(lun.model or "").strip(),
        display_name=lun.displayName or "",
        # SetMultipathLunPolicy takes the multipath LogicalUnit id (on ESXi: the ScsiLun uuid)
        uuid=(lu.id if lu else None) or lun.uuid or "",
        capacity_bytes=capacity,
        is_local=bool(getattr(lun, "localDisk", False)),
        policy=policy,
        paths=tuple(paths),
    )


def _api_devices(props: dict) -> list[Device]:
    luns = props.get("config.storageDevice.scsiLun") or []
    mp = props.get("config.storageDevice.multipathInfo")
    lu_by_lun = {lu.lun: lu for lu in (getattr(mp, "lun", None) or [])}
    devices = []
    for lun in luns:
        if not isinstance(lun, vim.host.ScsiDisk) and getattr(lun, "lunType", "") != "disk":
            continue
        devices.append(_device_from_api(lun, lu_by_lun.get(lun.key)))
    return devices


def _merge_esxcli(dev: Device, dev_row: dict | None, path_rows: dict[str, dict]) -> Device:
    policy = dev.policy
    tpgs = dev.tpgs
    if dev_row:
        psp = dev_row.get("PathSelectionPolicy") or policy.psp
        rr = parse_rr_device_config(dev_row.get("PathSelectionPolicyDeviceConfig")) \
            if psp == "VMW_PSP_RR" else None
        policy = DevicePolicy(
            satp=dev_row.get("StorageArrayType") or policy.satp,
            psp=psp,
            limit_type=rr.limit_type if rr else None,
            iops=rr.iops if rr else None,
            bytes=rr.bytes if rr else None,
            use_ano=rr.use_ano if rr else None,
        )
        tpgs = parse_tpgs(dev_row.get("StorageArrayTypeDeviceConfig"))
    paths = []
    for p in dev.paths:
        row = path_rows.get(p.name)
        if row is None:
            paths.append(p)
            continue
        tpg_id, tpg_state = parse_path_tpg(row.get("StorageArrayTypePathConfig"))
        if tpg_id is not None and tpg_state == TpgState.UNKNOWN:
            tpg_state = next((g.state for g in tpgs if g.id == tpg_id), TpgState.UNKNOWN)
        runtime = row.get("RuntimeName") or p.runtime_name
        paths.append(Path(
            name=p.name, runtime_name=runtime, adapter=p.adapter or adapter_from_key(runtime),
            state=p.state, working=p.working, tpg_id=tpg_id, tpg_state=tpg_state,
            target_wwpn=p.target_wwpn))
    return Device(
        canonical_name=dev.canonical_name, vendor=dev.vendor, model=dev.model,
        display_name=(dev_row or {}).get("DeviceDisplayName") or dev.display_name,
        uuid=dev.uuid, capacity_bytes=dev.capacity_bytes, is_local=dev.is_local,
        policy=policy, tpgs=tpgs, paths=tuple(paths))


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
    base = dict(name=name, moid=raw.moid, datacenter=raw.datacenter, cluster=raw.cluster,
                connection_state=state)
    if state != "connected":
        return Host(**base, error=f"host is {state} in vCenter")
    storage_system = raw.props.get("configManager.storageSystem")
    if storage_system is not None:  # writes.py needs it; saves a round trip per host there
        with session.cache_lock:
            session.cache[("storage_system", raw.moid)] = storage_system
    devices = _api_devices(raw.props)
    error = None
    rules: tuple[SatpRule, ...] = ()
    if esxcli:
        try:
            cli = Esxcli(session, raw.moid, name)
            dev_rows = {r.get("Device"): r for r in _rows(cli.run("storage nmp device list"))}
            path_rows = {r.get("Path"): r for r in _rows(cli.run("storage nmp path list"))}
            devices = [_merge_esxcli(d, dev_rows.get(d.canonical_name), path_rows) for d in devices]
            if satp_rules:
                rules = tuple(_satp_rule(r) for r in _rows(cli.run("storage nmp satp rule list")))
        except EsxpathError as exc:
            error = str(exc).removeprefix(f"{name}: ")
        except Exception as exc:  # a vSphere fault or a dropped connection: this host only
            error = f"esxcli failed: {fault_message(exc)}"
        if error:
            log.warning("%s: %s", name, error)
    if selector is not None:
        devices = [d for d in devices if selector.matches(d)]
    return Host(**base, devices=tuple(sorted(devices, key=lambda d: d.canonical_name)),
                error=error, satp_rules=rules)


def _rows(result) -> list[dict]:
    return result if isinstance(result, list) else []


def read_inventory(session: Session, scope: Scope, selector: Selector | None = None,
                   parallel: int = 8, esxcli: bool = True, satp_rules: bool = False) -> Inventory:
    """The hosts in scope with their devices and paths (only devices the selector matches).

    Raises ScopeError for an unknown datacenter/cluster/host; per-host trouble lands in Host.error.
    satp_rules=True adds a third esxcli call per host (`storage nmp satp rule list`).
    """
    try:
        objects, cleanup = _collect(session)
    except Exception as exc:  # the vCenter-wide read failed: nothing can be said about any host
        err = session.translate(exc)
        if err is exc:
            raise
        raise err from exc
    try:
        raws = _select_hosts(objects, scope)
    except BaseException:
        cleanup()
        raise
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(raws))) + 1,
                            thread_name_prefix="esxpath-host") as pool:
        pool.submit(cleanup)
        hosts = list(pool.map(lambda r: _safe_read_host(session, r, selector, esxcli, satp_rules), raws))
    return Inventory(tuple(hosts))


def _safe_read_host(session, raw, selector, esxcli, satp_rules) -> Host:
    try:
        return _read_host(session, raw, selector, esxcli, satp_rules)
    except Exception as exc:  # never let one host abort the others
        name = raw.props.get("name") or raw.moid
        log.warning("%s: %s", name, fault_message(exc))
        return Host(name=name, moid=raw.moid, datacenter=raw.datacenter, cluster=raw.cluster,
                    connection_state=str(raw.props.get("runtime.connectionState") or "unknown"),
                    error=fault_message(exc).removeprefix(f"{name}: "))
