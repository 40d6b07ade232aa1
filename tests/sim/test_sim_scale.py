"""A generated 64-host x 32-LUN estate starts and answers one RetrievePropertiesEx for all hosts.

Timings are printed (run with -s), not asserted: this machine's load is not under test.
"""
from __future__ import annotations

import json
import time

import pytest

from sim_soap import connect, disconnect, lun_by_canonical, read_hosts
from simlab import SEED, SimLab

pytestmark = pytest.mark.sim

HOSTS, LUNS = 64, 32


@pytest.fixture(scope="module")
def big():
    t = time.monotonic()
    lab = SimLab().start(SEED, extra_args=("--generate", f"hosts={HOSTS},luns={LUNS}"))
    print(f"\n64x32 estate started in {time.monotonic() - t:.2f}s (env file written)")
    yield lab
    lab.stop()


def test_one_retrieve_properties_returns_every_host(big):
    si = connect(big)
    try:
        big.post("/stats/reset")
        t = time.monotonic()
        hosts = read_hosts(si, ["name", "runtime.connectionState", "config.storageDevice"])
        print(f"RetrievePropertiesEx for {len(hosts)} hosts took {time.monotonic() - t:.2f}s")
        calls = big.get("/stats")["calls"]
        assert calls.get("RetrievePropertiesEx") == 1
        assert "ContinueRetrievePropertiesEx" not in calls
    finally:
        disconnect(si)
    assert sorted(hosts) == [f"esx{i:03d}" for i in range(1, HOSTS + 1)]
    for name, h in hosts.items():
        luns = lun_by_canonical(h["config.storageDevice"])
        scst = {c: lu for c, (lun, lu) in luns.items() if lun.vendor.strip() == "SCST_BIO"}
        assert len(scst) == LUNS, name
        assert len(luns) == LUNS + 2  # plus boot disk and the foreign LUN
        for lu in scst.values():
            assert len(lu.path) == 4
            # claimed by the system rules: VMW_SATP_ALUA with its default PSP
            assert (lu.storageArrayTypePolicy.policy, lu.policy.policy) == ("VMW_SATP_ALUA", "VMW_PSP_MRU")


def test_generated_clusters_and_distinct_wwns(big):
    state = big.get("/state")["hosts"]
    clusters = {h["cluster"] for h in state.values()}
    assert clusters == {"cluster-01", "cluster-02", "cluster-03", "cluster-04"}
    names = {p["name"] for h in state.values() for d in h["devices"].values() for p in d["paths"]
             if p["name"].startswith("fc.")}
    assert len(names) == HOSTS * (LUNS * 4 + 2)


def test_write_scenario_round_trips(tmp_path):
    from simlab import ensure_built
    import subprocess
    out = tmp_path / "big.json"
    subprocess.run([str(ensure_built()), "--scenario", str(SEED), "--generate", "hosts=3,luns=2",
                    "--write-scenario", str(out)], check=True, capture_output=True)
    sc = json.loads(out.read_text())
    assert [h["name"] for h in sc["hosts"]] == ["esx001", "esx002", "esx003"]
    assert sum(1 for l in sc["luns"] if l["canonical"].startswith("eui.")) == 2
    with SimLab() as lab:
        lab.start(out)
        assert sorted(lab.get("/state")["hosts"]) == ["esx001", "esx002", "esx003"]
