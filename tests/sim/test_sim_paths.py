"""Typed-API path state and isWorkingPath follow the PSP, its RR config and the ALUA states."""
from __future__ import annotations

import pytest

from sim_soap import connect, disconnect, lun_by_canonical, read_hosts, wwn_hex

pytestmark = pytest.mark.sim

STORAGE1 = {"21000024ff540980", "21000024ff540981"}
STORAGE2 = {"21000024ff540932", "21000024ff540933"}


def add(lab, canonical, lun, psp, use_ano=False):
    lab.post("/lun", {"add": {"canonical": canonical, "vendor": "SCST_BIO", "model": "T", "lun": lun,
                              "size_gib": 1, "nodes": ["storage1", "storage2"], "satp": "VMW_SATP_ALUA",
                              "psp": psp, "rr": {"limit_type": "iops", "iops": 1, "use_ano": use_ano},
                              "hosts": ["esx01"]}})


def working(lab, canonical):
    si = connect(lab)
    try:
        lu = lun_by_canonical(read_hosts(si)["esx01"]["config.storageDevice"])[canonical][1]
    finally:
        disconnect(si)
    return {wwn_hex(p.transport.portWorldWideName) for p in lu.path if p.isWorkingPath}


def test_rr_uses_ao_paths_and_ano_only_with_useano(lab):
    add(lab, "eui.0000000000000a01", 21, "VMW_PSP_RR")
    add(lab, "eui.0000000000000a02", 22, "VMW_PSP_RR", use_ano=True)
    assert working(lab, "eui.0000000000000a01") == STORAGE1
    assert working(lab, "eui.0000000000000a02") == STORAGE1 | STORAGE2
    state = lab.get("/state")["hosts"]["esx01"]["devices"]["eui.0000000000000a01"]
    assert (state["limit_type"], state["iops"], state["use_ano"]) == ("iops", 1, False)


def test_rr_falls_back_to_ano_when_every_ao_path_is_dead(lab):
    add(lab, "eui.0000000000000a03", 23, "VMW_PSP_RR")
    for rt in ("vmhba2:C0:T0:L23", "vmhba3:C0:T0:L23"):
        lab.post("/path", {"host": "esx01", "path": rt, "state": "dead"})
    assert working(lab, "eui.0000000000000a03") == STORAGE2


def test_fixed_keeps_its_preferred_path_until_it_dies(lab):
    add(lab, "eui.0000000000000a04", 24, "VMW_PSP_FIXED")
    assert working(lab, "eui.0000000000000a04") == {"21000024ff540980"}
    lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L24", "state": "dead"})
    assert working(lab, "eui.0000000000000a04") == {"21000024ff540981"}


def test_no_working_path_when_every_path_is_dead_or_unavailable(lab):
    add(lab, "eui.0000000000000a05", 25, "VMW_PSP_RR")
    lab.post("/node", {"name": "storage2", "state": "UNAV"})
    for rt in ("vmhba2:C0:T0:L25", "vmhba3:C0:T0:L25"):
        lab.post("/path", {"host": "esx01", "path": rt, "state": "dead"})
    assert working(lab, "eui.0000000000000a05") == set()
    paths = lab.get("/state")["hosts"]["esx01"]["devices"]["eui.0000000000000a05"]["paths"]
    assert sorted(p["state"] for p in paths) == ["dead", "dead", "standby", "standby"]
    assert {p["tpg_state"] for p in paths if p["tpg_id"] == 2} == {"UNAV"}
