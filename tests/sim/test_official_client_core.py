"""Broadcom's esxcli (vmware-esxcli 9.1.0) runs the listing commands added in issue 17 and the
latency settings of Round Robin against the simulator, through vCenter (--vihost). Each
command's output is checked against the real ESXi output quoted in tests/sim/README.md
("esxcli: sources"): the same lines in the same order, values from the lab state."""
import re

import pytest

from official_esxcli import esxcli, fields, records, table
from seedlab import BOOT, EUI1 as LUN1

pytestmark = pytest.mark.sim

RRGET = ("storage", "nmp", "psp", "roundrobin", "deviceconfig")

# `esxcli storage core device list` of an ESXi 6.5 host, line by line (README source [1]).
CORE_DEVICE_LINES = [
    "Display Name", "Has Settable Display Name", "Size", "Device Type", "Multipath Plugin", "Devfs Path",
    "Vendor", "Model", "Revision", "SCSI Level", "Is Pseudo", "Status", "Is RDM Capable", "Is Local",
    "Is Removable", "Is SSD", "Is VVOL PE", "Is Offline", "Is Perennially Reserved", "Queue Full Sample Size",
    "Queue Full Threshold", "Thin Provisioning Status", "Attached Filters", "VAAI Status", "Other UIDs",
    "Is Shared Clusterwide", "Is Local SAS Device", "Is SAS", "Is USB", "Is Boot USB Device", "Is Boot Device",
    "Device Max Queue Depth", "No of outstanding IOs with competing worlds", "Drive Type", "RAID Level",
    "Number of Physical Drives", "Protection Enabled", "PI Activated", "PI Type", "PI Protection Mask",
    "Supported Guard Types", "DIX Enabled", "DIX Guard Type", "Emulated DIX/DIF Enabled",
]
# `esxcli storage core path list` of an FC path (README source [2]) and the ESXi 6+ Maximum IO Size.
CORE_PATH_LINES = [
    "UID", "Runtime Name", "Device", "Device Display Name", "Adapter", "Channel", "Target", "LUN", "Plugin",
    "State", "Transport", "Adapter Identifier", "Target Identifier", "Adapter Transport Details",
    "Target Transport Details", "Maximum IO Size",
]
WWN = r"(?:[0-9a-f]{2}:){7}[0-9a-f]{2}"


def keys_in_order(text: str, header: str) -> list[str]:
    """The field names of the record under `header`, in printed order."""
    lines = text.splitlines()
    start = lines.index(header) + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("   "):
            break
        out.append(line.strip().partition(":")[0])
    return out


def state(lab, host="esx01"):
    return lab.get("/state")["hosts"][host]


def test_core_device_list_has_the_real_lines_and_the_lab_values(lab):
    out = esxcli(lab, "esx01", "storage", "core", "device", "list").ok()
    shown = records(out)
    devices = state(lab)["devices"]
    assert set(shown) == set(devices)
    for name, dev in devices.items():
        assert keys_in_order(out, name) == CORE_DEVICE_LINES, name
        rec = shown[name]
        assert rec["Multipath Plugin"] == dev["mpp"]
        assert (rec["Vendor"], rec["Model"]) == (dev["vendor"], dev["model"])
        assert rec["Is Local"] == str(dev["local"]).lower()
        assert rec["Is Shared Clusterwide"] == str(not dev["local"]).lower()
        assert rec["Other UIDs"] == "vml." + dev["uuid"]
        assert rec["Devfs Path"] == "/vmfs/devices/disks/" + name
        assert (rec["Status"], rec["Is Offline"], rec["Device Type"]) == ("on", "false", "Direct-Access")
    assert shown[LUN1]["Display Name"] == f"SCST_BIO Fibre Channel Disk ({LUN1})"
    assert shown[LUN1]["Size"] == str(1024 * 1024)  # 1 TiB in MB
    assert shown[LUN1]["Has Settable Display Name"] == "true"
    assert (shown[BOOT]["Has Settable Display Name"], shown[BOOT]["Is Boot Device"]) == ("false", "true")


def test_core_device_list_shows_a_detached_device_off(lab):
    lab.post("/lun-state", {"host": "esx02", "device": LUN1, "state": ["off"]})
    rec = records(esxcli(lab, "esx02", "storage", "core", "device", "list", "-d", LUN1).ok())[LUN1]
    assert (rec["Status"], rec["Is Offline"]) == ("off", "true")
    online = records(esxcli(lab, "esx02", "storage", "core", "device", "list", "--exclude-offline").ok())
    assert LUN1 not in online and BOOT in online
    other = records(esxcli(lab, "esx01", "storage", "core", "device", "list", "-d", LUN1).ok())[LUN1]
    assert other["Status"] == "on"
    run = esxcli(lab, "esx01", "storage", "core", "device", "list", "-d", "eui.doesnotexist")
    assert run.rc != 0 and run.out.strip() == "Unknown device eui.doesnotexist"


def test_core_path_list_has_the_real_lines_and_follows_path_state(lab):
    out = esxcli(lab, "esx01", "storage", "core", "path", "list", "-d", LUN1).ok()
    shown = records(out)
    paths = state(lab)["devices"][LUN1]["paths"]
    assert set(shown) == {p["name"] for p in paths} and len(shown) == 4
    for p in paths:
        rec = shown[p["name"]]
        assert keys_in_order(out, p["name"]) == CORE_PATH_LINES
        assert rec["UID"] == p["name"] and rec["Runtime Name"] == p["runtime"]
        adapter, _, target, lun = p["runtime"].split(":")
        assert (rec["Adapter"], rec["Channel"], rec["Target"], rec["LUN"]) == (adapter, "0", target[1:], lun[1:])
        assert (rec["Device"], rec["Plugin"], rec["Transport"]) == (LUN1, "NMP", "fc")
        assert rec["State"] == p["state"] == "active"
        # the UID is <adapter identifier>-<target identifier>-<device>
        assert rec["UID"] == f"{rec['Adapter Identifier']}-{rec['Target Identifier']}-{LUN1}"
        assert re.fullmatch(f"WWNN: {WWN} WWPN: {WWN}", rec["Adapter Transport Details"])
        assert re.fullmatch(f"WWNN: {WWN} WWPN: {WWN}", rec["Target Transport Details"])
        wwpn = rec["Target Identifier"].split(":")[1]
        assert rec["Target Transport Details"].endswith(":".join(re.findall("..", wwpn)))
    dead = paths[1]["name"]
    lab.post("/path", {"host": "esx01", "path": dead, "state": "dead"})
    one = records(esxcli(lab, "esx01", "storage", "core", "path", "list", "-p", paths[1]["runtime"]).ok())
    assert list(one) == [dead] and one[dead]["State"] == "dead"
    boot = records(esxcli(lab, "esx01", "storage", "core", "path", "list", "-d", BOOT).ok())
    assert [r["Device"] for r in boot.values()] == [BOOT]


def test_nmp_satp_list_is_the_real_table(lab):
    out = esxcli(lab, "esx01", "storage", "nmp", "satp", "list").ok()
    assert out.splitlines()[0].split() == ["Name", "Default", "PSP", "Description"]
    rows = {r["Name"]: r for r in table(out)}
    assert rows["VMW_SATP_ALUA"] == {"Name": "VMW_SATP_ALUA", "Default PSP": "VMW_PSP_MRU",
                                     "Description": "Supports non-specific arrays that use the ALUA protocol"}
    assert rows["VMW_SATP_DEFAULT_AA"]["Description"] == "Supports non-specific active/active arrays"
    assert rows["VMW_SATP_LOCAL"] == {"Name": "VMW_SATP_LOCAL", "Default PSP": "VMW_PSP_FIXED",
                                      "Description": "Supports direct attached devices"}
    assert rows["VMW_SATP_ALUA_CX"]["Description"] == "Placeholder (plugin not loaded)"
    assert len(rows) == 13
    # every SATP a device of the lab is claimed by is a loaded one
    used = {d["satp"] for d in state(lab)["devices"].values() if d["satp"]}
    assert used and all(not rows[s]["Description"].startswith("Placeholder") for s in used)


def test_nmp_psp_list_is_the_real_table(lab):
    rows = table(esxcli(lab, "esx01", "storage", "nmp", "psp", "list").ok())
    assert rows == [
        {"Name": "VMW_PSP_MRU", "Description": "Most Recently Used Path Selection"},
        {"Name": "VMW_PSP_RR", "Description": "Round Robin Path Selection"},
        {"Name": "VMW_PSP_FIXED", "Description": "Fixed Path Selection"},
    ]


def test_deviceconfig_set_sampling_cycles_and_eval_time_then_get_shows_them(lab):
    esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    assert esxcli(lab, "esx01", *RRGET, "set", "-d", LUN1, "-S", "32", "-T", "60000").ok() == ""
    got = fields(esxcli(lab, "esx01", *RRGET, "get", "-d", LUN1).ok())
    assert got["Limit Type"] == "Latency"
    assert got["Latency Evaluation Interval"] == "60000 milliseconds"
    assert got["Number Of Sampling IOs Per Path"] == "32"
    dev = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
    # the vSphere Storage guide's latency line (README source [5]) with these values
    assert re.fullmatch(r"\{policy=latency,latencyEvalTime=60000,samplingCycles=32,curSamplingCycle=32,"
                        r"useANO=0; CurrentPath=vmhba[23]:C0:T0:L1: NumIOsPending=0,latency=0\}",
                        dev["Path Selection Policy Device Config"])
    st = state(lab)["devices"][LUN1]
    assert (st["limit_type"], st["latency_eval_time"], st["sampling_cycles"]) == ("latency", 60000, 32)
    assert state(lab, "esx02")["devices"][LUN1]["psp"] == "VMW_PSP_MRU"
    # the long option names work too, and a later iops type keeps the latency settings
    esxcli(lab, "esx01", *RRGET, "set", "-d", LUN1, "--num-sampling-cycles=64", "--type=latency").ok()
    assert fields(esxcli(lab, "esx01", *RRGET, "get", "-d", LUN1).ok())["Number Of Sampling IOs Per Path"] == "64"


def test_latency_defaults_are_the_documented_ones(lab):
    esxcli(lab, "esx03", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    esxcli(lab, "esx03", *RRGET, "set", "-d", LUN1, "-t", "latency").ok()
    got = fields(esxcli(lab, "esx03", *RRGET, "get", "-d", LUN1).ok())
    assert (got["Latency Evaluation Interval"], got["Number Of Sampling IOs Per Path"]) == ("180000 milliseconds", "16")
    dev = records(esxcli(lab, "esx03", "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
    assert dev["Path Selection Policy Device Config"].startswith(
        "{policy=latency,latencyEvalTime=180000,samplingCycles=16,curSamplingCycle=16,useANO=0; CurrentPath=")


@pytest.mark.parametrize("argv, message", [
    (["-S", "8"], "Invalid number of sampling cycles 8: must be between 16 and 160"),
    (["-S", "161"], "Invalid number of sampling cycles 161: must be between 16 and 160"),
    (["-T", "9999"], "Invalid latency evaluation time 9999: must be between 10000 and 300000 milliseconds"),
    (["-T", "300001"], "Invalid latency evaluation time 300001: must be between 10000 and 300000 milliseconds"),
])
def test_out_of_range_latency_settings_are_refused_and_change_nothing(lab, argv, message):
    esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    lab.post("/stats/reset")
    run = esxcli(lab, "esx01", *RRGET, "set", "-d", LUN1, *argv)
    assert run.rc != 0 and run.out.strip() == message
    st = state(lab)["devices"][LUN1]
    assert (st["limit_type"], st["latency_eval_time"], st["sampling_cycles"]) == ("default", 180000, 16)
    assert lab.get("/stats")["writes"] == []


def test_array_priority_is_zero_on_every_alua_path_as_on_real_hosts(lab):
    """VMW_SATP_ALUA hosts print Array Priority 0 on active and active unoptimized paths alike
    (README, Array Priority); a failover changes the group states, not the priority."""
    for active in ("storage1", "storage2"):
        lab.post("/failover", {"active": active})
        shown = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-d", LUN1).ok())
        assert {r["Group State"] for r in shown.values()} == {"active", "active unoptimized"}
        assert {r["Array Priority"] for r in shown.values()} == {"0"}


def test_array_priority_on_a_clariion_lun_follows_the_optimized_group(lab):
    """A VMW_SATP_ALUA_CX host prints Array Priority 0 on the optimized group's paths and 1 on
    the others (README source [7]); the SATP shows as loaded once a device uses it."""
    cx = "naa.6006016094602800e07ff528b73ae011"
    before = {r["Name"]: r for r in table(esxcli(lab, "esx01", "storage", "nmp", "satp", "list").ok())}
    assert before["VMW_SATP_ALUA_CX"]["Description"] == "Placeholder (plugin not loaded)"
    lab.post("/lun", {"add": {"canonical": cx, "vendor": "DGC", "model": "VRAID", "lun": 23, "size_gib": 10,
                              "nodes": ["storage1", "storage2"], "satp": "VMW_SATP_ALUA_CX", "psp": "VMW_PSP_RR"}})
    after = {r["Name"]: r for r in table(esxcli(lab, "esx01", "storage", "nmp", "satp", "list").ok())}
    assert after["VMW_SATP_ALUA_CX"] == {"Name": "VMW_SATP_ALUA_CX", "Default PSP": "VMW_PSP_RR",
                                         "Description": "Supports EMC CX that use the ALUA protocol"}
    for active, ao_tpg in (("storage1", 1), ("storage2", 2)):
        lab.post("/failover", {"active": active})
        shown = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-d", cx).ok())
        assert len(shown) == 4
        for r in shown.values():
            ao = r["Storage Array Type Path Config"].startswith(f"{{TPG_id={ao_tpg},TPG_state=AO,")
            assert r["Group State"] == ("active" if ao else "active unoptimized")
            assert r["Array Priority"] == ("0" if ao else "1")
        dev = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list", "-d", cx).ok())[cx]
        assert dev["Storage Array Type Device Config"].startswith(
            "{navireg=on, ipfilter=on}{implicit_support=on;explicit_support=on;explicit_allow=on;alua_followover=on;{TPG_id=1,")


def test_a_satp_rule_with_latency_psp_options_claims_new_luns_with_them(lab):
    """The pspoption form admins put in SATP rules for the latency policy."""
    esxcli(lab, "esx01", "storage", "nmp", "satp", "rule", "add", "-s", "VMW_SATP_ALUA", "-V", "SCST_BIO",
           "-P", "VMW_PSP_RR", "-O", "policy=latency;samplingCycles=32;latencyEvalTime=120000",
           "-c", "tpgs_on", "-e", "esxpath").ok()
    new = "eui.3163393139396666"
    lab.post("/lun", {"add": {"canonical": new, "vendor": "SCST_BIO", "model": "SSD-RAID6-3", "lun": 3,
                              "size_gib": 100, "nodes": ["storage1", "storage2"]}})
    got = fields(esxcli(lab, "esx01", *RRGET, "get", "-d", new).ok())
    assert (got["Limit Type"], got["Latency Evaluation Interval"], got["Number Of Sampling IOs Per Path"]) == (
        "Latency", "120000 milliseconds", "32")
