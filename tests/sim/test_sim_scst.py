"""The simulator's SCST view (tests/sim/scst_*.go, crm_mon.go): each SCST node's sysfs-shaped
tree and crm_mon XML agree with the lab, follow /failover, /node, /lun, /reset and /load, and
every POST /scst control changes that node's SCST side only, and only what it says. The files
are read directly here (no esxpath code)."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from official_esxcli import esxcli, records
from simlab import SEED, ControlError, SimLab
from seedlab import EUI1 as LUN1, EUI2 as LUN2, NODE_PORTS as PORTS, NODE_TPG as TPG, SAN_NODES

pytestmark = pytest.mark.sim

MODELS = {LUN1: "SSD-RAID6-1", LUN2: "SSD-RAID6-2"}
PEER = dict(zip(SAN_NODES, reversed(SAN_NODES)))
NODES = list(SAN_NODES)  # compared with sorted lists


def crc32c_kernel(data: bytes) -> int:
    """Linux's crc32c(0, data, len): reflected Castagnoli polynomial 0x82F63B78, seed 0, no
    final inversion (written here bit by bit, independently of the simulator's Go code)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def tree(lab, node) -> dict[str, tuple[str, str]]:
    """relative path -> ("file", content) | ("link", target), without following links."""
    root = lab.scst_root(node)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_file():
                out[rel] = ("file", p.read_text())
    return out


def snapshot(lab) -> dict[str, dict]:
    return {n: tree(lab, n) for n in NODES}


def changed(before, after) -> set[tuple[str, str]]:
    out = set()
    for node in NODES:
        b, a = before[node], after[node]
        out |= {(node, p) for p in set(a) | set(b) if a.get(p) != b.get(p)}
    return out


def crm_roles(lab, node) -> dict[str, str]:
    """Pacemaker node -> role of its instance of the promotable clone; "Stopped" for nodes
    without a running instance."""
    root = ET.parse(lab.crm_mon_xml(node)).getroot()
    assert root.tag == "pacemaker-result" and root.get("request") == "crm_mon --output-as=xml"
    assert root.find("status").get("code") == "0"
    clone = root.find("resources/clone")
    assert clone.get("multi_state") == "true"
    roles = {n.get("name"): "Stopped" for n in root.findall("nodes/node")}
    stopped = 0
    for r in clone.findall("resource"):
        assert r.get("id") == "p_scst_alua"
        held = r.findall("node")
        if r.get("role") == "Stopped":
            assert not held and r.get("active") == "false"
            stopped += 1
            continue
        assert len(held) == 1 and r.get("active") == "true"
        roles[held[0].get("name")] = r.get("role")
    assert stopped == sum(1 for v in roles.values() if v == "Stopped")
    return roles


def both_roles(lab) -> dict[str, str]:
    r1, r2 = crm_roles(lab, "storage1"), crm_roles(lab, "storage2")
    assert r1 == r2, "Pacemaker's view is the cluster's: the same on both nodes"
    return r1


def esxi_side(lab) -> dict:
    state = lab.get("/state")
    return {"hosts": state["hosts"], "nodes": state["nodes"]}


def first(content: tuple[str, str]) -> str:
    return content[1].split("\n")[0]


def lun_devices(t, port) -> dict[int, str]:
    """LUN number -> device name exported on one of the node's targets."""
    base = f"targets/qla2x00t/{port}/luns/"
    return {int(p[len(base):].split("/")[0]): v[1].rsplit("/", 1)[1]
            for p, v in t.items() if p.startswith(base) and p.endswith("/device")}


def device_of(t, lun: int) -> str:
    return lun_devices(t, next(iter(p.split("/")[2] for p in t if p.startswith("targets/qla2x00t/"))))[lun]


# --- healthy lab -------------------------------------------------------------------------------

def test_healthy_tree_shape_and_values(lab):
    assert sorted(p.name for p in lab.scst_dir.iterdir()) == NODES  # not the NetApp node
    snap = snapshot(lab)
    names = {}
    for node in NODES:
        t, peer = snap[node], PEER[node]
        assert t["setup_id"] == ("file", "0x0\n")
        # targets: the node's own ports, enabled, both SCST LUNs under their LUN numbers
        own = {p.split("/")[2] for p in t if p.startswith("targets/qla2x00t/")}
        assert own == set(PORTS[node])
        luns = None
        for port in PORTS[node]:
            assert t[f"targets/qla2x00t/{port}/enabled"] == ("file", "1\n")
            luns_here = lun_devices(t, port)
            assert sorted(luns_here) == [1, 2]
            assert luns is None or luns_here == luns
            luns = luns_here
        for lun, canonical in ((1, LUN1), (2, LUN2)):
            dev = luns[lun]
            names.setdefault(canonical, set()).add(dev)
            d = f"devices/{dev}/"
            t10 = t[d + "t10_dev_id"][1]
            # generated (no [key] line), and its first 8 characters are what ESXi shows
            crc = crc32c_kernel(dev.encode() + bytes(1))  # the name and its NUL
            assert t10.count("\n") == 1 and t10.startswith(f"{crc:x}-")
            assert "eui." + t10[:8].encode().hex() == canonical
            assert t[d + "usn"] == ("file", t10[:8] + "\n")
            assert t[d + "eui64_id"] == ("file", "\n") and t[d + "naa_id"] == ("file", "\n")
            assert t[d + "t10_vend_id"] == ("file", "SCST_BIO\n")
            assert t[d + "prod_id"] == ("file", MODELS[canonical] + "\n[key]\n")
            assert t[d + "handler"] == ("link", "../../handlers/vdisk_blockio")
            assert sorted(v[1] for p, v in t.items() if p.startswith(d + "exported/")) == sorted(
                f"../../../targets/qla2x00t/{port}/luns/{lun}" for port in PORTS[node])
        # one device group with both devices and the local + remote target groups
        dgs = {p.split("/")[1] for p in t if p.startswith("device_groups/") and p.count("/") > 1}
        assert dgs == {"scst"}
        g = "device_groups/scst/"
        assert {p: v for p, v in t.items() if p.startswith(g + "devices/") and v[0] == "link"} == {
            g + f"devices/{luns[n]}": ("link", f"../../../devices/{luns[n]}") for n in (1, 2)}
        local, remote = g + "target_groups/local/", g + "target_groups/remote/"
        assert t[local + "group_id"] == ("file", f"{TPG[node]}\n[key]\n")
        assert t[remote + "group_id"] == ("file", f"{TPG[peer]}\n[key]\n")
        want_local = "active" if node == "storage1" else "nonoptimized"
        want_remote = "nonoptimized" if node == "storage1" else "active"
        assert t[local + "state"] == ("file", f"{want_local}\n[key]\n")
        assert t[remote + "state"] == ("file", f"{want_remote}\n[key]\n")
        assert t[local + "preferred"] == t[remote + "preferred"] == ("file", "0\n")
        for port in PORTS[node]:  # a local target is a link to the target itself
            assert t[local + port] == ("link", f"../../../../targets/qla2x00t/{port}")
        for port in PORTS[peer]:  # a remote one a directory holding its rel_tgt_id
            assert first(t[f"{remote}{port}/rel_tgt_id"]).isdigit()
        assert sorted(os.listdir(lab.scst_root(node) / g / "target_groups")) == ["local", "mgmt", "remote"]
    assert all(len(v) == 1 for v in names.values()), f"same device name on both nodes: {names}"
    assert both_roles(lab) == {"storage1": "Promoted", "storage2": "Unpromoted"}
    state = lab.get("/state")["scst"]["nodes"]
    assert {n: (v["role"], v["setup_id"]) for n, v in state.items()} == {
        "storage1": ("promoted", 0), "storage2": ("unpromoted", 0)}


def test_rel_tgt_id_and_group_id_match_what_esxi_reports(lab):
    """RTP_id and TPG_id on every ESXi path equal the SCST rel_tgt_id and group_id of its
    target, on the node that owns the target and in the peer's remote group."""
    snap = snapshot(lab)
    recs = records(esxcli(lab, "esx01", "storage", "nmp", "path", "list", "-d", LUN1).ok())
    assert len(recs) == 4
    for name, r in recs.items():  # fc.<hba wwnn>:<hba wwpn>-fc.<target wwnn>:<target wwpn>-<device>
        cfg = dict(kv.split("=") for kv in r["Storage Array Type Path Config"].strip("{}").split(","))
        wwpn = name.split("-")[1].rsplit(":", 1)[1]
        port = ":".join(wwpn[i:i + 2] for i in range(0, 16, 2))
        owner = next(n for n in NODES if port in PORTS[n])
        peer = PEER[owner]
        assert first(snap[owner][f"targets/qla2x00t/{port}/rel_tgt_id"]) == cfg["RTP_id"]
        assert first(snap[peer][f"device_groups/scst/target_groups/remote/{port}/rel_tgt_id"]) == cfg["RTP_id"]
        assert first(snap[owner]["device_groups/scst/target_groups/local/group_id"]) == cfg["TPG_id"]
        assert first(snap[peer]["device_groups/scst/target_groups/remote/group_id"]) == cfg["TPG_id"]


def test_t10_dev_id_generation_matches_scst_documented_example(lab):
    """SCST's own example, scst/README section "Checking the Target Configuration": a vdisk
    named disk01 (setup_id 0) shows `Unit serial number: 27cddc71` in sg_inq and `vendor
    specific: 27cddc71-disk01` in sg_vpd; disk02's multipath WWID 23133326137346538 is the
    EUI-64 "132a74e8". A wrong CRC convention (seed ~0, final inversion, no NUL) gives other
    digits (disk01: 9cf3b61c, d832238e, 69d7eff7)."""
    lab.post("/scst", {"node": "storage1", "extra_device": "disk01"})
    lab.post("/scst", {"node": "storage1", "extra_device": "disk02"})
    t = tree(lab, "storage1")
    assert t["devices/disk01/t10_dev_id"] == ("file", "27cddc71-disk01\n")
    assert t["devices/disk01/usn"] == ("file", "27cddc71\n")
    assert first(t["devices/disk02/t10_dev_id"])[:8] == "132a74e8"
    assert bytes.fromhex("3133326137346538").decode() == "132a74e8"
    assert crc32c_kernel(b"disk01\0") == 0x27CDDC71  # this file's own CRC agrees too
    # setup_id goes into the high 32 bits: (5 << 32) | crc, printed with %llx
    lab.post("/scst", {"node": "storage1", "setup_id": 5})
    t = tree(lab, "storage1")
    assert t["devices/disk01/t10_dev_id"] == ("file", "527cddc71-disk01\n")
    assert t["setup_id"] == ("file", "0x5\n[key]\n")
    # the buffer is 25 characters: longer ids are cut (char t10_dev_id[16+8+2] in scst_vdisk.c)
    assert all(len(first(v)) <= 25 for p, v in t.items() if p.endswith("/t10_dev_id"))


# --- consistency with the lab ------------------------------------------------------------------

def test_failover_and_node_flip_states_and_role(lab):
    before = snapshot(lab)
    lab.post("/failover", {"active": "storage2"})
    after = snapshot(lab)
    g = "device_groups/scst/target_groups/"
    assert changed(before, after) == {(n, g + tg + "/state") for n in NODES for tg in ("local", "remote")}
    assert first(after["storage1"][g + "local/state"]) == first(after["storage2"][g + "remote/state"]) == "nonoptimized"
    assert first(after["storage2"][g + "local/state"]) == first(after["storage1"][g + "remote/state"]) == "active"
    assert both_roles(lab) == {"storage1": "Unpromoted", "storage2": "Promoted"}
    # /node sets one node: OFFL is a stopped node (ESOS marks its group offline)
    lab.post("/node", {"name": "storage1", "state": "OFFL"})
    t1, t2 = tree(lab, "storage1"), tree(lab, "storage2")
    assert first(t1[g + "local/state"]) == first(t2[g + "remote/state"]) == "offline"
    assert both_roles(lab) == {"storage1": "Stopped", "storage2": "Promoted"}
    lab.post("/node", {"name": "storage1", "state": "STBY"})
    assert first(tree(lab, "storage2")[g + "remote/state"]) == "standby"
    assert both_roles(lab)["storage1"] == "Unpromoted"
    lab.post("/reset")
    assert snapshot(lab) == before
    assert both_roles(lab) == {"storage1": "Promoted", "storage2": "Unpromoted"}


def test_lun_add_and_remove_follow(lab):
    canonical = "eui." + b"c9abcdef".hex()
    lab.post("/lun", {"add": {"canonical": canonical, "vendor": "SCST_FIO", "model": "NEW-LUN", "lun": 7,
                              "size_gib": 10, "nodes": ["storage1", "storage2"]}})
    for node in NODES:
        t = tree(lab, node)
        dev = lun_devices(t, PORTS[node][0])[7]
        assert first(t[f"devices/{dev}/t10_dev_id"])[:8] == "c9abcdef"
        assert t[f"devices/{dev}/handler"] == ("link", "../../handlers/vdisk_fileio")
        assert t[f"devices/{dev}/t10_vend_id"] == ("file", "SCST_FIO\n")
        assert f"device_groups/scst/devices/{dev}" in t
    naa = "naa.6001405" + "ab" * 12 + "c"
    lab.post("/lun", {"add": {"canonical": naa, "vendor": "SCST_BIO", "model": "NAA-LUN", "lun": 8,
                              "size_gib": 10, "nodes": ["storage1", "storage2"]}})
    t = tree(lab, "storage2")
    dev = lun_devices(t, PORTS["storage2"][0])[8]
    assert t[f"devices/{dev}/naa_id"] == ("file", "0x" + naa[4:] + "\n[key]\n")  # set explicitly
    lab.post("/lun", {"remove": canonical})
    assert sorted(lun_devices(tree(lab, "storage1"), PORTS["storage1"][0])) == [1, 2, 8]
    assert not any(first(v).startswith("c9abcdef") for p, v in tree(lab, "storage1").items()
                   if p.endswith("t10_dev_id"))


def test_generated_estate_luns_are_named_for_their_euis():
    with SimLab().start(None, extra_args=["--generate", "hosts=2,luns=3"]) as big:
        canon = {d for d, v in big.get("/state")["hosts"]["esx001"]["devices"].items()
                 if v["vendor"] == "SCST_BIO"}
        assert len(canon) == 3
        for node in NODES:
            t = tree(big, node)
            devs = lun_devices(t, PORTS[node][0])
            ids = {"eui." + first(t[f"devices/{d}/t10_dev_id"])[:8].encode().hex() for d in devs.values()}
            assert ids == canon
            assert all(t[f"devices/{d}/t10_dev_id"][1].count("\n") == 1 for d in devs.values())


# --- POST /scst: each control changes its node's SCST side, only what it says -------------------

G = "device_groups/scst/target_groups/"


def dev(t, lun):
    return device_of(t, lun)


CONTROLS = [
    ("setup_id", {"node": "storage2", "setup_id": 5},
     lambda t: {("storage2", "setup_id")} | {("storage2", f"devices/{dev(t['storage2'], n)}/{a}")
                                              for n in (1, 2) for a in ("t10_dev_id", "usn")}),
    ("group_state", {"node": "storage2", "group_state": {"1": "active", "2": "active"}},
     lambda t: {("storage2", G + "local/state")}),  # group 1 was active already
    ("unexport", {"node": "storage2", "unexport": [LUN2]},
     lambda t: {("storage2", f"targets/qla2x00t/{p}/luns/2/{a}") for p in PORTS["storage2"]
                for a in ("device", "read_only")}
     | {("storage2", f"devices/{dev(t['storage2'], 2)}/exported/export{i}") for i in (0, 1)}),
    ("disable_target", {"node": "storage2", "disable_target": ["21:00:00:24:ff:54:09:32"]},
     lambda t: {("storage2", "targets/qla2x00t/21:00:00:24:ff:54:09:32/enabled")}),
    ("t10_dev_id", {"node": "storage1", "t10_dev_id": {LUN1: "1c9153bd-other"}},
     lambda t: {("storage1", f"devices/{dev(t['storage1'], 1)}/t10_dev_id")}),
    ("rel_tgt_id remote", {"node": "storage1", "rel_tgt_id": {"21:00:00:24:ff:54:09:32": 9}},
     lambda t: {("storage1", G + "remote/21:00:00:24:ff:54:09:32/rel_tgt_id")}),
    ("rel_tgt_id own", {"node": "storage1", "rel_tgt_id": {"21:00:00:24:ff:54:09:80": 9}},
     lambda t: {("storage1", "targets/qla2x00t/21:00:00:24:ff:54:09:80/rel_tgt_id")}),
    ("group_id", {"node": "storage2", "group_id": {"1": 7}},
     lambda t: {("storage2", G + "remote/group_id")}),
    ("role", {"node": "storage1", "role": "unpromoted"}, lambda t: set()),
    ("stopped", {"node": "storage2", "stopped": True}, lambda t: set()),
]


@pytest.mark.parametrize("name, body, expect", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_scst_control_changes_only_what_it_says(lab, name, body, expect):
    esxi, before = esxi_side(lab), snapshot(lab)
    lab.post("/scst", body)
    after = snapshot(lab)
    assert changed(before, after) == expect(before)
    assert esxi_side(lab) == esxi, "POST /scst never changes what the hosts see"
    node = body["node"]
    t = after[node]
    roles = both_roles(lab)
    want_roles = {"storage1": "Promoted", "storage2": "Unpromoted"}
    if name == "setup_id":
        assert t["setup_id"] == ("file", "0x5\n[key]\n")
        for n in (1, 2):
            d = dev(t, n)
            assert first(t[f"devices/{d}/t10_dev_id"]) == f"5{first(before[node][f'devices/{d}/t10_dev_id'])}"[:25]
    elif name == "group_state":
        assert first(t[G + "local/state"]) == first(t[G + "remote/state"]) == "active"
    elif name == "unexport":
        assert all(sorted(lun_devices(t, p)) == [1] for p in PORTS[node])
        assert f"devices/{dev(before[node], 2)}/t10_dev_id" in t  # the device stays, unexported
    elif name == "disable_target":
        assert t["targets/qla2x00t/21:00:00:24:ff:54:09:32/enabled"] == ("file", "0\n")
    elif name == "t10_dev_id":
        assert t[f"devices/{dev(t, 1)}/t10_dev_id"] == ("file", "1c9153bd-other\n[key]\n")
    elif name.startswith("rel_tgt_id"):
        assert ("file", "9\n[key]\n") in [after[node][p] for _, p in expect(before)]
        if name == "rel_tgt_id own":  # the local group's entry is a link to the target: follows
            assert (lab.scst_root(node) / G / "local/21:00:00:24:ff:54:09:80/rel_tgt_id").read_text() == "9\n[key]\n"
    elif name == "group_id":
        assert t[G + "remote/group_id"] == ("file", "7\n[key]\n")
    elif name == "role":
        want_roles["storage1"] = "Unpromoted"
    elif name == "stopped":
        want_roles["storage2"] = "Stopped"
    assert roles == want_roles
    lab.post("/reset")
    assert snapshot(lab) == before


def test_extra_device_is_exported_everywhere_on_that_node_only(lab):
    before = snapshot(lab)
    lab.post("/scst", {"node": "storage1", "extra_device": "disk99"})
    after = snapshot(lab)
    new = {p for n, p in changed(before, after)}
    assert {n for n, _ in changed(before, after)} == {"storage1"}
    assert {p for p in new if p not in before["storage1"]} == new  # only additions
    t = after["storage1"]
    assert t["devices/disk99/t10_dev_id"] == ("file", f"{crc32c_kernel(b'disk99' + bytes(1)):x}-disk99\n")
    assert "device_groups/scst/devices/disk99" in new
    for port in PORTS["storage1"]:
        assert lun_devices(t, port)[3] == "disk99"


def test_stopped_node_keeps_reporting_what_it_did(lab):
    """A stopped node's SCST view is frozen (still nonoptimized), Pacemaker shows it stopped;
    a failover changes the running node only."""
    lab.post("/scst", {"node": "storage2", "stopped": True})
    frozen = tree(lab, "storage2")
    lab.post("/failover", {"active": "storage2"})  # the hosts now see storage2 AO
    assert tree(lab, "storage2") == frozen
    assert first(frozen[G + "local/state"]) == "nonoptimized"
    assert first(tree(lab, "storage1")[G + "local/state"]) == "nonoptimized"
    assert both_roles(lab) == {"storage1": "Unpromoted", "storage2": "Stopped"}
    assert lab.get("/state")["scst"]["nodes"]["storage2"]["stopped"] is True
    with pytest.raises(ControlError) as e:
        lab.post("/scst", {"node": "storage2", "setup_id": 3})
    assert e.value.status == 400 and "stopped" in e.value.body
    lab.post("/scst", {"node": "storage2", "stopped": False})  # running again: follows the lab
    assert first(tree(lab, "storage2")[G + "local/state"]) == "active"
    assert both_roles(lab) == {"storage1": "Unpromoted", "storage2": "Promoted"}


@pytest.mark.parametrize("body, words", [
    ({"node": "netapp", "setup_id": 1}, "not an SCST storage node"),
    ({"node": "storage1"}, "nothing to change"),
    ({"node": "storage1", "group_state": {"3": "active"}}, "group_id"),
    ({"node": "storage1", "group_state": {"1": "optimized"}}, "optimized"),
    ({"node": "storage1", "unexport": ["eui.0000000000000000"]}, "eui.0000000000000000"),
    ({"node": "storage1", "disable_target": ["21:00:00:24:ff:54:09:32"]}, "not a target of node storage1"),
    ({"node": "storage1", "extra_device": "bad name"}, "extra_device"),
    ({"node": "storage1", "role": "master"}, "role"),
    ({"node": "storage1", "rel_tgt_id": {"21:00:00:24:ff:54:09:80": 0}}, "rel_tgt_id"),
    ({"node": "storage1", "sideways": 1}, "unknown field"),
])
def test_bad_scst_requests_are_400_and_change_nothing(lab, body, words):
    before = snapshot(lab)
    with pytest.raises(ControlError) as e:
        lab.post("/scst", body)
    assert e.value.status == 400 and words in e.value.body
    assert snapshot(lab) == before


def test_load_restores_a_consistent_view(lab):
    before = snapshot(lab)
    lab.post("/scst", {"node": "storage1", "setup_id": 9, "extra_device": "disk7", "role": "stopped"})
    lab.post("/scst", {"node": "storage2", "stopped": True})
    lab.post("/load", json.loads(SEED.read_text()))
    assert snapshot(lab) == before
    assert both_roles(lab) == {"storage1": "Promoted", "storage2": "Unpromoted"}
