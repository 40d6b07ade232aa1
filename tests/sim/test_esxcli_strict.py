"""The simulated hosts refuse ExecuteSoap requests the official client would not send, as a host
does: a method name in another case, an unknown argument or one in another case, a version or
namespace the host does not speak (tests/sim/esxcli_strict.go). The forms real clients send
(govc's declared case, pyVmomi's capitalized verb, urn:vim25/5.0 and /5.5) keep working."""
import xml.etree.ElementTree as ET

import pytest
from test_sim_esxcli import V, XSI_TYPE, Soap, mme_of, rows

from esxpath.core.model import Scope
from esxpath.vsphere import Esxcli, read_inventory
from seedlab import EUI1 as LUN1

pytestmark = pytest.mark.sim

NS = "ha-cli-handler-storage-nmp-device"
LIST = "vim.EsxCLI.storage.nmp.device."
ARG = f'<device xmlns="urn:vim25" versionId="5.5">{LUN1}</device>'


@pytest.fixture
def soap(lab):
    s = Soap(lab)
    yield s
    s.conn.close()


def fault_of(detail):
    """(fault type, the fault and its localizedMessage as text) of a SoapResult.fault detail."""
    root = ET.fromstring(detail)
    inner = root.find(f"{V}fault")
    return inner.get(XSI_TYPE), ET.tostring(inner, encoding="unicode") + (root.findtext(f"{V}localizedMessage") or "")


@pytest.mark.parametrize("method, version, arg", [
    (LIST + "list", "urn:vim25/5.0", f"<device>{LUN1}</device>"),  # govc
    (LIST + "List", "urn:vim25/5.5", ARG),  # pyVmomi (Broadcom's esxcli, esxpath)
    (LIST + "List", "urn:vim25/8.0.3.0", ARG.replace('"5.5"', '"8.0.3.0"')),
])
def test_the_forms_clients_send_are_served(lab, soap, method, version, arg):
    doc, fault = soap.execute(mme_of(soap, lab, "esx01"), NS, method, [("device", arg)], version=version)
    assert fault is None
    assert [r["Device"] for r in rows(doc)] == [LUN1]


@pytest.mark.parametrize("method, version, args, fault_type, text", [
    (LIST + "LIST", "urn:vim25/5.5", [], "MethodNotFound", LIST + "LIST"),
    (LIST + "lIst", "urn:vim25/5.5", [], "MethodNotFound", LIST + "lIst"),
    ("vim.esxcli.storage.nmp.device.list", "urn:vim25/5.5", [], "MethodNotFound", "vim.esxcli"),
    (LIST + "List", "urn:vim25/9.9", [], "InvalidRequest",
     "Request version 'urn:vim25/9.9' and namespace 'urn:vim25' are not supported"),
    (LIST + "List", "urn:pbm/6.7", [], "InvalidRequest",
     "Request version 'urn:pbm/6.7' and namespace 'urn:pbm' are not supported"),
    (LIST + "List", "5.5", [], "InvalidRequest", "Request version '5.5'"),
    (LIST + "List", "urn:vim25/5.5", [("Device", ARG.replace("device", "Device"))], "InvalidArgument",
     "Unknown parameter 'Device'"),
    (LIST + "List", "urn:vim25/5.5", [("devices", ARG.replace("device", "devices"))], "InvalidArgument",
     "Unknown parameter 'devices'"),
    (LIST + "List", "urn:vim25/5.5", [("device", ARG.replace("urn:vim25", "urn:foo"))], "InvalidArgument",
     "Namespace 'urn:foo' of argument 'device' is not supported"),
    (LIST + "List", "urn:vim25/5.5", [("device", ARG.replace('"5.5"', '"99.0"'))], "InvalidArgument",
     "Version '99.0' of argument 'device' is not supported"),
])
def test_requests_no_client_sends_are_refused(lab, soap, method, version, args, fault_type, text):
    doc, fault = soap.execute(mme_of(soap, lab, "esx01"), NS, method, args, version=version)
    assert doc is None
    got_type, body = fault_of(fault)
    assert got_type == fault_type and text in body
    assert lab.get("/stats")["esxcli"] == {}  # nothing ran


def test_a_refused_write_changes_nothing(lab, soap):
    mme = mme_of(soap, lab, "esx02")
    args = [("device", ARG), ("psp", '<psp xmlns="urn:vim25" versionId="5.5">VMW_PSP_RR</psp>')]
    for method, version in ((LIST + "SET", "urn:vim25/5.5"), (LIST + "Set", "urn:vim25/10.0")):
        doc, fault = soap.execute(mme, NS, method, args, version=version)
        assert doc is None and fault
    assert lab.get("/stats")["writes"] == []
    assert lab.get("/state")["hosts"]["esx02"]["devices"][LUN1]["psp"] == "VMW_PSP_MRU"
    doc, fault = soap.execute(mme, NS, LIST + "Set", args, version="urn:vim25/5.5")
    assert fault is None and lab.get("/state")["hosts"]["esx02"]["devices"][LUN1]["psp"] == "VMW_PSP_RR"


def test_esxpath_sends_every_command_it_knows_in_a_form_the_host_serves(lab, session):
    """esxpath's own requests (esxpath/vsphere/esxcli.py) pass the checks, latency options too."""
    host = read_inventory(session, Scope(hosts=("esx01",)), esxcli=False).hosts[0]
    cli = Esxcli(session, host.moid, host.name)
    assert cli.run("storage nmp device set", write=True, device=LUN1, psp="VMW_PSP_RR") == "true"
    assert cli.run("storage nmp psp roundrobin deviceconfig set", write=True, device=LUN1, type="latency",
                   latencyevaltime=60000, numsamplingcycles=32) == "true"
    (got,) = [cli.run("storage nmp psp roundrobin deviceconfig get", device=LUN1)]
    row = got[0] if isinstance(got, list) else got
    assert (row["LatencyEvaluationInterval"], row["NumberOfSamplingIOsPerPath"]) == ("60000", "32")
    for command in ("storage nmp device list", "storage nmp path list", "storage nmp satp rule list",
                    "storage core device list", "storage core path list", "storage nmp satp list",
                    "storage nmp psp list"):
        assert cli.run(command), command
