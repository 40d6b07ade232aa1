"""Table-driven tests of the esxcli/vSphere text parsers, on the strings real hosts print."""
import pytest

from esxpath.core.model import Path, TargetPortGroup, TpgState
from esxpath.vsphere.parse import (
    RrConfig,
    adapter_from_key,
    as_list,
    format_wwn,
    parse_bool,
    parse_esxcli_fault,
    parse_esxcli_response,
    parse_path_tpg,
    parse_rr_device_config,
    parse_tpgs,
    path_state_from_group,
    target_wwpn_from_path_name,
)


@pytest.mark.parametrize("text, expected", [
    ("{policy=rr,iops=1000,bytes=10485760,useANO=0; lastPathIndex=5: NumIOsPending=0,numBytesPending=0}",
     RrConfig("default", 1000, 10485760, False)),
    ("{policy=iops,iops=1,bytes=10485760,useANO=0;lastPathIndex=1: NumIOsPending=0,numBytesPending=0}",
     RrConfig("iops", 1, 10485760, False)),
    ("{policy=bytes,iops=1000,bytes=8800,useANO=1; lastPathIndex=0: NumIOsPending=0,numBytesPending=0}",
     RrConfig("bytes", 1000, 8800, True)),
    ("{policy=latency,latency-eval-time=180000,samplingCycles=16,curSamplingCycle=1,useANO=0; CurrentLatency=0}",
     RrConfig("latency", None, None, False)),
    ("Current Path=vmhba2:C0:T0:L1", RrConfig()),
    ("", RrConfig()),
    (None, RrConfig()),
])
def test_rr_device_config(text, expected):
    assert parse_rr_device_config(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("{implicit_support=on; explicit_support=off; explicit_allow=on; alua_followover=on; "
     "action_OnRetryErrors=off; {TPG_id=1001,TPG_state=ANO}{TPG_id=1000,TPG_state=AO}}",
     (TargetPortGroup(1000, TpgState.AO), TargetPortGroup(1001, TpgState.ANO))),
    ("{implicit_support=on; explicit_support=off; explicit_allow=on; alua_followover=on; "
     "action_OnRetryErrors=off; {TPG_id=1,TPG_state=AO}{TPG_id=2,TPG_state=ANO}}",
     (TargetPortGroup(1, TpgState.AO), TargetPortGroup(2, TpgState.ANO))),
    ("{TPG_id=1,TPG_state=STBY}{TPG_id=2,TPG_state=UNAV}",
     (TargetPortGroup(1, TpgState.STANDBY), TargetPortGroup(2, TpgState.UNAVAILABLE))),
    ("navireg=on, ipfilter=on", ()),
    (None, ()),
])
def test_tpgs(text, expected):
    assert parse_tpgs(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("{TPG_id=1,TPG_state=ANO,RTP_id=2432,RTP_health=UP}", (1, TpgState.ANO)),
    ("{TPG_id=1,TPG_state=AO,RTP_id=1,RTP_health=UP}", (1, TpgState.AO)),
    ("{TPG_id=2,TPG_state=STBY,RTP_id=3,RTP_health=DOWN}", (2, TpgState.STANDBY)),
    ("PSP VMW_PSP_RR does not support path configuration.", (None, TpgState.UNKNOWN)),
    ("", (None, TpgState.UNKNOWN)),
])
def test_path_tpg(text, expected):
    assert parse_path_tpg(text) == expected


@pytest.mark.parametrize("name, expected", [
    ("fc.20000024ff3dbcf4:21000024ff3dbcf4-fc.20000024ff540980:21000024ff540980-eui.3737373737373701",
     "21:00:00:24:ff:54:09:80"),
    ("fc.20000024ff3dbcf5:21000024ff3dbcf5-fc.20000024ff540932:21000024ff540933-eui.3163393161633461",
     "21:00:00:24:ff:54:09:33"),
    ("vmhba32:C0:T0:L0", None),
    ("sas.5001438011b3c9a0-sas.1221000000000000-naa.5000c500a1b2c3d4", None),
])
def test_target_wwpn_from_path_name(name, expected):
    assert target_wwpn_from_path_name(name) == expected


@pytest.mark.parametrize("value, expected", [
    (0x21000024FF540980, "21:00:00:24:ff:54:09:80"),
    (-0x1FFFFFFFFFFFFFFF, "e0:00:00:00:00:00:00:01"),  # the API's signed longs
    ("21000024ff540933", "21:00:00:24:ff:54:09:33"),
    ("21:00:00:24:ff:54:09:33", "21:00:00:24:ff:54:09:33"),
    (None, None),
])
def test_format_wwn(value, expected):
    assert format_wwn(value) == expected


@pytest.mark.parametrize("key, expected", [
    ("key-vim.host.FibreChannelHba-vmhba2", "vmhba2"),
    ("key-vim.host.BlockHba-vmhba32", "vmhba32"),
    ("vmhba3:C0:T1:L2", "vmhba3"),
    ("", ""),
])
def test_adapter_from_key(key, expected):
    assert adapter_from_key(key) == expected


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("1", True), ("0", False), (None, None), ("maybe", None),
])
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


DEVICE_LIST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<obj xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns="urn:vim25" versionId="5.0" xsi:type="ArrayOfDataObject">'
    '<DataObject xsi:type="VimEsxCLIstoragenmpdevicelistNmpDevice">'
    '<Device>eui.3163393161633461</Device>'
    '<DeviceDisplayName>SCST_BIO Fibre Channel Disk (eui.3163393161633461)</DeviceDisplayName>'
    '<IsBootUSBDevice>false</IsBootUSBDevice>'
    '<PathSelectionPolicy>VMW_PSP_MRU</PathSelectionPolicy>'
    '<PathSelectionPolicyDeviceConfig>Current Path=vmhba2:C0:T0:L1</PathSelectionPolicyDeviceConfig>'
    '<StorageArrayType>VMW_SATP_ALUA</StorageArrayType>'
    '<StorageArrayTypeDeviceConfig>{implicit_support=on; explicit_support=off; explicit_allow=on; '
    'alua_followover=on; action_OnRetryErrors=off; {TPG_id=1,TPG_state=AO}{TPG_id=2,TPG_state=ANO}}'
    '</StorageArrayTypeDeviceConfig>'
    '<WorkingPaths>vmhba2:C0:T0:L1</WorkingPaths>'
    '</DataObject>'
    '<DataObject xsi:type="VimEsxCLIstoragenmpdevicelistNmpDevice">'
    '<Device>naa.600a098038303053453f463045727a4d</Device>'
    '<PathSelectionPolicy>VMW_PSP_RR</PathSelectionPolicy>'
    '<PathSelectionPolicyDeviceConfig>{policy=rr,iops=1000,bytes=10485760,useANO=0; lastPathIndex=0: '
    'NumIOsPending=0,numBytesPending=0}</PathSelectionPolicyDeviceConfig>'
    '<WorkingPaths>vmhba2:C0:T2:L10</WorkingPaths><WorkingPaths>vmhba3:C0:T2:L10</WorkingPaths>'
    '<WorkingPaths>vmhba3:C0:T3:L10</WorkingPaths>'
    '</DataObject>'
    '</obj>'
)


def test_esxcli_response_rows_and_repeated_fields():
    rows = parse_esxcli_response(DEVICE_LIST)
    assert [r["Device"] for r in rows] == ["eui.3163393161633461", "naa.600a098038303053453f463045727a4d"]
    assert rows[0]["WorkingPaths"] == "vmhba2:C0:T0:L1"
    assert as_list(rows[0]["WorkingPaths"]) == ["vmhba2:C0:T0:L1"]
    assert rows[1]["WorkingPaths"] == ["vmhba2:C0:T2:L10", "vmhba3:C0:T2:L10", "vmhba3:C0:T3:L10"]
    assert parse_tpgs(rows[0]["StorageArrayTypeDeviceConfig"])[1] == TargetPortGroup(2, TpgState.ANO)
    assert parse_rr_device_config(rows[1]["PathSelectionPolicyDeviceConfig"]).iops == 1000


@pytest.mark.parametrize("text, expected", [
    ('<obj xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
     ' xmlns="urn:vim25" versionId="5.0" xsi:type="xsd:boolean">true</obj>', "true"),
    ('<obj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25"'
     ' xsi:type="ArrayOfDataObject"></obj>', ""),
    ("", []),
])
def test_esxcli_response_scalars(text, expected):
    assert parse_esxcli_response(text) == expected


def test_esxcli_response_single_object():
    text = ('<obj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25"'
            ' xsi:type="VimEsxCLIstoragenmppsproundrobindeviceconfiggetRoundRobinDeviceConfig">'
            '<ByteLimit>10485760</ByteLimit><Device>eui.1</Device><IOOperationLimit>1</IOOperationLimit>'
            '<LimitType>Iops</LimitType><UseActiveUnoptimizedPaths>false</UseActiveUnoptimizedPaths></obj>')
    assert parse_esxcli_response(text) == [{
        "ByteLimit": "10485760", "Device": "eui.1", "IOOperationLimit": "1", "LimitType": "Iops",
        "UseActiveUnoptimizedPaths": "false"}]


@pytest.mark.parametrize("detail, message, expected", [
    ('<obj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25" versionId="5.0"'
     ' xsi:type="VimEsxCLICLIFault"><errMsg>Unable to find device eui.0000</errMsg></obj>',
     "EsxCLI.CLIFault.summary", "Unable to find device eui.0000"),
    ('<obj xmlns="urn:vim25"><errMsg>a</errMsg><errMsg>b</errMsg><errMsg>a</errMsg></obj>', None, "a; b"),
    (None, "EsxCLI.CLIFault.summary", "EsxCLI.CLIFault.summary"),
    ("not xml <", None, "not xml <"),
])
def test_esxcli_fault(detail, message, expected):
    assert parse_esxcli_fault(detail, message) == expected


@pytest.mark.parametrize("text", [
    # the default namespace declared on an inner element too, or only there, or as a prefix
    '<obj xmlns="urn:vim25" xsi:type="ArrayOfDataObject" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<DataObject xmlns="urn:vim25"><Device>eui.1</Device><Size>1</Size></DataObject></obj>',
    '<obj xsi:type="ArrayOfDataObject" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<DataObject xmlns="urn:vim25"><Device>eui.1</Device><Size>1</Size></DataObject></obj>',
    '<v:obj xmlns:v="urn:vim25" xsi:type="ArrayOfDataObject" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<v:DataObject><v:Device>eui.1</v:Device><v:Size>1</v:Size></v:DataObject></v:obj>',
])
def test_esxcli_response_field_names_whatever_the_namespaces(text):
    assert parse_esxcli_response(text) == [{"Device": "eui.1", "Size": "1"}]


def test_esxcli_response_nested_and_repeated_fields():
    text = ('<obj xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:type="ArrayOfDataObject"><DataObject><Name>r</Name>'
            '<Opt><Key>a</Key><Value>1</Value></Opt><Opt><Key>b</Key><Value></Value></Opt>'
            '<Empty/></DataObject></obj>')
    assert parse_esxcli_response(text) == [{
        "Name": "r", "Opt": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}], "Empty": ""}]


@pytest.mark.parametrize("text,state", [
    ("{TPG_id=1,TPG_state=TRANS,RTP_id=1,RTP_health=UP}", TpgState.TRANSITIONING),
    ("{TPG_id=1,TPG_state=OFFL,RTP_id=1,RTP_health=DOWN}", TpgState.OFFLINE),
    ("{TPG_id=1,TPG_state=LBD,RTP_id=1,RTP_health=UP}", TpgState.LBD),
    ("{TPG_id=0,TPG_state=AO,RTP_id=1,RTP_health=UP}", TpgState.AO),
])
def test_alua_states_beyond_ao_ano_are_parsed_not_unknown(text, state):
    tpg_id, parsed = parse_path_tpg(text)
    assert parsed == state and tpg_id in (0, 1)


def test_offline_path_is_dead_and_transitioning_is_alive_but_not_usable():
    offline = Path("p1", "vmhba2:C0:T0:L1", "vmhba2", state=path_state_from_group("dead"),
                   tpg_id=1, tpg_state=TpgState.OFFLINE)
    trans = Path("p2", "vmhba2:C0:T1:L1", "vmhba2", state=path_state_from_group("transitioning"),
                 tpg_id=2, tpg_state=TpgState.TRANSITIONING)
    assert (offline.live, offline.bucket) == (False, "dead")
    assert (trans.live, trans.bucket) == (True, "unavailable")
    # even a multipath state of "active" does not make an offline group's path live
    assert not Path("p3", "r", "a", state="active", tpg_id=1, tpg_state=TpgState.OFFLINE).live
