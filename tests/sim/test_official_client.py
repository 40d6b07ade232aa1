"""Broadcom's own esxcli client (vmware-esxcli 9.1.0) runs against the simulator through vCenter
(--vihost) and prints what the simulator's state says (issue 3's "Done when", one test each)."""
import pytest

from official_esxcli import esxcli, fields, records, table
from seedlab import ALL_HOSTS as HOSTS, BOOT, EUI1 as LUN1, EUI2 as LUN2, NAA as FOREIGN

pytestmark = pytest.mark.sim

GROUP_STATE = {"AO": "active", "ANO": "active unoptimized", "STBY": "standby", "UNAV": "unavailable"}


def host_state(lab, host):
    return lab.get("/state")["hosts"][host]


def tpg_config(dev_state) -> str:
    """The {TPG_id=..,TPG_state=..} groups of the device config, from /state's paths."""
    tpgs = {p["tpg_id"]: p["tpg_state"] for p in dev_state["paths"] if p["tpg_id"]}
    return "".join(f"{{TPG_id={i},TPG_state={s}}}" for i, s in sorted(tpgs.items()))


def test_device_list_shows_every_device_as_the_state_says(lab):
    shown = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list").ok())
    state = host_state(lab, "esx01")["devices"]
    assert set(shown) == {LUN1, LUN2, BOOT, FOREIGN} == set(state)
    for name, dev in state.items():
        rec = shown[name]
        assert rec["Storage Array Type"] == dev["satp"]
        assert rec["Path Selection Policy"] == dev["psp"]
        working = [p["runtime"] for p in dev["paths"] if p["working"]]
        assert rec["Working Paths"] == ", ".join(working)
        assert rec["Is USB"] == "false"
    for lun in (LUN1, LUN2):
        assert shown[lun]["Device Display Name"] == f"SCST_BIO Fibre Channel Disk ({lun})"
        assert shown[lun]["Storage Array Type Device Config"].endswith(
            "action_OnRetryErrors=off; {TPG_id=1,TPG_state=AO}{TPG_id=2,TPG_state=ANO}}")
        assert tpg_config(state[lun]) in shown[lun]["Storage Array Type Device Config"]
        assert shown[lun]["Path Selection Policy"] == "VMW_PSP_MRU"
        assert shown[lun]["Path Selection Policy Device Config"] == "Current Path=" + shown[lun]["Working Paths"]
    assert shown[BOOT]["Storage Array Type"] == "VMW_SATP_LOCAL"
    assert shown[BOOT]["Path Selection Policy"] == "VMW_PSP_FIXED"
    assert shown[FOREIGN]["Path Selection Policy Device Config"].startswith("{policy=")


def test_device_list_for_one_device(lab):
    shown = records(esxcli(lab, "esx02", "storage", "nmp", "device", "list", "-d", LUN2).ok())
    assert list(shown) == [LUN2]
    assert shown[LUN2]["Device Display Name"] == f"SCST_BIO Fibre Channel Disk ({LUN2})"


def test_path_list_shows_four_paths_with_group_state_and_tpg(lab):
    shown = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-d", LUN1).ok())
    paths = host_state(lab, "esx01")["devices"][LUN1]["paths"]
    assert len(shown) == 4 and set(shown) == {p["name"] for p in paths}
    for p in paths:
        rec = shown[p["name"]]
        assert rec["Runtime Name"] == p["runtime"]
        assert rec["Device"] == LUN1
        assert rec["Group State"] == GROUP_STATE[p["tpg_state"]]
        assert rec["Storage Array Type Path Config"].startswith(
            f"{{TPG_id={p['tpg_id']},TPG_state={p['tpg_state']},RTP_id=")
        assert rec["Storage Array Type Path Config"].endswith(",RTP_health=UP}")
    assert sorted(r["Group State"] for r in shown.values()) == [
        "active", "active", "active unoptimized", "active unoptimized"]


def test_device_set_psp_then_list_shows_rr(lab):
    assert esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok() == ""
    shown = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
    assert shown["Path Selection Policy"] == "VMW_PSP_RR"
    assert shown["Path Selection Policy Device Config"].startswith(
        "{policy=rr,iops=1000,bytes=10485760,useANO=0; lastPathIndex=")
    assert shown["Working Paths"] == "vmhba2:C0:T0:L1, vmhba3:C0:T0:L1"  # both AO paths
    state = lab.get("/state")["hosts"]
    assert state["esx01"]["devices"][LUN1]["psp"] == "VMW_PSP_RR"
    assert all(state[h]["devices"][LUN1]["psp"] == "VMW_PSP_MRU" for h in HOSTS[1:])
    stats = lab.get("/stats")
    assert stats["writes"] == [{"host": "esx01", "device": LUN1, "what": "psp", "value": "VMW_PSP_RR"}]
    assert stats["esxcli"] == {"storage nmp device set": 1, "storage nmp device list": 1}


def test_roundrobin_iops_set_then_get(lab):
    esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    out = esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "set",
                 "-d", LUN1, "-t", "iops", "-I", "1").ok()
    assert out == ""
    got = fields(esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "get",
                        "-d", LUN1).ok())
    assert got == {
        "Byte Limit": "10485760", "Device": LUN1, "IOOperation Limit": "1",
        "Latency Evaluation Interval": "0 milliseconds", "Limit Type": "Iops",
        "Number Of Sampling IOs Per Path": "0", "Use Active Unoptimized Paths": "false",
    }
    dev = host_state(lab, "esx01")["devices"][LUN1]
    assert (dev["limit_type"], dev["iops"]) == ("iops", 1)
    listed = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
    assert listed["Path Selection Policy Device Config"].startswith("{policy=iops,iops=1,bytes=10485760,useANO=0;")


def test_satp_rule_add_then_list_contains_it(lab):
    argv = ["storage", "nmp", "satp", "rule", "add", "-s", "VMW_SATP_ALUA", "-V", "SCST_BIO",
            "-P", "VMW_PSP_RR", "-O", "iops=1", "-c", "tpgs_on", "-e", "esxpath"]
    assert esxcli(lab, "esx01", *argv).ok() == ""
    rows = table(esxcli(lab, "esx01", "storage", "nmp", "satp", "rule", "list").ok())
    ours = [r for r in rows if r["Description"] == "esxpath"]
    assert ours == [{"Name": "VMW_SATP_ALUA", "Device": "", "Vendor": "SCST_BIO", "Model": "", "Driver": "",
                     "Transport": "", "Options": "", "Rule Group": "user", "Claim Options": "tpgs_on",
                     "Default PSP": "VMW_PSP_RR", "PSP Options": "iops=1", "Description": "esxpath"}]
    assert len(rows) == len(host_state(lab, "esx01")["satp_rules"])
    assert not any(r.get("description") == "esxpath" for r in host_state(lab, "esx02")["satp_rules"])
    again = esxcli(lab, "esx01", *argv)
    assert again.rc != 0 and "Duplicate user rule" in again.out


def test_new_satp_rule_claims_a_lun_that_appears_later(lab):
    esxcli(lab, "esx01", "storage", "nmp", "satp", "rule", "add", "-s", "VMW_SATP_ALUA", "-V", "SCST_BIO",
           "-P", "VMW_PSP_RR", "-O", "iops=1", "-c", "tpgs_on", "-e", "esxpath").ok()
    new = "eui.3163393139396666"
    lab.post("/lun", {"add": {"canonical": new, "vendor": "SCST_BIO", "model": "SSD-RAID6-3", "lun": 3,
                              "size_gib": 100, "nodes": ["storage1", "storage2"]}})
    for host, psp in (("esx01", "VMW_PSP_RR"), ("esx02", "VMW_PSP_MRU")):
        shown = records(esxcli(lab, host, "storage", "nmp", "device", "list", "-d", new).ok())[new]
        assert shown["Path Selection Policy"] == psp
    got = fields(esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "get",
                        "-d", new).ok())
    assert (got["Limit Type"], got["IOOperation Limit"]) == ("Iops", "1")
    old = records(esxcli(lab, "esx01", "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
    assert old["Path Selection Policy"] == "VMW_PSP_MRU"  # present LUNs are not reclaimed


def test_unknown_device_prints_the_esxcli_error_and_fails(lab):
    run = esxcli(lab, "esx01", "storage", "nmp", "psp", "roundrobin", "deviceconfig", "get", "-d", "eui.doesnotexist")
    assert run.rc != 0
    assert run.out.strip() == "Unknown device eui.doesnotexist"
    run = esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", "eui.doesnotexist", "-P", "VMW_PSP_RR")
    assert run.rc != 0 and run.out.strip() == "Unknown device eui.doesnotexist"
    assert lab.get("/stats")["writes"] == []


def test_after_failover_every_host_shows_tpg2_ao_and_tpg1_ano(lab):
    lab.post("/failover", {"active": "storage2"})
    for host in HOSTS:
        shown = records(esxcli(lab, host, "storage", "nmp", "path", "list").ok())
        scst = {name: r for name, r in shown.items() if r["Device"] in (LUN1, LUN2)}
        assert len(scst) == 8, host
        for r in scst.values():
            cfg = r["Storage Array Type Path Config"]
            if cfg.startswith("{TPG_id=2,"):
                assert cfg.startswith("{TPG_id=2,TPG_state=AO,") and r["Group State"] == "active"
            else:
                assert cfg.startswith("{TPG_id=1,TPG_state=ANO,") and r["Group State"] == "active unoptimized"
        dev = records(esxcli(lab, host, "storage", "nmp", "device", "list", "-d", LUN1).ok())[LUN1]
        assert dev["Storage Array Type Device Config"].endswith("{TPG_id=1,TPG_state=ANO}{TPG_id=2,TPG_state=AO}}")
        assert dev["Working Paths"] == "vmhba2:C0:T1:L1"  # MRU moves to the new AO group


def test_the_host_is_found_by_ip_and_by_fqdn(lab):
    for vihost in ("10.0.0.12", "esx02.lab.local"):
        shown = records(esxcli(lab, vihost, "storage", "nmp", "device", "list", "-d", LUN1).ok())
        assert list(shown) == [LUN1]
    run = esxcli(lab, "esx99", "storage", "nmp", "device", "list")
    assert run.rc != 0 and "Cannot find ESX host esx99" in run.out


def test_injected_fault_on_an_esxcli_command_fails_the_official_client(lab):
    lab.post("/faults", {"method": "storage nmp device set", "count": 1, "fault": "HostCommunication",
                         "host": "esx01"})
    run = esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR")
    assert run.rc != 0
    assert host_state(lab, "esx01")["devices"][LUN1]["psp"] == "VMW_PSP_MRU"
    esxcli(lab, "esx01", "storage", "nmp", "device", "set", "-d", LUN1, "-P", "VMW_PSP_RR").ok()
    assert host_state(lab, "esx01")["devices"][LUN1]["psp"] == "VMW_PSP_RR"
