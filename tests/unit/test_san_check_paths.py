"""What the SAN check needs from a host's paths: the RTP_id of the path's SATP config and the
target's name (FC WWPN, iSCSI IQN), parsed from esxcli's answers (pure)."""
import pytest

from esxpath.vsphere.esxcli_devices import devices_from_esxcli
from esxpath.vsphere.parse import parse_path_rtp, target_iqn_from_path_name

from test_esxcli_devices import DEVICES, EUI, HEAD, lun, path_row


@pytest.mark.parametrize("text, expected", [
    ("{TPG_id=1,TPG_state=AO,RTP_id=1,RTP_health=UP}", 1),
    ("{TPG_id=102,TPG_state=ANO,RTP_id=258,RTP_health=DOWN}", 258),
    ("{TPG_id=1,TPG_state=AO}", None),
    ("SATP VMW_SATP_LOCAL does not support path configuration.", None),
    (None, None),
])
def test_parse_path_rtp(text, expected):
    assert parse_path_rtp(text) == expected


@pytest.mark.parametrize("name, expected", [
    ("iqn.1998-01.com.vmware:esx01-4c4c4544-00023d000001,iqn.2006-01.org.scst:storage1,t,1"
     f"-{EUI}", "iqn.2006-01.org.scst:storage1"),
    (f"fc.20000024ff3dbcf4:21000024ff3dbcf4-fc.20000024ff540980:21000024ff540980-{EUI}", None),
    ("vmhba32:C0:T0:L0", None),
])
def test_target_iqn_from_path_name(name, expected):
    assert target_iqn_from_path_name(name) == expected


def test_paths_carry_their_rtp_id():
    rows = path_row("vmhba2:C0:T0:L1", "21000024ff540980", "active", 1) + \
        path_row("vmhba2:C0:T1:L1", "21000024ff540932", "active unoptimized", 2).replace(
            "RTP_id=1,", "RTP_id=3,")
    [dev] = devices_from_esxcli([lun()], DEVICES, HEAD + rows + "</obj>")
    assert [(p.tpg_id, p.rtp_id, p.target_wwpn, p.target_iqn) for p in dev.paths] == [
        (1, 1, "21:00:00:24:ff:54:09:80", None), (2, 3, "21:00:00:24:ff:54:09:32", None)]
