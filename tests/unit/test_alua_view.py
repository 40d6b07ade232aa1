"""audit's `alua-view` rule (esxpath.core.verify.alua_view): a host whose active/optimized group for a
device is not the one most hosts see is DANGER; on a tie every host is named. Pure, on the lab."""
from __future__ import annotations

from dataclasses import replace

from esxpath.core.model import Inventory, Policy, Selector, Severity, TpgState
from esxpath.core.verify import alua_view, audit

from factory import CLUSTER_HOSTS, EUI1, EUI2, compliant, edit_device, edit_host, lab

SEL = Selector()


def failed_over(hosts=None) -> Inventory:
    """Every host sees TPG 2 AO (after a failover to storage2)."""
    kw = {"hosts": hosts} if hosts else {}
    return lab(psp="VMW_PSP_RR", limit_type="iops", iops=1, active_tpg=2, **kw)


def stale(inv: Inventory, host: str, device: str | None = None) -> Inventory:
    """`host` still sees TPG 1 AO / TPG 2 ANO (on `device`, or on every device)."""
    old = compliant().host(host)
    if device is None:
        return edit_host(inv, host, devices=old.devices)
    d = old.device(device)
    return edit_device(inv, host, device, tpgs=d.tpgs, paths=d.paths)


def both_ao(inv: Inventory, host: str, device: str) -> Inventory:
    d = inv.host(host).device(device)
    return edit_device(inv, host, device,
                       tpgs=tuple(replace(g, state=TpgState.AO) for g in d.tpgs),
                       paths=tuple(replace(p, tpg_state=TpgState.AO) for p in d.paths))


def views(found) -> set[tuple[str, str]]:
    assert all(f.code == "alua-view" and f.severity == Severity.DANGER for f in found), found
    return {(f.host, f.device) for f in found}


def test_agreeing_hosts_give_none():
    assert alua_view(list(compliant().hosts), SEL) == []
    assert alua_view(list(failed_over().hosts), SEL) == []


def test_a_host_on_the_old_controller_is_named_with_both_groups():
    inv = stale(failed_over(), "esx03")
    found = alua_view(list(inv.hosts), SEL)
    assert views(found) == {("esx03", EUI1), ("esx03", EUI2)}
    msg = next(f.message for f in found if f.device == EUI1)
    assert msg.startswith(f"esx03 {EUI1}: sees TPG 1 AO, while 4 of 5 hosts see TPG 2 AO"), msg
    assert "not the other hosts'" in msg


def test_only_the_device_that_differs():
    inv = stale(failed_over(), "esx02", EUI2)
    assert views(alua_view(list(inv.hosts), SEL)) == {("esx02", EUI2)}


def test_old_group_still_ao_beside_the_new_one():
    inv = both_ao(failed_over(), "esx03", EUI1)
    found = alua_view(list(inv.hosts), SEL)
    assert views(found) == {("esx03", EUI1)}
    assert "sees TPG 1 and TPG 2 AO, while 4 of 5 hosts see TPG 2 AO" in found[0].message


def test_a_tie_names_every_host():
    inv = failed_over(CLUSTER_HOSTS)
    inv = stale(stale(inv, "esx01"), "esx02")
    found = alua_view(list(inv.hosts), SEL)
    assert views(found) == {(h, d) for h in CLUSTER_HOSTS for d in (EUI1, EUI2)}
    assert all("no majority" in f.message for f in found)
    msg = next(f.message for f in found if (f.host, f.device) == ("esx01", EUI1))
    assert "sees TPG 1 AO, while 2 of 4 hosts see TPG 2 AO" in msg


def test_minorities_are_listed_biggest_first():
    inv = both_ao(stale(failed_over(), "esx01", EUI1), "esx02", EUI1)
    found = {f.host: f.message for f in alua_view(list(inv.hosts), SEL) if f.device == EUI1}
    assert set(found) == {"esx01", "esx02"}
    assert ("sees TPG 1 AO, while 3 of 5 hosts see TPG 2 AO, 1 of 5 hosts see TPG 1 and TPG 2"
            " AO: this host's" in found["esx01"]), found


def test_only_connected_in_scope_nmp_hosts_with_an_ao_group_vote():
    base = failed_over(CLUSTER_HOSTS[:3])
    inv = stale(base, "esx03")
    # a disconnected or unreadable host does not vote (host-unverifiable says it)
    readable = [h for h in edit_host(inv, "esx01", connection_state="disconnected").hosts
                if h.verifiable]
    assert views(alua_view(readable, SEL)) == {(h, d) for h in ("esx02", "esx03")
                                                for d in (EUI1, EUI2)}
    # a host without an AO group does not vote (no-ao says it)
    d = base.host("esx01").device(EUI1)
    no_ao = edit_device(inv, "esx01", EUI1, tpgs=tuple(replace(g, state=TpgState.ANO)
                                                       for g in d.tpgs),
                        paths=tuple(replace(p, tpg_state=TpgState.ANO) for p in d.paths))
    assert ("esx01", EUI1) not in views(alua_view(list(no_ao.hosts), SEL))
    # a device out of scope is not judged
    assert views(alua_view(list(inv.hosts), Selector(device_globs=(EUI2,)))) == {("esx03", EUI2)}
    # an HPP device has no ALUA state esxpath reads
    hpp = edit_device(inv, "esx03", EUI1, mpp="HPP")
    assert ("esx03", EUI1) not in views(alua_view(list(hpp.hosts), SEL))


def test_audit_reports_it_as_danger_where_path_counts_agree():
    found = audit(stale(failed_over(), "esx03"), SEL, Policy())
    assert {(f.code, f.host) for f in found if f.severity > Severity.OK} == {
        ("alua-view", "esx03")}
    assert max(f.severity for f in found) == Severity.DANGER
