"""The simulator's esxcli-through-the-vSphere-API: raw ExecuteSoap behaviour (what govc-style and
pyVmomi-style requests get back, faults) and agreement between esxcli and the typed API."""
import http.client
import re
import ssl
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from official_esxcli import esxcli, records
from seedlab import EUI1 as LUN1

pytestmark = pytest.mark.sim

V = "{urn:vim25}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


class Soap:
    """Minimal SOAP client: enough to send ExecuteSoap exactly as a test wants it."""

    def __init__(self, lab):
        u = urlsplit(lab.url)
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=lab.ca_file))
        self.path, self.cookie = u.path, None
        self.call("Login", "SessionManager", "SessionManager",
                  f"<userName>{escape(lab.user)}</userName><password>{escape(lab.password)}</password>")

    def call(self, method, this_type, this, inner="", fault_ok=False):
        body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                f'<soapenv:Body><{method} xmlns="urn:vim25"><_this type="{this_type}">{this}</_this>{inner}'
                f"</{method}></soapenv:Body></soapenv:Envelope>")
        headers = {"Content-Type": "text/xml", "SOAPAction": "urn:vim25/8.0"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.conn.request("POST", self.path, body.encode(), headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.getheader("Set-Cookie"):
            self.cookie = resp.getheader("Set-Cookie").split(";")[0]
        assert fault_ok or resp.status == 200, data.decode()
        return resp.status, ET.fromstring(data)

    def execute(self, mme, moid, method, args=(), version="urn:vim25/5.0"):
        """ExecuteSoap; args are (name, val-xml) pairs. Returns (response-xml, fault) strings."""
        inner = f"<moid>{moid}</moid><version>{version}</version><method>{method}</method>"
        for name, val in args:
            inner += f"<argument><name>{name}</name><val>{escape(val)}</val></argument>"
        _, root = self.call("ExecuteSoap", "ReflectManagedMethodExecuter", mme, inner)
        ret = root.find(f".//{V}returnval")
        fault = ret.find(f"{V}fault")
        if fault is not None:
            return None, fault.findtext(f"{V}faultDetail")
        return ret.findtext(f"{V}response"), None


@pytest.fixture
def soap(lab):
    s = Soap(lab)
    yield s
    s.conn.close()


def mme_of(soap, lab, host):
    moid = lab.get("/state")["hosts"][host]["moid"]
    _, root = soap.call("RetrieveManagedMethodExecuter", "HostSystem", moid)
    ret = root.find(f".//{V}returnval")
    assert ret.get("type") == "ReflectManagedMethodExecuter"
    return ret.text


def rows(doc):
    root = ET.fromstring(doc)
    assert root.get(XSI_TYPE) == "ArrayOfDataObject"
    return [{c.tag.removeprefix(V): c.text or "" for c in obj} for obj in root]


def test_govc_style_lowercase_method_and_urn_5_0(lab, soap):
    mme = mme_of(soap, lab, "esx03")
    doc, fault = soap.execute(mme, "ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.list",
                              [("device", f"<device>{LUN1}</device>")])
    assert fault is None
    (row,) = rows(doc)
    assert row["Device"] == LUN1 and row["PathSelectionPolicy"] == "VMW_PSP_MRU"
    assert ET.fromstring(doc)[0].get(XSI_TYPE) == "VimEsxCLIstoragenmpdevicelistNMPDevice"
    assert lab.get("/stats")["esxcli"] == {"storage nmp device list": 1}


def test_set_returns_boolean_true_and_writes_one_host(lab, soap):
    mme = mme_of(soap, lab, "esx02")
    doc, fault = soap.execute(mme, "ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.set",
                              [("device", f"<device>{LUN1}</device>"), ("psp", "<psp>VMW_PSP_RR</psp>")])
    assert fault is None
    root = ET.fromstring(doc)
    assert (root.get(XSI_TYPE), root.text) == ("xsd:boolean", "true")
    hosts = lab.get("/state")["hosts"]
    assert [h for h in hosts if hosts[h]["devices"][LUN1]["psp"] == "VMW_PSP_RR"] == ["esx02"]


@pytest.mark.parametrize("moid, method, args, fault_type, text", [
    ("ha-cli-handler-storage-nmp-psp-roundrobin-deviceconfig", "vim.EsxCLI.storage.nmp.psp.roundrobin.deviceconfig.get",
     [("device", "<device>eui.doesnotexist</device>")], "VimEsxCLICLIFault", "Unknown device eui.doesnotexist"),
    ("ha-cli-handler-storage-nmp-path", "vim.EsxCLI.storage.nmp.path.list",
     [("device", "<device>eui.doesnotexist</device>")], "VimEsxCLICLIFault", "Unknown device eui.doesnotexist"),
    ("ha-cli-handler-storage-nmp-psp-roundrobin-deviceconfig", "vim.EsxCLI.storage.nmp.psp.roundrobin.deviceconfig.get",
     [("device", f"<device>{LUN1}</device>")], "VimEsxCLICLIFault", "not claimed by VMW_PSP_RR"),
    ("ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.set",
     [("psp", "<psp>VMW_PSP_RR</psp>")], "InvalidArgument", "device"),
    ("ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.list",
     [("devices", f"<devices>{LUN1}</devices>")], "InvalidArgument", "devices"),
    ("ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.list",
     [("device", LUN1)], "InvalidArgument", "device"),
    ("ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.remove", [], "MethodNotFound", ""),
    ("ha-cli-handler-storage-core-adapter", "vim.EsxCLI.storage.core.adapter.list", [], "ManagedObjectNotFound", ""),
])
def test_faults_travel_in_the_soap_result(lab, soap, moid, method, args, fault_type, text):
    mme = mme_of(soap, lab, "esx01")
    doc, fault = soap.execute(mme, moid, method, args)
    assert doc is None
    root = ET.fromstring(fault)
    assert root.get(XSI_TYPE) == "LocalizedMethodFault"
    inner = root.find(f"{V}fault")
    assert inner.get(XSI_TYPE) == fault_type
    assert text in ET.tostring(inner, encoding="unicode")
    assert lab.get("/stats")["writes"] == []


def test_cli_info_describes_the_options(lab, soap):
    mme = mme_of(soap, lab, "esx01")
    doc, fault = soap.execute(mme, "ha-dynamic-type-manager-local-cli-cliinfo", "vim.CLIInfo.FetchCLIInfo",
                              [("typeName", "<typeName>vim.EsxCLI.storage.nmp.psp.roundrobin.deviceconfig</typeName>")])
    assert fault is None
    root = ET.fromstring(doc)
    setm = next(m for m in root.findall(f"{V}method") if m.findtext(f"{V}name") == "set")
    params = {p.findtext(f"{V}name"): [a.text for a in p.findall(f"{V}aliases")] for p in setm.findall(f"{V}param")}
    assert params == {"bytes": ["-B", "--bytes"], "cfgfile": ["-g", "--cfgfile"], "device": ["-d", "--device"],
                      "iops": ["-I", "--iops"], "latencyevaltime": ["-T", "--latency-eval-time"],
                      "numsamplingcycles": ["-S", "--num-sampling-cycles"], "type": ["-t", "--type"],
                      "useano": ["-U", "--useano"]}
    assert lab.get("/stats")["esxcli"] == {}  # type discovery is not a command


def test_disconnected_host_fails_execute_soap(lab, soap):
    mme = mme_of(soap, lab, "esx04")
    lab.post("/host", {"name": "esx04", "connection": "disconnected"})
    inner = ("<moid>ha-cli-handler-storage-nmp-device</moid><version>urn:vim25/5.0</version>"
             "<method>vim.EsxCLI.storage.nmp.device.list</method>")
    status, root = soap.call("ExecuteSoap", "ReflectManagedMethodExecuter", mme, inner, fault_ok=True)
    assert status == 500
    assert root.find(".//detail/*").get(XSI_TYPE) == "HostNotConnected"


def test_request_log_decodes_execute_soap(lab):
    esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "get", "-d", LUN1)
    reqs = [r for r in lab.get("/requests?method=ExecuteSoap")["requests"] if r.get("esxcli")]
    assert [r["esxcli"] for r in reqs] == ["storage nmp psp roundrobin deviceconfig get"]
    call = reqs[0]["execute_soap"]
    assert call["moid"] == "ha-cli-handler-storage-nmp-psp-roundrobin-deviceconfig"
    assert call["method"] == "vim.EsxCLI.storage.nmp.psp.roundrobin.deviceconfig.Get"  # pyVmomi capitalizes
    assert [a["name"] for a in call["arguments"]] == ["device"]
    assert re.fullmatch(r"<device [^>]*>eui\.3163393161633461</device>", call["arguments"][0]["val"])


# --- esxcli and the typed API (config.storageDevice.multipathInfo) agree ---------------------------

def typed_view(lab, host):
    """{device: (policy, {path name: (state, isWorkingPath)})} from the typed API."""
    u = urlsplit(lab.url)
    si = SmartConnect(host=u.hostname, port=u.port, user=lab.user, pwd=lab.password,
                      sslContext=ssl.create_default_context(cafile=lab.ca_file))
    try:
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.HostSystem], True)
        hs = next(h for h in view.view if h.name == host)
        info = hs.config.storageDevice
        names = {lun.key: lun.canonicalName for lun in info.scsiLun}
        out = {}
        for lu in info.multipathInfo.lun:
            out[names[lu.lun]] = (lu.policy.policy, {p.name: (p.state, p.isWorkingPath) for p in lu.path})
        return out
    finally:
        Disconnect(si)


def esxcli_view(lab, host):
    """The same from esxcli: PSP, and per path (typed state implied by Group State, working)."""
    devices = records(esxcli(lab, host, "storage", "nmp", "device", "list").ok())
    paths = records(esxcli(lab, host, "storage", "nmp", "path", "list").ok())
    out = {}
    for name, d in devices.items():
        working = set(filter(None, d["Working Paths"].split(", ")))
        mine = {p: r for p, r in paths.items() if r["Device"] == name}
        typed_state = {"active": "active", "active unoptimized": "active", "dead": "dead"}
        out[name] = (d["Path Selection Policy"],
                     {p: (typed_state.get(r["Group State"], "standby"), r["Runtime Name"] in working)
                      for p, r in mine.items()})
    return out


def test_esxcli_and_typed_api_agree_after_every_change(lab):
    def agree(host):
        assert esxcli_view(lab, host) == typed_view(lab, host), host

    agree("esx01")
    esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    agree("esx01")
    esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "set", "-d", LUN1,
           "-t", "iops", "-I", "1", "-U", "true").ok()
    agree("esx01")
    lab.post("/failover", {"active": "storage2"})
    agree("esx01")
    agree("esx05")
    path = lab.get("/state")["hosts"]["esx01"]["devices"][LUN1]["paths"][1]["name"]
    lab.post("/path", {"host": "esx01", "path": path, "state": "dead"})
    agree("esx01")
    dead = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-p", path).ok())[path]
    assert dead["Group State"] == "dead" and dead["Storage Array Type Path Config"].endswith("RTP_health=DOWN}")


def test_search_index_finds_each_host_by_ip_name_fqdn_and_uuid(lab):
    u = urlsplit(lab.url)
    si = SmartConnect(host=u.hostname, port=u.port, user=lab.user, pwd=lab.password,
                      sslContext=ssl.create_default_context(cafile=lab.ca_file))
    try:
        idx = si.content.searchIndex
        for n in range(1, 6):
            name = f"esx0{n}"
            host = idx.FindByIp(None, f"10.0.0.1{n}", False)
            assert host is not None and host.name == name
            assert idx.FindByDnsName(None, name, False) == host
            assert idx.FindAllByDnsName(None, f"{name}.lab.local", False) == [host]
            assert idx.FindByUuid(None, host.summary.hardware.uuid, False) == host
        assert idx.FindByIp(None, "10.0.0.99", False) is None
        assert idx.FindByDnsName(None, "esx99", False) is None
    finally:
        Disconnect(si)


@pytest.mark.parametrize("vendor", ['Q&A <"x\'>', "Ünï\tcødé"])  # the one-pass and the fallback escape
def test_answers_carry_any_text_exactly(tmp_path, vendor):
    """Markup, quotes, a tab and non-ASCII in a device's display name come back unchanged,
    through the simulator's escaping (twice: into the document, then the SOAP string) and
    esxpath's reading (expat for the envelope, ElementTree for the document)."""
    import json

    from esxpath.vsphere import ConnectOptions, connect
    from esxpath.vsphere.esxcli import Esxcli
    from simlab import SEED, SimLab

    sc = json.loads(open(SEED).read())
    for lun in sc["luns"]:
        if lun["canonical"] == LUN1:
            lun["vendor"] = vendor
    path = tmp_path / "lab-text.json"
    path.write_text(json.dumps(sc))
    want = f"{vendor} Fibre Channel Disk ({LUN1})"
    with SimLab().start(path) as other:
        s = connect(ConnectOptions(other.url, other.user, other.password, ca_file=other.ca_file))
        try:
            host = other.get("/state")["hosts"]["esx01"]["moid"]
            got = {r["Device"]: r for r in Esxcli(s, host).run("storage nmp device list")}
            assert got[LUN1]["DeviceDisplayName"] == want
            raw = Soap(other)
            doc, fault = raw.execute(mme_of(raw, other, "esx01"), "ha-cli-handler-storage-nmp-device",
                                     "vim.EsxCLI.storage.nmp.device.List")
            assert fault is None
            assert {r["Device"]: r for r in rows(doc)}[LUN1]["DeviceDisplayName"] == want
        finally:
            s.close()
