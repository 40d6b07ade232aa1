"""esxcli_devices: a host's devices from its ScsiLuns and two esxcli answers (pure)."""
import pytest

from esxpath.core.model import TpgState
from esxpath.vsphere.esxcli_devices import UnreadableAnswer, devices_from_esxcli
from esxpath.vsphere.records import Lun

HEAD = ('<obj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25" '
        'versionId="5.0" xsi:type="ArrayOfDataObject">')
EUI = "eui.6339303030303031"
DEVICES = HEAD + (
    f'<DataObject xsi:type="VimEsxCLIstoragenmpdevicelistNMPDevice"><Device>{EUI}</Device>'
    '<DeviceDisplayName>SCST_BIO Fibre Channel Disk</DeviceDisplayName>'
    '<PathSelectionPolicy>VMW_PSP_RR</PathSelectionPolicy>'
    '<PathSelectionPolicyDeviceConfig>{policy=iops,iops=1,bytes=10485760,useANO=0;lastPathIndex=0: '
    'NumIOsPending=0,numBytesPending=0}</PathSelectionPolicyDeviceConfig>'
    '<StorageArrayType>VMW_SATP_ALUA</StorageArrayType>'
    '<StorageArrayTypeDeviceConfig>{implicit_support=on; explicit_support=off; {TPG_id=1,TPG_state=AO}'
    '{TPG_id=2,TPG_state=ANO}}</StorageArrayTypeDeviceConfig>'
    '<WorkingPaths>vmhba2:C0:T0:L1</WorkingPaths></DataObject></obj>')


def path_row(runtime, target, group_state, tpg):
    return (f'<DataObject xsi:type="VimEsxCLIstoragenmppathlistNMPPath"><Device>{EUI}</Device>'
            f'<GroupState>{group_state}</GroupState>'
            f'<Path>fc.20000024ff3d0001:21000024ff3d0001-fc.20000024ff540980:{target}-{EUI}</Path>'
            f'<RuntimeName>{runtime}</RuntimeName><StorageArrayTypePathConfig>{{TPG_id={tpg},'
            f'TPG_state=AO,RTP_id=1,RTP_health=UP}}</StorageArrayTypePathConfig></DataObject>')


PATHS = HEAD + path_row("vmhba2:C0:T0:L1", "21000024ff540980", "active", 1) + \
    path_row("vmhba2:C0:T1:L1", "21000024ff540932", "active unoptimized", 2) + "</obj>"


def lun(name=EUI, is_disk=True):
    return Lun(key=f"key-{name}", uuid="0200" + name, canonical_name=name, display_name=name,
               vendor="SCST_BIO ", model="SSD-RAID6-1 ", is_disk=is_disk, capacity_bytes=1 << 40,
               is_local=False)


def test_device_with_policy_tpgs_and_paths():
    [dev] = devices_from_esxcli([lun(), lun("mpx.vmhba32:C0:T0:L0", is_disk=False)], DEVICES, PATHS)
    assert (dev.vendor, dev.model, dev.uuid) == ("SCST_BIO", "SSD-RAID6-1", "0200" + EUI)
    assert (dev.policy.psp, dev.policy.limit_type, dev.policy.iops, dev.policy.use_ano) == \
        ("VMW_PSP_RR", "iops", 1, False)
    assert [(g.id, g.state) for g in dev.tpgs] == [(1, TpgState.AO), (2, TpgState.ANO)]
    assert [(p.runtime_name, p.state, p.working, p.tpg_id, p.target_wwpn) for p in dev.paths] == [
        ("vmhba2:C0:T0:L1", "active", True, 1, "21:00:00:24:ff:54:09:80"),
        ("vmhba2:C0:T1:L1", "active", False, 2, "21:00:00:24:ff:54:09:32")]


def test_a_lun_esxcli_does_not_list_has_no_policy_and_no_paths():
    [dev] = devices_from_esxcli([lun("eui.0000000000000009")], DEVICES, PATHS)
    assert dev.policy.psp is None and dev.paths == () and dev.tpgs == ()
    assert devices_from_esxcli([lun()], None, "")[0].paths == ()


@pytest.mark.parametrize("devices, paths, command", [
    ("<obj><DataObject>", PATHS, "storage nmp device list"),
    (DEVICES, "not xml", "storage nmp path list"),
])
def test_an_unreadable_answer_names_its_command(devices, paths, command):
    with pytest.raises(UnreadableAnswer) as err:
        devices_from_esxcli([lun()], devices, paths)
    assert str(err.value).startswith(f"esxcli {command}: unreadable answer (")
