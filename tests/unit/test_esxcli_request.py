"""How esxcli commands become ExecuteSoap requests (no server: the request is built, not sent).
The simulator test tests/sim/test_esxcli_wire.py checks the same against Broadcom's client."""
import pytest

from esxpath.vsphere.esxcli import EXECUTE_VERSION, argument_xml, build_request, command_ids

NS = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:vim25"')


@pytest.mark.parametrize("command, moid, method", [
    ("storage nmp device list", "ha-cli-handler-storage-nmp-device", "vim.EsxCLI.storage.nmp.device.List"),
    ("storage nmp path list", "ha-cli-handler-storage-nmp-path", "vim.EsxCLI.storage.nmp.path.List"),
    ("storage nmp psp roundrobin deviceconfig set", "ha-cli-handler-storage-nmp-psp-roundrobin-deviceconfig",
     "vim.EsxCLI.storage.nmp.psp.roundrobin.deviceconfig.Set"),
    ("storage nmp satp rule add", "ha-cli-handler-storage-nmp-satp-rule", "vim.EsxCLI.storage.nmp.satp.rule.Add"),
])
def test_command_ids(command, moid, method):
    assert command_ids(command) == (moid, method)


def test_options_go_in_the_declared_order_whatever_the_call_order():
    req = build_request("storage nmp psp roundrobin deviceconfig set",
                        {"type": "iops", "iops": 1, "useano": False, "device": "eui.1"})
    assert [n for n, _ in req.arguments] == ["device", "iops", "type", "useano"]
    assert dict(req.arguments)["iops"] == f'<iops versionId="5.5" {NS}>1</iops>'
    assert dict(req.arguments)["useano"] == f'<useano versionId="5.5" {NS}>false</useano>'
    assert EXECUTE_VERSION == "urn:vim25/5.5"


@pytest.mark.parametrize("value, text", [
    ("SCST <&> BIO", "SCST &lt;&amp;&gt; BIO"), (True, "true"), (10485760, "10485760"),
])
def test_values_are_escaped(value, text):
    assert argument_xml("description", value, "5.5") == \
        f'<description versionId="5.5" {NS}>{text}</description>'


def test_none_options_are_left_out():
    req = build_request("storage nmp device list", {"device": None})
    assert req.arguments == ()


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="iopz"):
        build_request("storage nmp psp roundrobin deviceconfig set", {"device": "eui.1", "iopz": 1})
