"""`esxpath san dump` on the simulator's SCST view of each storage node (tests/sim, --scst-dir):
the ids it computes are the ones the simulated ESXi hosts show, its roles and groups follow the
lab (failover, LUN added), and the two nodes' dumps agree on every target's rel_tgt_id."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli_process import ROOT, explain

pytestmark = pytest.mark.sim

NODES = ("storage1", "storage2")
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
