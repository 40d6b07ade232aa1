"""The peer-readiness rule (esxpath/san/readiness.py) in audit and `san check`: every finding the
gate makes about the node taking over is also an audit finding, DANGER, from the same rule (the
same code, host, device and message). Pure, on the dumps of tests/unit/test_san_check.py."""
from __future__ import annotations

import pytest

from esxpath.core.model import Selector, Severity
from esxpath.san.audit import findings
from esxpath.san.view import san_view

from factory import EUI1, EUI2, lab as seed
from test_san_check import GATE_CASES, UNKNOWN_CASES, dump, gate, lab

PEER = {**{k: v[:2] for k, v in GATE_CASES.items()},
        **{k: v[:2] for k, v in UNKNOWN_CASES.items() if v[1].startswith("san-peer-")}}


def audit(dumps: list[dict], inv=None):
    return findings(san_view((d, f"{d['node']}.json") for d in dumps if d), inv or lab(),
                    Selector())


def peer_part(found):
    return {(f.code, f.host, f.device, f.message) for f in found if f.code.startswith("san-peer-")}


def test_the_cases_cover_every_peer_code():
    assert {code for _, code in PEER.values()} == {
        "san-peer-target", "san-peer-lun", "san-peer-stopped", "san-peer-unknown",
        "san-peer-role", "san-peer-ini-group"}


@pytest.mark.parametrize("case", sorted(PEER))
def test_audit_reports_what_the_gate_refuses_as_danger(case):
    edit, code = PEER[case]
    d1, d2 = dump("storage1"), dump("storage2")
    edit(d1, d2)
    mine = audit([d1, d2])
    assert code in {f.code for f in mine}, mine
    assert {f.severity for f in mine if f.code.startswith("san-peer-")} == {Severity.DANGER}
    # one rule: the audit's peer findings are the gate's, word for word
    assert peer_part(mine) == peer_part(gate([d for d in (d1, d2) if d]))


def test_a_ready_peer_gives_none():
    assert audit([dump("storage1"), dump("storage2")]) == []


def test_the_active_node_is_not_a_peer_finding():
    """Only the peer dumped: the gate cannot check split brain (san-active-unknown), audit has
    nothing to say about the peer, which is dumped and ready."""
    assert "san-active-unknown" in {f.code for f in gate([dump("storage2")])}
    assert audit([dump("storage2")]) == []


def test_a_disabled_target_of_the_active_node_is_no_peer_finding():
    d1, d2 = dump("storage1"), dump("storage2")
    d1["targets"][0]["enabled"] = False
    assert not peer_part(audit([d1, d2]))


def test_the_peer_is_the_group_the_hosts_see_as_ano():
    """After a failover storage1 is the peer: its disabled target is found, storage2's not."""
    inv = seed(psp="VMW_PSP_RR", limit_type="iops", iops=1, active_tpg=2)
    d1, d2 = dump("storage1", active="storage2"), dump("storage2", active="storage2")
    d2["targets"][0]["enabled"] = False
    assert audit([d1, d2], inv) == []
    d1["targets"][1]["enabled"] = False
    found = audit([d1, d2], inv)
    assert {(f.code, f.device) for f in found} == {("san-peer-target", EUI1),
                                                    ("san-peer-target", EUI2)}
    assert all("storage1's target 21:00:00:24:ff:54:09:81" in f.message for f in found)
