"""`esxpath san dump` on the simulator's SCST view of each storage node (tests/sim, --scst-dir):
the ids it computes are the ones the simulated ESXi hosts show, its roles and groups follow the
lab (failover, LUN added), and the two nodes' dumps agree on every target's rel_tgt_id."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli_process import ROOT, explain
from seedlab import SAN_NODES as NODES

pytestmark = pytest.mark.sim

SCST_VENDORS = ("SCST_BIO", "SCST_FIO")


def dump(lab, node: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "esxpath", "san", "dump", "--sysfs-root", str(lab.scst_root(node)),
         "--crm-mon-xml", str(lab.crm_mon_xml(node)), "--node", node],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, explain(proc)
    return json.loads(proc.stdout)


def esxi_scst_ids(lab) -> set[str]:
    """The SCST devices' names as every simulated ESXi host shows them (they all agree)."""
    per_host = {name: {dev for dev, d in host["devices"].items() if d["vendor"] in SCST_VENDORS}
                for name, host in lab.get("/state")["hosts"].items()}
    seen = set().union(*per_host.values())
    assert seen and all(ids == seen for ids in per_host.values() if ids), per_host
    return seen


def local_group(doc: dict) -> dict:
    [dg] = doc["device_groups"]
    [group] = [tg for tg in dg["target_groups"] if all(t["local"] for t in tg["targets"])]
    return group


def test_ids_are_the_euis_esxi_shows(lab):
    want = esxi_scst_ids(lab)
    for node in NODES:
        doc = dump(lab, node)
        assert {d["esxi_id"] for d in doc["devices"]} == want, node
        assert all(d["t10_dev_id_generated"] for d in doc["devices"]), doc["devices"]
        exported = {lun["device"] for t in doc["targets"] for lun in t["luns"]}
        assert exported == {d["name"] for d in doc["devices"]}


def test_roles_follow_the_failover(lab):
    def roles():
        docs = {node: dump(lab, node) for node in NODES}
        return ({n: d["role"] for n, d in docs.items()},
                {n: local_group(d)["state"] for n, d in docs.items()})

    assert roles() == ({"storage1": "promoted", "storage2": "unpromoted"},
                       {"storage1": "active", "storage2": "nonoptimized"})
    lab.post("/failover", {"active": "storage2"})
    assert roles() == ({"storage1": "unpromoted", "storage2": "promoted"},
                       {"storage1": "nonoptimized", "storage2": "active"})


def test_both_nodes_agree_on_groups_and_target_ids(lab):
    docs = [dump(lab, node) for node in NODES]
    views = []
    for doc in docs:
        [dg] = doc["device_groups"]
        views.append({(tg["group_id"], t["name"].lower(), t["rel_tgt_id"])
                      for tg in dg["target_groups"] for t in tg["targets"]})
        own = {t["name"].lower(): t["rel_tgt_id"] for t in doc["targets"]}
        assert {name: rel for _, name, rel in views[-1] if name in own} == own
    assert views[0] == views[1] and len(views[0]) == 4
    assert docs[0]["setup_id"] == docs[1]["setup_id"] == 0


def test_added_luns_fileio_and_naa(lab):
    fio = "eui." + b"c9abcdef".hex()
    naa = "naa.6001405" + "ab" * 12 + "c"
    lab.post("/lun", {"add": {"canonical": fio, "vendor": "SCST_FIO", "model": "NEW-LUN", "lun": 7,
                              "size_gib": 10, "nodes": list(NODES)}})
    lab.post("/lun", {"add": {"canonical": naa, "vendor": "SCST_BIO", "model": "NAA-LUN", "lun": 8,
                              "size_gib": 10, "nodes": list(NODES)}})
    want = esxi_scst_ids(lab)
    assert {fio, naa} <= want
    for node in NODES:
        doc = dump(lab, node)
        assert {d["esxi_id"] for d in doc["devices"]} == want, node
        by_id = {d["esxi_id"]: d for d in doc["devices"]}
        assert by_id[fio]["t10_vend_id"] == "SCST_FIO" and by_id[fio]["handler"] == "vdisk_fileio"
        assert by_id[naa]["naa_id"] == naa[4:]


def _group(doc: dict, group_id: int) -> dict:
    [dg] = doc["device_groups"]
    return next(tg for tg in dg["target_groups"] if tg["group_id"] == group_id)


PEER_PORT = "21:00:00:24:ff:54:09:32"  # storage2's first target: in group 2


@pytest.mark.parametrize("control, seen", [
    ({"stopped": True}, lambda d: d["role"] == "stopped" and _group(d, 2)["state"] == "nonoptimized"),
    ({"setup_id": 5}, lambda d: d["setup_id"] == 5 and all(
        d2["esxi_id"].startswith("eui." + b"5".hex()) and d2["t10_dev_id_generated"] for d2 in d["devices"])),
    ({"group_state": {"1": "active", "2": "active"}},
     lambda d: _group(d, 1)["state"] == _group(d, 2)["state"] == "active"),
    ({"unexport": ["eui.3163393135336264"]}, lambda d: all(
        len(t["luns"]) == 1 for t in d["targets"])),
    ({"disable_target": [PEER_PORT]}, lambda d: [(t["name"], t["enabled"]) for t in _group(d, 2)["targets"]][0]
     == (PEER_PORT, False) and next(t for t in d["targets"] if t["name"] == PEER_PORT)["enabled"] is False),
    ({"t10_dev_id": {"eui.3163393135336264": "1c9153bd-other"}}, lambda d: [
        (x["t10_dev_id"], x["t10_dev_id_generated"], x["esxi_id"]) for x in d["devices"]
        if x["t10_dev_id"].endswith("other")] == [("1c9153bd-other", False, "eui.3163393135336264")]),
    ({"rel_tgt_id": {PEER_PORT: 9}}, lambda d: _group(d, 2)["targets"][0]["rel_tgt_id"] == 9),
    ({"group_id": {"1": 7}}, lambda d: {tg["group_id"] for tg in d["device_groups"][0]["target_groups"]} == {2, 7}),
])
def test_dump_shows_what_the_node_reports(lab, control, seen):
    """Each POST /scst change on storage2 is in storage2's dump, and storage1's is unchanged."""
    before = dump(lab, "storage1")
    lab.post("/scst", {"node": "storage2", **control})
    doc = dump(lab, "storage2")
    assert seen(doc), json.dumps(doc, indent=1)
    after = dump(lab, "storage1")
    assert {k: v for k, v in after.items() if k != "taken_at"} == \
        {k: v for k, v in before.items() if k != "taken_at"}
