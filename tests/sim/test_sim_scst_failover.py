"""The failover honours each node's SCST view (tests/sim/scst_failover.go): POST /scst changes
nothing the hosts see until the next /failover, which then leaves a host path dead when the node
behind it does not serve that LUN on that target (stopped, target disabled or renamed, LUN
unexported, exported to an initiator group only, another id), and shows the state the node
reports for its own group. A consistent view keeps the plain failover. Read from GET /state."""
from __future__ import annotations

import pytest
from seedlab import ALL_HOSTS as HOSTS, EUI1 as LUN1, EUI2 as LUN2, NODE_PORTS as PORTS

pytestmark = pytest.mark.sim



@pytest.fixture
def fresh(lab):
    lab.reset()
    yield lab
    lab.reset()


def group_states(lab, node: str, device: str) -> dict[str, list[str]]:
    """host -> the group states of its paths to node's ports on device (by target WWPN order)."""
    ports = {p.replace(":", "") for p in PORTS[node]}
    out = {}
    for host, h in lab.get("/state")["hosts"].items():
        paths = [p for p in h["devices"][device]["paths"]
                 if p["name"].split("-")[1].split(":")[-1] in ports]
        out[host] = [p["group_state"] for p in sorted(paths, key=lambda p: p["name"])]
    return out


def test_each_host_has_two_paths_per_node(fresh):  # what group_states() finds by target WWPN
    for node, state in (("storage1", "active"), ("storage2", "active unoptimized")):
        assert group_states(fresh, node, LUN1) == {h: [state, state] for h in HOSTS}


def test_consistent_view_keeps_the_plain_failover(fresh):
    fresh.post("/failover", {"active": "storage2"})
    assert set(sum(group_states(fresh, "storage2", LUN1).values(), [])) == {"active"}
    assert set(sum(group_states(fresh, "storage1", LUN1).values(), [])) == {"active unoptimized"}
    fresh.post("/failover", {"active": "storage1"})
    assert set(sum(group_states(fresh, "storage1", LUN2).values(), [])) == {"active"}


@pytest.mark.parametrize("control, dead", [
    ({"stopped": True}, {LUN1, LUN2}),
    ({"role": "stopped"}, {LUN1, LUN2}),
    ({"disable_target": list(PORTS["storage2"])}, {LUN1, LUN2}),
    ({"unexport": [LUN2]}, {LUN2}),
    ({"ini_group": {LUN1: "esx_hosts"}}, {LUN1}),
    ({"rename_target": {p: p.replace(":54:", ":99:") for p in PORTS["storage2"]}}, {LUN1, LUN2}),
    ({"setup_id": 5}, {LUN1, LUN2}),
    ({"t10_dev_id": {LUN2: "1c91ac4a-other"}}, {LUN2}),  # LUN2 gets LUN1's id there
], ids=("stopped", "role stopped", "targets disabled", "unexported", "ini_group only",
        "renamed", "setup_id", "t10_dev_id"))
def test_peer_not_ready_leaves_its_paths_dead_after_the_move(fresh, control, dead):
    fresh.post("/scst", {"node": "storage2", **control})
    for lun in (LUN1, LUN2):  # nothing changes for the hosts before the move
        assert set(sum(group_states(fresh, "storage2", lun).values(), [])) == {"active unoptimized"}
    fresh.post("/failover", {"active": "storage2"})
    for lun in (LUN1, LUN2):
        want = {"dead"} if lun in dead else {"active"}
        assert set(sum(group_states(fresh, "storage2", lun).values(), [])) == want, lun
        # the node giving up serves as before: ANO
        assert set(sum(group_states(fresh, "storage1", lun).values(), [])) == {"active unoptimized"}


def test_one_disabled_target_kills_only_its_paths(fresh):
    fresh.post("/scst", {"node": "storage2", "disable_target": [PORTS["storage2"][0]]})
    fresh.post("/failover", {"active": "storage2"})
    for states in group_states(fresh, "storage2", LUN1).values():
        assert sorted(states) == ["active", "dead"]


@pytest.mark.parametrize("reported, seen", [
    ("nonoptimized", "active unoptimized"), ("standby", "standby"),
    ("unavailable", "unavailable"), ("offline", "dead"), ("transitioning", "transitioning"),
])
def test_hosts_see_the_state_the_node_reports_for_its_own_group(fresh, reported, seen):
    fresh.post("/scst", {"node": "storage2", "group_state": {"2": reported}})
    fresh.post("/failover", {"active": "storage2"})
    assert set(sum(group_states(fresh, "storage2", LUN1).values(), [])) == {seen}
    node = next(n for n in fresh.get("/state")["nodes"] if n["name"] == "storage2")
    assert node["state"] == {"nonoptimized": "ANO", "standby": "STBY", "unavailable": "UNAV",
                             "offline": "OFFL", "transitioning": "TRANS"}[reported]


def test_what_a_node_says_of_its_peers_group_is_not_used(fresh):
    fresh.post("/scst", {"node": "storage1", "group_state": {"2": "standby"}})  # split brain
    fresh.post("/failover", {"active": "storage2"})
    assert set(sum(group_states(fresh, "storage2", LUN1).values(), [])) == {"active"}


def test_node_giving_up_still_claiming_active_keeps_its_paths_ao(fresh):
    fresh.post("/scst", {"node": "storage1", "group_state": {"1": "active"}})
    fresh.post("/failover", {"active": "storage2"})
    assert set(sum(group_states(fresh, "storage1", LUN1).values(), [])) == {"active"}
    assert set(sum(group_states(fresh, "storage2", LUN1).values(), [])) == {"active"}


def test_dead_paths_come_back_with_post_path_and_load(fresh):
    fresh.post("/scst", {"node": "storage2", "unexport": [LUN1]})
    fresh.post("/failover", {"active": "storage2"})
    name = next(p["runtime"] for p in fresh.get("/state")["hosts"]["esx01"]["devices"][LUN1]["paths"]
                if p["group_state"] == "dead")
    fresh.post("/path", {"host": "esx01", "path": name, "device": LUN1, "state": "active"})
    path = next(p for p in fresh.get("/state")["hosts"]["esx01"]["devices"][LUN1]["paths"]
                if p["runtime"] == name)
    assert path["group_state"] == "active"
