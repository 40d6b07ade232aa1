"""The pure provision/unprovision planner: what is created, found, refused, and why."""
import json

import pytest

from esxpath.errors import UsageError
from esxpath.core.provisioning import (
    CREATE,
    EXISTS,
    GIB,
    KEEP,
    REFUSED,
    REMOVE,
    SKIPPED,
    ActionResult,
    DatastoreFacts,
    LunFacts,
    ProvisionFacts,
    ProvisionOptions,
    VmFacts,
    parse_size,
    plan_provision,
    plan_unprovision,
)
from esxpath.render.provision import render_plan

HOSTS = ("esx01", "esx02", "esx03")


def lun(n, **kw):
    base = dict(canonical=f"eui.{n:016x}", vendor="SCST_BIO", model=f"SSD-RAID6-{n}",
                capacity_bytes=1 << 40, hosts=HOSTS, available=True)
    base.update(kw)
    return LunFacts(**base)


def kinds(plan):
    return [(a.kind, a.lun, a.name) for a in plan.datastores], [(v.kind, v.name) for v in plan.vms]


def test_empty_luns_get_a_datastore_each_only_when_asked():
    facts = ProvisionFacts(luns=(lun(1), lun(2)))
    plan = plan_provision(facts, ProvisionOptions())
    assert [a.kind for a in plan.datastores] == [SKIPPED, SKIPPED] and plan.vms == ()
    assert plan.writes == 0
    plan = plan_provision(facts, ProvisionOptions(create_datastores=True))
    ds, vms = kinds(plan)
    assert ds == [(CREATE, lun(1).canonical, "SSD-RAID6-1"), (CREATE, lun(2).canonical, "SSD-RAID6-2")]
    assert vms == [(CREATE, "fio-SSD-RAID6-1"), (CREATE, "fio-SSD-RAID6-2")]
    # created through different hosts, the others rescan, the VM runs where it was created
    assert [a.host for a in plan.datastores] == ["esx01", "esx02"]
    assert plan.datastores[1].rescan == ("esx01", "esx03")
    assert [v.host for v in plan.vms] == ["esx01", "esx02"]
    assert plan.writes == 4


@pytest.mark.parametrize("facts_lun, reason", [
    (lun(1, available=False), "partitions"),
    (lun(1, hosts=()), "no connected host"),
])
def test_luns_that_are_not_offered_are_refused_whatever_the_flags(facts_lun, reason):
    plan = plan_provision(ProvisionFacts(luns=(facts_lun,)), ProvisionOptions(create_datastores=True))
    [a] = plan.datastores
    assert a.kind == REFUSED and reason in a.reason
    assert plan.vms == () and plan.refused == (a,)


def test_a_lun_with_a_datastore_is_used_not_formatted():
    facts = ProvisionFacts(
        luns=(lun(1, available=False, datastore="prod"),),
        datastores=(DatastoreFacts("prod", "ds-1", (lun(1).canonical,), ("esx02", "esx03")),))
    plan = plan_provision(facts, ProvisionOptions(create_datastores=True))
    [a] = plan.datastores
    assert (a.kind, a.name, a.host) == (EXISTS, "prod", "esx02")  # a host that mounts it
    assert kinds(plan)[1] == [(CREATE, "fio-prod")]


def test_duplicate_models_fall_back_to_the_eui_name_and_names_never_clash():
    a, b = lun(1, model="SSD"), lun(2, model="SSD")
    facts = ProvisionFacts(luns=(a, b))
    ds, _ = kinds(plan_provision(facts, ProvisionOptions(create_datastores=True)))
    assert [n for _, _, n in ds] == [a.canonical, b.canonical]
    # a datastore of that name on another LUN: refused, not a second one
    facts = ProvisionFacts(luns=(lun(1),), datastores=(DatastoreFacts("SSD-RAID6-1", luns=("naa.x",)),))
    [act] = plan_provision(facts, ProvisionOptions(create_datastores=True)).datastores
    assert act.kind == REFUSED and "already exists" in act.reason


def test_datastore_filter_and_unknown_names():
    facts = ProvisionFacts(luns=(lun(1), lun(2)))
    plan = plan_provision(facts, ProvisionOptions(create_datastores=True, datastores=("SSD-RAID6-2", "nope")))
    assert kinds(plan)[1] == [(CREATE, "fio-SSD-RAID6-2")]
    assert [(a.kind, a.name) for a in plan.refused] == [(REFUSED, "nope")]


def test_existing_vms_are_reported_never_duplicated():
    facts = ProvisionFacts(luns=(lun(1, available=False, datastore="d1"), lun(2, available=False, datastore="d2")),
                           datastores=(DatastoreFacts("d1", hosts=HOSTS), DatastoreFacts("d2", hosts=HOSTS)),
                           vms=(VmFacts("fio-d1", tagged=True), VmFacts("fio-d2", tagged=False)))
    plan = plan_provision(facts, ProvisionOptions())
    assert kinds(plan)[1] == [(EXISTS, "fio-d1"), (EXISTS, "fio-d2")]
    assert "not made by esxpath" in plan.vms[1].reason and "not made" not in plan.vms[0].reason
    assert plan.writes == 0


def test_datastore_without_a_mounting_host_gets_no_vm():
    facts = ProvisionFacts(luns=(lun(1, available=False, datastore="d1"),),
                           datastores=(DatastoreFacts("d1", hosts=("esx09",)),))
    assert kinds(plan_provision(facts, ProvisionOptions()))[1] == [(REFUSED, "fio-d1")]


def test_size_must_be_sane():
    with pytest.raises(UsageError):
        plan_provision(ProvisionFacts(), ProvisionOptions(size_bytes=512))


@pytest.mark.parametrize("text, size", [("128G", 128 * GIB), ("512M", 512 << 20), ("1T", 1 << 40),
                                        ("4096", 4096), ("2GiB", 2 * GIB), ("1gb", GIB)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12X", "-1G", "1.5G", "G"])
def test_parse_size_rejects(text):
    with pytest.raises(UsageError):
        parse_size(text)


def test_unprovision_removes_only_tagged_and_keeps_shared_datastores():
    facts = ProvisionFacts(
        datastores=(DatastoreFacts("a", "ds-a", ("eui.1",), HOSTS, tagged=True, vms=("fio-a",)),
                    DatastoreFacts("b", "ds-b", ("eui.2",), HOSTS, tagged=True, vms=("fio-b", "app")),
                    DatastoreFacts("c", "ds-c", ("eui.3",), HOSTS, tagged=False, vms=("fio-c",))),
        vms=(VmFacts("fio-a", "vm-1", ("a",), "esx01", tagged=True),
             VmFacts("fio-b", "vm-2", ("b",), "esx02", tagged=True),
             VmFacts("app", "vm-3", ("b",), "esx02", tagged=False),
             VmFacts("fio-c", "vm-4", ("c",), "esx03", tagged=True)))
    plan = plan_unprovision(facts)
    assert [(v.kind, v.name) for v in plan.vms] == [(REMOVE, "fio-a"), (REMOVE, "fio-b"), (REMOVE, "fio-c")]
    assert plan.datastores == ()
    plan = plan_unprovision(facts, datastores=True)
    assert [(a.kind, a.name) for a in plan.datastores] == [(REMOVE, "a"), (KEEP, "b")]
    assert "app" in plan.datastores[1].reason
    assert [v.name for v in plan_unprovision(facts, name_prefix="fio-a").vms] == ["fio-a"]


def test_render_table_and_json_agree():
    facts = ProvisionFacts(luns=(lun(1), lun(2, available=False)))
    plan = plan_provision(facts, ProvisionOptions(create_datastores=True, size_bytes=GIB))
    table = render_plan(plan)
    assert "create" in table and "refused" in table and "1 GiB" in table
    doc = json.loads(render_plan(plan, "json"))
    assert doc["schema"] == "esxpath/provision/1" and doc["command"] == "provision" and doc["results"] is None
    assert [d["kind"] for d in doc["datastores"]] == [CREATE, REFUSED]
    results = (ActionResult("vm", "fio-SSD-RAID6-1", CREATE, False, "boom"),)
    assert json.loads(render_plan(plan, "json", results))["status"] == "DRIFT"
    assert "FAILED: boom" in render_plan(plan, results=results)
    assert "nothing to provision" in render_plan(plan_provision(ProvisionFacts(), ProvisionOptions()))
    with pytest.raises(UsageError):
        render_plan(plan, "nagios")


def test_unprovision_respects_the_host_scope():
    facts = ProvisionFacts(
        hosts=("esx01",),
        datastores=(DatastoreFacts("a", "ds-a", ("eui.1",), ("esx01", "esx02"), tagged=True, vms=("fio-a",)),
                    DatastoreFacts("b", "ds-b", ("eui.2",), ("esx02",), tagged=True, vms=("fio-b",))),
        vms=(VmFacts("fio-a", "vm-1", ("a",), "esx01", tagged=True),
             VmFacts("fio-b", "vm-2", ("b",), "esx02", tagged=True)))
    plan = plan_unprovision(facts, datastores=True)
    assert [v.name for v in plan.vms] == ["fio-a"]
    assert [(a.kind, a.name) for a in plan.datastores] == [(REMOVE, "a")]
    # no hosts in scope at all: nothing to remove
    assert plan_unprovision(ProvisionFacts(hosts=(), vms=facts.vms, datastores=facts.datastores),
                            datastores=True).writes == 0


def test_ok_with_a_warning_is_shown():
    plan = plan_provision(ProvisionFacts(luns=(lun(1),)), ProvisionOptions(create_datastores=True))
    results = (ActionResult("datastore", "SSD-RAID6-1", CREATE, True, "not tagged"),)
    assert "ok (not tagged)" in render_plan(plan, results=results)
    assert json.loads(render_plan(plan, "json", results))["status"] == "OK"


# issue 23: a disk larger than its LUN is not planned
SIZE_CASES = {
    # id: (LUN capacities (a LUN with a datastore "dN" when True), size, VM kinds, DS kinds)
    "fits-on-both": ((1 << 40, 1 << 40), 128 * GIB, [CREATE, CREATE], [CREATE, CREATE]),
    "too-big-for-one": ((1 << 40, 4 << 40), 2 << 40, [CREATE], [REFUSED, CREATE]),
    "exactly-the-lun": ((1 << 40,), 1 << 40, None, None),  # VMFS needs some of it: nowhere
    "far-too-big": ((1 << 40, 1 << 40), 99999999 << 40, None, None),
}


@pytest.mark.parametrize("case", SIZE_CASES)
def test_a_disk_is_planned_only_on_a_lun_it_fits_on(case):
    capacities, size, vms, datastores = SIZE_CASES[case]
    facts = ProvisionFacts(luns=tuple(lun(i + 1, capacity_bytes=c) for i, c in enumerate(capacities)))
    options = ProvisionOptions(size_bytes=size, create_datastores=True)
    if vms is None:  # fits on no LUN: one line, a usage error (exit 64), no plan of refusals
        with pytest.raises(UsageError, match="does not fit on any LUN in scope.*largest holds"):
            plan_provision(facts, options)
        return
    plan = plan_provision(facts, options)
    assert [d.kind for d in plan.datastores] == datastores
    assert [v.kind for v in plan.vms] == vms
    for d in plan.datastores:
        if d.kind == REFUSED:
            assert "too small for a 2 TiB test disk" in d.reason


def test_an_existing_datastore_too_small_for_the_disk_gets_no_vm():
    facts = ProvisionFacts(
        luns=(lun(1, available=False, datastore="d1"), lun(2, available=False, datastore="d2",
                                                            capacity_bytes=8 << 40)),
        datastores=(DatastoreFacts("d1", luns=(lun(1).canonical,), hosts=HOSTS),
                    DatastoreFacts("d2", luns=(lun(2).canonical,), hosts=HOSTS)))
    plan = plan_provision(facts, ProvisionOptions(size_bytes=2 << 40))
    assert [(v.kind, v.datastore) for v in plan.vms] == [(REFUSED, "d1"), (CREATE, "d2")]
    assert "LUN of 1 TiB is too small" in plan.vms[0].reason
    with pytest.raises(UsageError, match="--size 16 TiB does not fit"):
        plan_provision(facts, ProvisionOptions(size_bytes=16 << 40))
