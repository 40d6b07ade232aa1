"""esxpath's own decoder of the big PropertyCollector read (hostprops, ElementTree) against
pyVmomi's deserializer, field by field, on every answer we have:

- every inventory read (RetrievePropertiesEx with the storage properties) in cassettes/,
- live answers of the simulator for random estates (HPP devices, unreadable storage, LUN states,
  maintenance mode, dead and odd paths), read with the multipath info too,
- the real vCenter answers that govmomi ships as test fixtures (Debian's govmomi source, which
  tests/sim/build installs), read from there.

The decoder exists for speed (pyVmomi needs ~3 s of CPU for the read at 256 hosts); this test
is the condition for keeping it: any field it reads differently from pyVmomi fails here.
"""
from __future__ import annotations

import io
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from pyVmomi import SoapAdapter, VmomiSupport, vim, vmodl

import failover_oracle
from esxpath.vsphere import hostprops, inventory, rawsoap
from esxpath.vsphere.records import ApiPath, LogicalUnit, Lun

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
GOVMOMI_FIXTURES = Path("/usr/share/gocode/src/github.com/vmware/govmomi/vim25/mo/fixtures")
BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
PC = vmodl.query.PropertyCollector


def _stub():
    return SoapAdapter.SoapStubAdapter(host="decode.invalid", version=VmomiSupport.newestVersions.Get("vim"))


# ---------------------------------------------------------------- pyVmomi's view, in esxpath's terms

def _lun(lun) -> Lun:
    disk = isinstance(lun, vim.host.ScsiDisk)
    cap = lun.capacity if disk else None
    return Lun(key=lun.key or "", uuid=lun.uuid or "", canonical_name=lun.canonicalName or "",
               display_name=lun.displayName or "", vendor=lun.vendor or "", model=lun.model or "",
               is_disk=disk or lun.lunType == "disk",
               capacity_bytes=(cap.block * cap.blockSize) if cap else 0,
               is_local=bool(getattr(lun, "localDisk", False)),
               operational_state=tuple(lun.operationalState or ()) or ("ok",))


def _unit(lu) -> LogicalUnit:
    paths = []
    for p in lu.path or []:
        t = p.transport
        wwpn = t.portWorldWideName if isinstance(t, vim.host.FibreChannelTargetTransport) else None
        paths.append(ApiPath(name=p.name or "", adapter=p.adapter or "", state=p.state or "",
                             working=bool(p.isWorkingPath), target_wwpn=wwpn))
    hpp = isinstance(lu.policy, vim.host.MultipathInfo.HppLogicalUnitPolicy)
    return LogicalUnit(id=lu.id or "", lun=lu.lun or "",
                       psp=lu.policy.policy if lu.policy else None,
                       satp=lu.storageArrayTypePolicy.policy if lu.storageArrayTypePolicy else None,
                       paths=tuple(paths), mpp="HPP" if hpp else "NMP")


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, VmomiSupport.ManagedObject):
        return ("moref", type(value)._wsdlName, value._GetMoId())
    if isinstance(value, bool):
        return str(value).lower()
    return None if value is None else str(value)


def pyvmomi_view(object_contents) -> dict:
    out = {}
    for oc in object_contents or []:
        props = {}
        for ps in oc.propSet or []:
            if ps.name == hostprops.SCSI_LUN:
                props[ps.name] = [_lun(x) for x in ps.val or []]
            elif ps.name == hostprops.MULTIPATH_INFO:
                props[ps.name] = [_unit(x) for x in (ps.val.lun or [])] if ps.val else []
            else:
                props[ps.name] = _plain(ps.val)
        if oc.missingSet:
            props[hostprops.MISSING] = sorted(m.path for m in oc.missingSet)
        out[oc.obj._GetMoId()] = props
    return out


def esxpath_view(objects: dict) -> dict:
    out = {}
    for moid, (_obj, props) in objects.items():
        view = {}
        for name, value in props.items():
            if name == hostprops.MISSING:
                view[name] = sorted(value)
            elif name in (hostprops.SCSI_LUN, hostprops.MULTIPATH_INFO):
                view[name] = value
            else:
                view[name] = _plain(value)
        out[moid] = view
    return out


def compare(body: bytes, where: str) -> int:
    """Decode one RetrievePropertiesEx/Continue answer both ways; the number of objects."""
    stub = _stub()
    returnval = ET.fromstring(body).find(BODY)[0].find(rawsoap.VIM + "returnval")
    ours, _token = hostprops.decode_result(returnval, stub) if returnval is not None else ({}, None)
    result = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(io.BytesIO(body), PC.RetrieveResult)
    theirs = pyvmomi_view(result.objects if result is not None else [])
    assert esxpath_view(ours) == theirs, where
    return len(theirs)


# ---------------------------------------------------------------- the answers

def _cassette_answers():
    for path in sorted(CASSETTES.glob("*.yaml")):
        for i, it in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            req = it["request"].get("body") or ""
            if isinstance(req, bytes):
                req = req.decode()
            # the reads hostprops decodes: the inventory's (provision reads through pyVmomi)
            if "<RetrievePropertiesEx" in req and hostprops.SCSI_LUN in req \
                    and it["response"]["status"]["code"] == 200:
                body = it["response"]["body"]["string"]
                yield f"{path.name}#{i}", body.encode() if isinstance(body, str) else body


CASSETTE_ANSWERS = list(_cassette_answers())


@pytest.mark.offline
def test_cassettes_hold_inventory_reads():
    assert len(CASSETTE_ANSWERS) >= 20  # one per cassette that reads the inventory, at least
    assert any(hostprops.SCSI_LUN.encode() in body for _, body in CASSETTE_ANSWERS)


@pytest.mark.offline
@pytest.mark.parametrize("where,body", CASSETTE_ANSWERS, ids=[w for w, _ in CASSETTE_ANSWERS])
def test_cassette_answers_decode_as_pyvmomi_reads_them(where, body):
    assert compare(body, where) > 0


def test_govmomi_fixtures_from_real_vcenters_decode_as_pyvmomi_reads_them():
    # RetrievePropertiesResponse (the non-Ex call): each <returnval> is one ObjectContent
    fixtures = [p for p in sorted(GOVMOMI_FIXTURES.glob("*_property.xml"))]
    assert fixtures, f"{GOVMOMI_FIXTURES}: missing (tests/sim/build installs Debian's govmomi source)"
    for path in fixtures:
        root = ET.parse(path).getroot()
        result = ET.Element(rawsoap.VIM + "returnval")
        for oc in root.iterfind(rawsoap.VIM + "returnval"):
            oc.tag = rawsoap.VIM + "objects"
            result.append(oc)
        stub = _stub()
        theirs = _deserialize_contents(path.read_bytes(), stub)
        if b"BootOptions" in path.read_bytes():  # a data object esxpath never asks for:
            with pytest.raises(ValueError, match="cannot decode"):  # refused, never misread
                hostprops.decode_result(result, stub)
            continue
        ours, _ = hostprops.decode_result(result, stub)
        assert ours and esxpath_view(ours) == pyvmomi_view(theirs), path.name


def _deserialize_contents(body: bytes, stub):
    """pyVmomi's reading of a bare RetrievePropertiesResponse document."""
    envelope = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<soapenv:Body>" + body.split(b"?>", 1)[-1] + b"</soapenv:Body></soapenv:Envelope>")
    return SoapAdapter.SoapResponseDeserializer(stub).Deserialize(io.BytesIO(envelope),
                                                                  PC.ObjectContent.Array)


@pytest.mark.sim
def test_simulator_estates_decode_as_pyvmomi_reads_them(lab, session):
    rng = random.Random(7)
    props = inventory.HOST_PROPERTIES + [hostprops.MULTIPATH_INFO]
    content = session.content
    view = content.viewManager.CreateContainerView(
        content.rootFolder, [vim.HostSystem, vim.ComputeResource, vim.Folder, vim.Datacenter], True)
    collector = content.propertyCollector.CreatePropertyCollector()
    spec = inventory._filter_spec(view, props)
    kinds = set()
    try:
        for i in range(12):
            sc, notes = failover_oracle.random_estate(rng)
            sc["luns"][0]["mpp"] = "HPP" if i % 3 == 0 else "NMP"
            sc["hosts"][i % 5]["storage_unreadable"] = i % 4 == 1
            lab.post("/load", sc)
            body = rawsoap._post(session.stub, collector, "RetrievePropertiesEx",
                                 [spec, PC.RetrieveOptions()])
            assert compare(body, f"estate {i}: {notes}") > 0
            kinds |= {"hpp"} if b"HppLogicalUnitPolicy" in body else set()
            kinds |= {"missing"} if b"missingSet" in body else set()
    finally:
        collector.DestroyPropertyCollector()
        view.DestroyView()
    assert kinds == {"hpp", "missing"}  # the odd cases were really in the answers
