"""The inventory's PropertyCollector read, decoded from XML into the few fields the model uses.

RetrievePropertiesEx goes out through rawsoap (pyVmomi's request, ElementTree's parse): at
256 hosts x 32 LUNs, `config.storageDevice.scsiLun` alone is ~280k XML elements, which pyVmomi
turns into objects in ~3 s of CPU and ElementTree parses in ~0.15 s. Values come back as
pyVmomi would give them for managed objects (parent, configManager.storageSystem) and plain
strings for simple properties; the storage properties become the small records of records.py.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from pyVmomi import vim

from ..core.model import MPP_HPP, MPP_NMP
from . import rawsoap
from .rawsoap import VIM, data_type, managed_object
from .records import ApiPath, LogicalUnit, Lun

SCSI_LUN = "config.storageDevice.scsiLun"
MULTIPATH_INFO = "config.storageDevice.multipathInfo"
# props[MISSING]: {property path: fault text} for the properties vCenter could not read (the
# object's missingSet). A missing storage property is an unreadable host, not one without LUNs.
MISSING = "missingSet"


def retrieve(session, collector, spec, options) -> dict[str, tuple[object, dict]]:
    """{moid: (managed object, {property: value})} over every page of the answer."""
    stub = session.stub
    objects: dict[str, tuple[object, dict]] = {}
    result = session.call(rawsoap.invoke, stub, collector, "RetrievePropertiesEx", [spec], options)
    while result is not None:
        page, token = decode_result(result, stub)
        objects.update(page)
        result = None  # this page's tree (10 MB and more) goes before the next one comes
        if token:
            result = session.call(rawsoap.invoke, stub, collector, "ContinueRetrievePropertiesEx", token)
    return objects


def decode_result(result: ET.Element, stub) -> tuple[dict[str, tuple[object, dict]], str | None]:
    """One page (a RetrieveResult <returnval>): its objects and the token of the next page.
    tests/sim/test_decode_differential.py holds this to what pyVmomi's own deserializer reads."""
    objects = {}
    for oc in result.iterfind(VIM + "objects"):
        props = {}
        for ps in oc.iterfind(VIM + "propSet"):
            name = ps.findtext(VIM + "name") or ""
            props[name] = _value(name, ps.find(VIM + "val"), stub)
        missing = {m.findtext(VIM + "path") or "?": _fault_text(m.find(VIM + "fault"))
                   for m in oc.iterfind(VIM + "missingSet")}
        if missing:
            props[MISSING] = missing
        ref = oc.find(VIM + "obj")
        if ref is None:
            raise ValueError("an ObjectContent without obj")
        obj = managed_object(ref, stub)
        objects[obj._GetMoId()] = (obj, props)
    return objects, result.findtext(VIM + "token")


def _value(name: str, val: ET.Element | None, stub):
    if val is None:
        return None
    if name == SCSI_LUN:
        return [_lun(e) for e in val]
    if name == MULTIPATH_INFO:
        return [_logical_unit(e) for e in val.iterfind(VIM + "lun")]
    if val.get("type") is not None:  # a ManagedObjectReference
        return managed_object(val, stub)
    if (val.get(rawsoap.XSI_TYPE) or "").rpartition(":")[2].startswith("ArrayOf"):
        return [managed_object(c, stub) if c.get("type") is not None else c.text for c in val]
    if len(val):  # a data object this decoder does not know: refuse rather than misread it
        raise ValueError(f"hostprops cannot decode property {name} ({val.get(rawsoap.XSI_TYPE)})")
    return val.text


def _fault_text(fault: ET.Element | None) -> str:
    """A LocalizedMethodFault: its message, else the fault's type name."""
    if fault is None:
        return "unknown fault"
    message = (fault.findtext(VIM + "localizedMessage") or "").strip()
    inner = fault.find(VIM + "fault")
    kind = (inner.get(rawsoap.XSI_TYPE) or "").rpartition(":")[2] if inner is not None else ""
    return ": ".join(x for x in (kind, message) if x) or "unknown fault"


def _text(el: ET.Element, tag: str) -> str:
    return el.findtext(VIM + tag) or ""


def _bool(el: ET.Element, tag: str) -> bool:
    return _text(el, tag).strip() in ("true", "1")


def _is(el: ET.Element, cls: type) -> bool:
    t = data_type(el)
    return t is not None and issubclass(t, cls)


def _lun(el: ET.Element) -> Lun:
    cap = el.find(VIM + "capacity")
    capacity = int(_text(cap, "block") or 0) * int(_text(cap, "blockSize") or 0) if cap is not None else 0
    return Lun(
        key=_text(el, "key"), uuid=_text(el, "uuid"), canonical_name=_text(el, "canonicalName"),
        display_name=_text(el, "displayName"), vendor=_text(el, "vendor"), model=_text(el, "model"),
        is_disk=_is(el, vim.host.ScsiDisk) or _text(el, "lunType") == "disk",
        capacity_bytes=capacity, is_local=_bool(el, "localDisk"),
        operational_state=tuple(e.text or "" for e in el.iterfind(VIM + "operationalState"))
        or ("ok",))


def _policy(el: ET.Element, tag: str) -> str | None:
    p = el.find(VIM + tag)
    return p.findtext(VIM + "policy") if p is not None else None


def _logical_unit(el: ET.Element) -> LogicalUnit:
    paths = []
    for p in el.iterfind(VIM + "path"):
        transport = p.find(VIM + "transport")
        wwpn = None
        if transport is not None and _is(transport, vim.host.FibreChannelTargetTransport):
            text = _text(transport, "portWorldWideName")
            wwpn = int(text) if text else None
        paths.append(ApiPath(name=_text(p, "name"), adapter=_text(p, "adapter"),
                             state=_text(p, "state"), working=_bool(p, "isWorkingPath"),
                             target_wwpn=wwpn))
    policy = el.find(VIM + "policy")
    hpp = policy is not None and _is(policy, vim.host.MultipathInfo.HppLogicalUnitPolicy)
    return LogicalUnit(id=_text(el, "id"), lun=_text(el, "lun"), psp=_policy(el, "policy"),
                       satp=_policy(el, "storageArrayTypePolicy"), paths=tuple(paths),
                       mpp=MPP_HPP if hpp else MPP_NMP)
