"""tests/seedlab.py's constants are the seed lab's scenario file, not a copy that drifts."""
from __future__ import annotations

import json

import seedlab as lab


def scenario() -> dict:
    return json.loads(lab.SCENARIO.read_text())


def test_hosts_cluster_and_datacenter():
    sc = scenario()
    assert sc["datacenter"] == lab.DATACENTER
    clustered = tuple(h["name"] for h in sc["hosts"] if h.get("cluster") == lab.CLUSTER)
    alone = tuple(h["name"] for h in sc["hosts"] if not h.get("cluster"))
    assert (clustered, alone) == (lab.CLUSTER_HOSTS, (lab.STANDALONE,))
    assert lab.ALL_HOSTS == tuple(h["name"] for h in sc["hosts"])
    assert all(tuple(b["device"] for b in h["hbas"]) == lab.HBAS for h in sc["hosts"])


def test_luns_and_the_boot_disk():
    sc = scenario()
    scst = {lun["canonical"]: (lun["model"], lun["lun"]) for lun in sc["luns"]
            if lun["vendor"].startswith("SCST")}
    assert scst == lab.SCST_MODELS and tuple(scst) == lab.SCST
    assert [lun["canonical"] for lun in sc["luns"] if lun["vendor"] == "NETAPP"] == [lab.NAA]
    assert [d["canonical"] for d in sc["local_devices"]] == [lab.BOOT]


def test_storage_nodes_and_their_groups():
    nodes = {n["name"]: n for n in scenario()["storage_nodes"]}
    assert (nodes[lab.SAN_NODES[0]]["tpg_id"], nodes[lab.SAN_NODES[0]]["state"]) == (lab.AO_TPG, "AO")
    assert (nodes[lab.SAN_NODES[1]]["tpg_id"], nodes[lab.SAN_NODES[1]]["state"]) == (lab.ANO_TPG, "ANO")
    assert {n: nodes[n]["tpg_id"] for n in lab.SAN_NODES} == lab.NODE_TPG
    assert {n: tuple(nodes[n]["ports"]) for n in lab.SAN_NODES} == lab.NODE_PORTS
