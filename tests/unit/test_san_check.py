"""esxpath/san/audit.py and core/gate_san.py: every SAN finding, table-driven on hand-written
dumps of the seed lab's two storage nodes against its inventory (tests/unit/factory.py); a
consistent SAN gives none."""
from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from esxpath.errors import ConfigError
from esxpath.core.gate import check as gate_check
from esxpath.core.model import Expectation, Finding, Inventory, Selector, Severity, TpgState
from esxpath.core.gate_san import gate_findings
from esxpath.san.audit import SanDumps, findings
from esxpath.san.view import SCHEMA, SanDumpError, san_view

from factory import EUI1, EUI2, compliant, edit_device, set_paths
from seedlab import NODE_PORTS as PORTS, NODE_TPG as GROUP

# the simulator numbers the target ports of all nodes from 1 (its RTP_id)
RTP = {"21:00:00:24:ff:54:09:80": 1, "21:00:00:24:ff:54:09:81": 2,
       "21:00:00:24:ff:54:09:32": 3, "21:00:00:24:ff:54:09:33": 4}
# t10_dev_id whose first 8 characters are the lab's euis ("1c91ac4a", "1c9153bd")
DISKS = (("disk01", "1c91ac4a-disk01", EUI1), ("disk02", "1c9153bd-disk02", EUI2))
TAKEN = "2026-11-29T18:40:00Z"  # every dump's taken_at; the gate's clock is a minute later
NOW = datetime(2026, 11, 29, 18, 41, tzinfo=timezone.utc)


def dump(node: str, *, active: str = "storage1", role: str | None = None) -> dict:
    """What `esxpath san dump` prints on a node of the healthy seed lab."""
    other = "storage2" if node == "storage1" else "storage1"

    def group(owner: str) -> dict:
        local = owner == node
        return {"name": "local" if local else "remote", "group_id": GROUP[owner],
                "state": "active" if owner == active else "nonoptimized", "preferred": False,
                "targets": [{"name": t, "rel_tgt_id": RTP[t], "local": local,
                             "enabled": True if local else None} for t in PORTS[owner]]}
    return {
        "schema": SCHEMA, "node": node, "source": "sysfs:/sys/kernel/scst_tgt",
        "taken_at": TAKEN, "setup_id": 0,
        "role": role or ("promoted" if node == active else "unpromoted"),
        "role_resource": "ms_scst",
        "devices": [{"name": n, "handler": "vdisk_blockio", "t10_dev_id": t10,
                     "t10_dev_id_generated": True, "eui64_id": None, "naa_id": None,
                     "t10_vend_id": "SCST_BIO", "prod_id": n, "esxi_id": eui}
                    for n, t10, eui in DISKS],
        "device_groups": [{"name": "dgroup1", "devices": [n for n, _, _ in DISKS],
                           "target_groups": [group(node), group(other)]}],
        "targets": [{"driver": "qla2x00t", "name": t, "enabled": True, "rel_tgt_id": RTP[t],
                     "luns": [{"lun": i + 1, "device": n, "ini_group": None} for i, (n, _, _) in enumerate(DISKS)]}
                    for t in PORTS[node]],
    }


def lab() -> Inventory:
    """The compliant seed lab, its paths carrying the RTP_id the simulator reports."""
    inv = compliant()
    for h in inv.hosts:
        for d in h.devices:
            if d.canonical_name in (EUI1, EUI2):
                paths = tuple(replace(p, rtp_id=RTP[p.target_wwpn]) for p in d.paths)
                inv = edit_device(inv, h.name, d.canonical_name, paths=paths)
    return inv


def run(dumps: list[dict], inv: Inventory | None = None):
    nodes = san_view((d, f"dump-{i}.json") for i, d in enumerate(dumps))
    return findings(nodes, inv or lab(), Selector())


def codes(found) -> set[tuple[str, Severity]]:
    return {(f.code, f.severity) for f in found}


def test_consistent_san_gives_no_finding():
    assert run([dump("storage1"), dump("storage2")]) == []


def test_consistent_after_failover_gives_no_finding():
    inv = compliant()
    from factory import lab as seed
    inv = seed(psp="VMW_PSP_RR", limit_type="iops", iops=1, active_tpg=2)
    assert run([dump("storage1", active="storage2"), dump("storage2", active="storage2")],
               inv) == []


# ---------------------------------------------------------------- each finding

def _tg(d: dict, group_id: int) -> dict:
    return next(tg for tg in d["device_groups"][0]["target_groups"] if tg["group_id"] == group_id)


def _setup_id(d1, d2, inv):
    d2["setup_id"] = 5
    d2["devices"][0]["esxi_id"] = "eui.3530303030303031"
    return inv


def _setup_id_explicit(d1, d2, inv):
    d2["setup_id"] = 5
    for d in d1["devices"] + d2["devices"]:
        d["t10_dev_id_generated"], d["eui64_id"] = False, d["esxi_id"][4:]
    return inv


def _collision(d1, d2, inv):
    d2["devices"][1]["t10_dev_id"] = "1c91ac4a-other"
    d2["devices"][1]["esxi_id"] = EUI1
    return inv


def _unseen(d1, d2, inv):
    d2["devices"].append({"name": "disk99", "handler": "vdisk_blockio", "t10_dev_id": "99999999-x",
                          "t10_dev_id_generated": True, "eui64_id": None, "naa_id": None,
                          "t10_vend_id": "SCST_BIO", "prod_id": "disk99",
                          "esxi_id": "eui.3939393939393939"})
    return inv


def _tpg_unknown(d1, d2, inv):
    _tg(d2, 1)["group_id"] = 7
    return inv


def _rtp(d1, d2, inv):
    _tg(d1, 1)["targets"][0]["rel_tgt_id"] = 9
    return inv


def _state(d1, d2, inv):  # both nodes say group 2 is standby; the hosts see ANO
    _tg(d1, 2)["state"] = _tg(d2, 2)["state"] = "standby"
    return inv


def _split_brain(d1, d2, inv):
    _tg(d2, 2)["state"] = "standby"
    return inv


def _both_active(d1, d2, inv):
    _tg(d2, 2)["state"] = "active"
    return inv


def _stopped(d1, d2, inv):
    d2["role"] = "stopped"
    return inv


def _master(d1, d2, inv):
    d1["role"], d2["role"] = "unpromoted", "promoted"
    return inv


def _two_masters(d1, d2, inv):
    d2["role"] = "promoted"
    return inv


def _no_master(d1, d2, inv):
    d1["role"] = "unpromoted"
    return inv


def _offline_alive(d1, d2, inv):  # storage2 set its group offline, the hosts still see ANO
    _tg(d1, 2)["state"] = _tg(d2, 2)["state"] = "offline"
    return inv


def _esxi_unknown_id(d1, d2, inv):  # a LUN on the hosts that neither node produces
    for d in (d1, d2):
        d["devices"] = d["devices"][:1]
        d["device_groups"][0]["devices"] = ["disk01"]
    return inv


CASES = {
    # name: (edit, code, severity, words in the message)
    "setup_id differs (generated ids)": (_setup_id, "san-setup-id", Severity.DANGER,
                                         ("storage1 0", "storage2 5")),
    "id unknown on one node": (_setup_id, "san-id-unknown", Severity.DANGER,
                               ("storage2", EUI1, "setup_id 5", "produced by storage1")),
    "setup_id differs (ids explicit)": (_setup_id_explicit, "san-setup-id", Severity.DRIFT,
                                        ("explicitly",)),
    "ids collide": (_collision, "san-id-collision", Severity.DANGER,
                    ("storage2", "disk01", "disk02", "1c91ac4a-other")),
    "device seen by no host": (_unseen, "san-device-unseen", Severity.DRIFT,
                               ("storage2", "disk99", "no host")),
    "tpg id unknown": (_tpg_unknown, "san-tpg-unknown", Severity.DANGER,
                       ("TPG 1", "storage2", "dgroup1", "2, 7")),
    "rtp id unknown": (_rtp, "san-rtp-unknown", Severity.DRIFT,
                       ("RTP_id 1", "storage1", "local", "21:00:00:24:ff:54:09:80=9")),
    "state differs from the hosts": (_state, "san-state", Severity.DANGER,
                                     ("standby", "STBY", "ANO", "TPG 2")),
    "split brain": (_split_brain, "san-split-brain", Severity.DANGER,
                    ("TPG 2 (storage2's targets)", "storage1 says nonoptimized",
                     "storage2 says standby")),
    "both active": (_both_active, "san-both-active", Severity.DANGER,
                    ("TPG 1 (storage1's targets) by storage1, storage2",
                     "TPG 2 (storage2's targets) by storage2")),
    "stopped node still nonoptimized": (_stopped, "san-stopped-active", Severity.DANGER,
                                        ("storage2", "stopped", "local", "nonoptimized")),
    "master's group not AO": (_master, "san-master", Severity.DANGER,
                              ("master storage2", "TPG 2", "ANO", "TPG 1 AO")),
    "two masters": (_two_masters, "san-master", Severity.DANGER, ("storage1 and storage2",)),
    "no master": (_no_master, "san-master", Severity.DANGER, ("no promoted node",)),
    "offline group alive on the hosts": (_offline_alive, "san-state", Severity.DANGER,
                                         ("offline", "OFFL", "ANO")),
    "id the hosts see, no node produces": (_esxi_unknown_id, "san-id-unknown", Severity.DANGER,
                                           (EUI2, "no dumped node")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_finding(case):
    edit, code, severity, words = CASES[case]
    d1, d2 = dump("storage1"), dump("storage2")
    inv = edit(d1, d2, lab())
    found = [f for f in run([d1, d2], inv) if f.code == code]
    assert found, f"no {code} in {run([d1, d2], inv)}"
    assert {f.severity for f in found} == {severity}
    assert any(all(w in f.message for w in words) for f in found), [f.message for f in found]


def test_state_finding_names_host_node_device_group():
    d1, d2 = dump("storage1"), dump("storage2")
    inv = set_paths(lab(), "esx03", EUI1, "dead", tpg=2)  # offline as the SAN says: consistent
    _tg(d1, 2)["state"] = _tg(d2, 2)["state"] = "offline"
    found = [f for f in run([d1, d2], inv) if f.code == "san-state"]
    assert "esx03" not in {f.host for f in found if f.device == EUI1}
    f = next(f for f in found if f.host == "esx01" and f.device == EUI1)
    for word in ("esx01", EUI1, "storage1", "remote", "TPG 2", "dgroup1"):
        assert word in f.message


def test_group_id_differs_between_nodes_is_no_split_brain():
    """storage2 calls storage1's group 7: the same targets, so the same group."""
    d1, d2 = dump("storage1"), dump("storage2")
    _tpg_unknown(d1, d2, None)
    assert {f.code for f in run([d1, d2])} == {"san-tpg-unknown"}
    _tg(d2, 7)["state"] = "standby"
    found = [f for f in run([d1, d2]) if f.code == "san-split-brain"]
    assert found and "TPG 1,7 (storage1's targets)" in found[0].message


def test_host_with_other_view_is_named():
    inv = lab()
    d = inv.host("esx02").device(EUI2)
    paths = tuple(replace(p, tpg_state=TpgState.STANDBY) if p.tpg_id == 2 else p for p in d.paths)
    inv = edit_device(inv, "esx02", EUI2, paths=paths, tpgs=())
    found = run([dump("storage1"), dump("storage2")], inv)
    assert {(f.code, f.host, f.device) for f in found} == {
        ("san-state", "esx02", EUI2)}
    assert len(found) == 2  # one per node that says nonoptimized


def test_groups_are_matched_by_targets_not_by_name_or_id():
    """TrueNAS-like ids 101/102 and both nodes calling their own group "local": still none."""
    d1, d2 = dump("storage1"), dump("storage2")
    inv = lab()
    for d in (d1, d2):
        for tg in d["device_groups"][0]["target_groups"]:
            tg["group_id"] += 100
    for h in inv.hosts:
        for name in (EUI1, EUI2):
            dev = h.device(name)
            inv = edit_device(inv, h.name, name,
                              paths=tuple(replace(p, tpg_id=p.tpg_id + 100) for p in dev.paths),
                              tpgs=tuple(replace(g, id=g.id + 100) for g in dev.tpgs))
    assert run([d1, d2], inv) == []
    d1["role"], d2["role"] = "unpromoted", "promoted"
    found = [f for f in run([d1, d2], inv) if f.code == "san-master"]
    assert found and all("TPG 102" in f.message for f in found)


# ---------------------------------------------------------------- the gate

def gate(dumps: list[dict], inv: Inventory | None = None, now: datetime = NOW,
         max_age: float = 600):
    nodes = san_view((d, f"{d['node']}.json") for d in dumps)
    return gate_check(inv or lab(), Selector(), expectation=Expectation(),
                      san=SanDumps(nodes, now, max_age))


def refusals(found):
    return {(f.code, f.severity) for f in found if f.severity > Severity.OK}


def test_gate_safe_on_a_consistent_san():
    assert refusals(gate([dump("storage1"), dump("storage2")])) == set()


def _disable(d1, d2):
    d2["device_groups"][0]["target_groups"][0]["targets"][1]["enabled"] = False
    d2["targets"][1]["enabled"] = False


def _unexport(d1, d2):
    for t in d2["targets"]:
        t["luns"] = [m for m in t["luns"] if m["device"] != "disk02"]


def _unexport_one_target(d1, d2):
    d2["targets"][0]["luns"] = d2["targets"][0]["luns"][:1]


def _peer_stopped(d1, d2):
    d2["role"] = "stopped"
    _tg(d2, 2)["state"] = "offline"  # set offline as it should: only the role refuses
    _tg(d1, 2)["state"] = "offline"


GATE_CASES = {
    "peer target disabled": (_disable, "san-peer-target",
                             ("storage2", "21:00:00:24:ff:54:09:33", "disabled", "TPG 2")),
    "LUN not exported on the peer": (_unexport, "san-peer-lun",
                                     ("storage2", EUI2, "disk02", "TPG 2")),
    "LUN missing on one peer target": (_unexport_one_target, "san-peer-lun",
                                       ("21:00:00:24:ff:54:09:32", "disk02")),
    "peer stopped": (_peer_stopped, "san-peer-stopped", ("storage2", "stopped")),
}


@pytest.mark.parametrize("case", sorted(GATE_CASES))
def test_gate_refuses_when_the_peer_is_not_ready(case):
    edit, code, words = GATE_CASES[case]
    d1, d2 = dump("storage1"), dump("storage2")
    edit(d1, d2)
    # ESXi looks fine: without the SAN view the gate passes
    assert refusals(gate_check(lab(), Selector(), expectation=Expectation())) == set()
    found = [f for f in gate([d1, d2]) if f.code == code]
    assert found and {f.severity for f in found} == {Severity.DANGER}
    assert any(all(w in f.message for w in words) for f in found), [f.message for f in found]


def test_gate_without_the_peer_dump_cannot_verify():
    found = gate([dump("storage1")])
    assert ("san-peer-unknown", Severity.UNKNOWN) in refusals(found)


def test_gate_disabled_target_of_the_current_master_does_not_refuse():
    d1, d2 = dump("storage1"), dump("storage2")
    d1["device_groups"][0]["target_groups"][0]["targets"][0]["enabled"] = False
    assert refusals(gate([d1, d2])) == set()


def test_gate_turns_warnings_into_notes():
    d1, d2 = dump("storage1"), dump("storage2")
    _rtp(d1, d2, None)
    found = gate([d1, d2])
    assert refusals(found) == set()
    assert any(f.code == "san-rtp-unknown" and f.severity == Severity.NOTE for f in found)


def test_gate_findings_follow_the_takeover_group():
    d1, d2 = dump("storage1"), dump("storage2")
    _disable(d1, d2)
    san = SanDumps(san_view([(d1, "a"), (d2, "b")]), NOW)
    assert not gate_findings(san, lab(), Selector(), {EUI1: 1, EUI2: 1})
    assert gate_findings(san, lab(), Selector(), {EUI1: 2, EUI2: None})


class _Evidence:
    """Any answer to the gate's questions (core/gate_san.SanEvidence), without a dump."""

    def __init__(self, *consistency: Finding) -> None:
        self.found, self.asked = list(consistency), []

    def consistency(self, inventory, selector, drift=Severity.DRIFT):
        """What audit calls DRIFT comes back with the severity the caller asks for."""
        return [replace(f, severity=drift) if f.severity == Severity.DRIFT else f
                for f in self.found]

    def stale(self, severity):
        self.asked.append(severity)
        return [Finding(severity, "san-dump-stale", None, None, "old")]

    def readiness(self, inventory, selector, targets):
        self.asked.append(dict(targets))
        return [Finding(Severity.DANGER, "san-peer-lun", "esx1", EUI1, "no LUN")]


def test_the_gates_san_half_is_judged_in_the_core():
    """core/gate_san.py decides: DRIFT asked for as a note, other severities kept, stale dumps UNKNOWN,
    readiness asked for the gate's takeover groups; gate.check takes any such evidence."""
    ev = _Evidence(Finding(Severity.DRIFT, "san-rtp-unknown", "esx1", EUI1, "rtp"),
                   Finding(Severity.DANGER, "san-state", "esx1", EUI1, "state"))
    found = gate_findings(ev, lab(), Selector(), {EUI1: 2})
    assert [(f.code, f.severity) for f in found] == [
        ("san-rtp-unknown", Severity.NOTE), ("san-state", Severity.DANGER),
        ("san-dump-stale", Severity.UNKNOWN), ("san-peer-lun", Severity.DANGER)]
    assert ev.asked == [Severity.UNKNOWN, {EUI1: 2}]
    ev = _Evidence()
    codes = {f.code for f in gate_check(lab(), Selector(), san=ev)}
    assert {"san-dump-stale", "san-peer-lun"} <= codes and ev.asked[1] == {EUI1: 2, EUI2: 2}


# ---------------------------------------------------------------- bad dumps

@pytest.mark.parametrize("doc, words", [
    ([], ("a JSON list",)),
    ({"schema": "esxpath/report/1"}, ("schema is 'esxpath/report/1'",)),
    ({"schema": SCHEMA, "node": "s1"}, ("has no 'role'",)),
    ("text", ("a JSON str",)),
])
def test_bad_dump_is_one_line_naming_the_file(doc, words):
    with pytest.raises(SanDumpError) as e:
        san_view([(doc, "/tmp/storage1.json")])
    text = str(e.value)
    assert "\n" not in text and text.startswith("/tmp/storage1.json: ")
    assert all(w in text for w in words), text
    assert isinstance(e.value, ConfigError)


@pytest.mark.parametrize("path, value, words", [
    (("devices", 0, "esxi_id"), 5, ("devices[0].esxi_id is int",)),
    (("device_groups", 0, "target_groups", 1, "group_id"), "2", ("group_id is str",)),
    (("targets", 0, "luns", 0, "lun"), True, ("luns[0].lun is bool",)),
    (("role",), "master", ("role 'master'",)),
])
def test_bad_field_is_named(path, value, words):
    doc = copy.deepcopy(dump("storage1"))
    at = doc
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    with pytest.raises(SanDumpError) as e:
        san_view([(doc, "s1.json")])
    assert all(w in str(e.value) for w in words), str(e.value)


def test_same_node_twice_is_refused():
    with pytest.raises(SanDumpError, match="storage1 is dumped twice"):
        san_view([(dump("storage1"), "a.json"), (dump("storage1"), "b.json")])


# ---------------------------------------------------------------- the gate: which nodes, how fresh

OTHER_PAIR = {"21:00:00:24:ff:54:09:32": "21:00:00:24:ff:99:09:32",
              "21:00:00:24:ff:54:09:33": "21:00:00:24:ff:99:09:33"}


def _other_pair(d1, d2):
    """storage2 replaced by a node of another storage pair made from the same template: same
    device names, setup_id, group ids, ids; its own targets have other WWPNs."""
    for t in d2["targets"]:
        t["name"] = OTHER_PAIR[t["name"]]
    for t in _tg(d2, 2)["targets"]:
        t["name"] = OTHER_PAIR[t["name"]]


def _ini_group_only(d1, d2):
    for t in d2["targets"]:
        for m in t["luns"]:
            m["ini_group"] = "esx_hosts"


def _ini_group_beside_default(d1, d2):
    for t in d2["targets"]:
        t["luns"].append({"lun": 0, "device": "disk01", "ini_group": "backup"})


def _only_the_peer(d1, d2):
    d1.clear()


def _twin(d1, d2):
    d1.clear()
    d1.update(copy.deepcopy(d2), node="storage2b")


def _peer_role_unknown(d1, d2):
    d2["role"] = "unknown"


def _saved_config(d1, d2):
    d2["source"] = "scst.conf:/etc/scst.conf"


def _stale(d1, d2):
    d2["taken_at"] = "2026-11-29T18:29:59Z"  # 661s before NOW


def _future(d1, d2):
    d1["taken_at"] = "2026-11-29T18:51:01Z"  # 601s after NOW


def _no_time(d1, d2):
    d2["taken_at"] = "yesterday"


UNKNOWN_CASES = {
    # name: (edit, code, words in one message)
    "peer from another storage pair": (_other_pair, "san-peer-unknown", (
        "esx01", EUI1, "21:00:00:24:ff:54:09:32", "TPG 2", "no own target of a dumped node")),
    "LUN exported to an initiator group only": (_ini_group_only, "san-peer-ini-group", (
        "storage2", "disk02", "initiator group esx_hosts only", "TPG 2")),
    "target with an initiator group beside the default": (_ini_group_beside_default,
                                                          "san-peer-ini-group",
                                                          ("storage2", "backup", "disk01")),
    "only the peer dumped": (_only_the_peer, "san-active-unknown", (
        "esx01", EUI1, "AO TPG 1", "21:00:00:24:ff:54:09:80", "dumped: storage2")),
    "one node dumped twice under two names": (_twin, "san-dump-twin", (
        "storage2b", "storage2", "21:00:00:24:ff:54:09:32")),
    "peer's role unknown": (_peer_role_unknown, "san-peer-role", ("storage2", "unknown")),
    "dump from scst.conf": (_saved_config, "san-dump-saved-config", (
        "storage2", "scst.conf:/etc/scst.conf", "live state")),
    "stale dump": (_stale, "san-dump-stale", ("storage2", "661s ago", "--san-max-age 600")),
    "dump from the future": (_future, "san-dump-stale", ("storage1", "601s ahead")),
    "dump without a time": (_no_time, "san-dump-stale", ("storage2", "'yesterday'")),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_CASES))
def test_gate_cannot_verify(case):
    edit, code, words = UNKNOWN_CASES[case]
    d1, d2 = dump("storage1"), dump("storage2")
    edit(d1, d2)
    found = gate([d for d in (d1, d2) if d])
    mine = [f for f in found if f.code == code]
    assert mine and {f.severity for f in mine} == {Severity.UNKNOWN}, found
    assert any(all(w in f.message for w in words) for f in mine), [f.message for f in mine]


def test_gate_max_age_is_the_limit():
    d1, d2 = dump("storage1"), dump("storage2")
    _stale(d1, d2)
    assert refusals(gate([d1, d2], max_age=661)) == set()
    assert refusals(gate([d1, d2], max_age=660)) == {("san-dump-stale", Severity.UNKNOWN)}


def test_gate_other_pair_names_each_unowned_target():
    d1, d2 = dump("storage1"), dump("storage2")
    _other_pair(d1, d2)
    found = [f for f in gate([d1, d2]) if f.code == "san-peer-unknown"]
    assert {(f.device, t) for f in found for t in OTHER_PAIR if t in f.message} == {
        (e, t) for e in (EUI1, EUI2) for t in OTHER_PAIR}
    assert all("esx01" in f.message and "esx02" in f.message for f in found)


def test_gate_initiator_group_beside_default_on_the_active_node_is_fine():
    d1, d2 = dump("storage1"), dump("storage2")
    _ini_group_beside_default(d2, d1)  # storage1's targets: not the takeover side
    assert refusals(gate([d1, d2])) == set()


def test_audit_notes_stale_and_saved_config_dumps():
    d1, d2 = dump("storage1"), dump("storage2")
    _saved_config(d1, d2)
    _stale(d1, d2)
    nodes = san_view([(d1, "a"), (d2, "b")])
    found = findings(nodes, lab(), Selector(), NOW, 600)
    assert codes(found) == {("san-dump-saved-config", Severity.NOTE),
                            ("san-dump-stale", Severity.NOTE)}
    assert findings(nodes, lab(), Selector()) == []  # no clock: not judged
