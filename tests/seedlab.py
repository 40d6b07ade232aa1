"""The seed lab's facts (tests/sim/scenarios/seed-lab.json), once, for every test.

Plain constants, so that a test reads as the lab it runs on; tests/unit/test_seedlab.py holds
them to the scenario file, so an edit of the lab that forgets them fails there and not in forty
places. Importable from every test directory (tests/conftest.py puts tests/ on sys.path).
"""
from __future__ import annotations

from pathlib import Path

SCENARIO = Path(__file__).resolve().parent / "sim" / "scenarios" / "seed-lab.json"

DATACENTER = "DC0"
CLUSTER = "storage-cluster"
CLUSTER_HOSTS = ("esx01", "esx02", "esx03", "esx04")
STANDALONE = "esx05"
ALL_HOSTS = CLUSTER_HOSTS + (STANDALONE,)

# the SCST LUNs esxpath manages: canonical name -> (model, LUN number)
EUI1 = "eui.3163393161633461"
EUI2 = "eui.3163393135336264"
SCST = (EUI1, EUI2)
SCST_MODELS = {EUI1: ("SSD-RAID6-1", 1), EUI2: ("SSD-RAID6-2", 2)}
NAA = "naa.600a098038303053453f463045727a4d"  # the NetApp LUN esxpath must never touch
BOOT = "mpx.vmhba32:C0:T0:L0"  # every host's local boot disk

HBAS = ("vmhba2", "vmhba3")
SAN_NODES = ("storage1", "storage2")  # storage1 is the master (TPG 1, AO), storage2 TPG 2 (ANO)
AO_TPG = 1
ANO_TPG = 2
NODE_TPG = {"storage1": AO_TPG, "storage2": ANO_TPG}
NODE_PORTS = {"storage1": ("21:00:00:24:ff:54:09:80", "21:00:00:24:ff:54:09:81"),  # their targets
              "storage2": ("21:00:00:24:ff:54:09:32", "21:00:00:24:ff:54:09:33")}
