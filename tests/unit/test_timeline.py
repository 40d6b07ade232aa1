"""esxpath.core.timeline: events and per-host summaries from inventory samples, table-driven."""
import json

import pytest

from esxpath.core.model import (Device, Host, Inventory, Path, Selector, Severity, TargetPortGroup,
                           TpgState)
from esxpath.core.timeline import (DEVICE_GONE, HOST_READABLE, HOST_UNREADABLE, PATH_ALIVE, PATH_DEAD,
                              TPG_STATE, build_timeline)
from esxpath.render.timeline import render_timeline, timeline_dict
from seedlab import EUI1 as LUN1, EUI2 as LUN2

AO, ANO = TpgState.AO, TpgState.ANO


def dev(name, ao_group=1, dead=(), states=None, vendor="SCST_BIO"):
    """An SCST LUN with TPG 1 (paths L-T0 on vmhba2/3) and TPG 2 (T1); `states` overrides."""
    lun = {LUN1: 1, LUN2: 2}.get(name, 9)
    states = states or {1: AO if ao_group == 1 else ANO, 2: AO if ao_group == 2 else ANO}
    paths = []
    for tpg, target in ((1, "T0"), (2, "T1")):
        for hba in ("vmhba2", "vmhba3"):
            rt = f"{hba}:C0:{target}:L{lun}"
            paths.append(Path(name=f"fc.{rt}-{name}", runtime_name=rt, adapter=hba,
                              state="dead" if rt in dead else "active", tpg_id=tpg,
                              tpg_state=states[tpg]))
    return Device(canonical_name=name, vendor=vendor,
                  tpgs=tuple(TargetPortGroup(i, s) for i, s in sorted(states.items())),
                  paths=tuple(paths))


def host(name, *devices, error=None, connection="connected"):
    return Host(name=name, devices=tuple(devices), error=error, connection_state=connection)


def inv(*hosts):
    return Inventory(hosts=tuple(hosts))


def both(ao_group, dead=()):
    return (dev(LUN1, ao_group, dead), dev(LUN2, ao_group, dead))


NETAPP = Device(canonical_name="naa.600a098038303053453f463045727a4d", vendor="NETAPP",
                paths=(Path("p", "vmhba2:C0:T2:L10", "vmhba2", state="dead", tpg_id=9,
                            tpg_state=AO),))

# (name, samples as (t, Inventory), expected summary fields per host, expected (t, kind) events)
CASES = [
    ("steady: nothing changes",
     [(100.0, inv(host("esx01", *both(1)))), (101.0, inv(host("esx01", *both(1))))],
     {"esx01": dict(old_ao=(1,), new_ao=(1,), ao_left_after=None, new_ao_after=None,
                    dead_paths=())},
     [], "OK"),
    ("clean failover at +2s on every device",
     [(100.0, inv(host("esx01", *both(1)))), (101.0, inv(host("esx01", *both(1)))),
      (102.0, inv(host("esx01", *both(2)))), (103.0, inv(host("esx01", *both(2))))],
     {"esx01": dict(old_ao=(1,), new_ao=(2,), ao_left_after=2.0, new_ao_after=2.0)},
     [(2.0, TPG_STATE)] * 4, "OK"),
    ("one device first, the other a second later; transition via ANO/ANO",
     [(0.0, inv(host("esx02", *both(1)))),
      (1.0, inv(host("esx02", dev(LUN1, states={1: ANO, 2: ANO}),
                     dev(LUN2, 1)))),
      (2.0, inv(host("esx02", dev(LUN1, 2), dev(LUN2, 1)))),
      (3.0, inv(host("esx02", *both(2))))],
     {"esx02": dict(old_ao=(1,), new_ao=(2,), ao_left_after=1.0, new_ao_after=3.0)},
     [(1.0, TPG_STATE), (2.0, TPG_STATE), (3.0, TPG_STATE), (3.0, TPG_STATE)], "OK"),
    ("old master's paths die, then come back as ANO",
     [(0.0, inv(host("esx01", *both(1)))),
      (1.5, inv(host("esx01", *both(2, dead=("vmhba2:C0:T0:L1", "vmhba3:C0:T0:L1"))))),
      (3.0, inv(host("esx01", *both(2))))],
     {"esx01": dict(new_ao_after=1.5, dead_paths=(
         "eui.3163393161633461 vmhba2:C0:T0:L1", "eui.3163393161633461 vmhba3:C0:T0:L1"))},
     [(1.5, TPG_STATE)] * 4 + [(1.5, PATH_DEAD)] * 2 + [(3.0, PATH_ALIVE)] * 2, "OK"),
    ("switched on one device only: DANGER, never converged",
     [(0.0, inv(host("esx03", *both(1)))),
      (5.0, inv(host("esx03", dev(LUN1, 2), dev(LUN2, 1))))],
     {"esx03": dict(old_ao=(1,), new_ao=(1, 2), ao_left_after=5.0, new_ao_after=None)},
     [(5.0, TPG_STATE), (5.0, TPG_STATE)], "DANGER"),
    ("no AO group at the end: DANGER",
     [(0.0, inv(host("esx01", *both(1)))),
      (1.0, inv(host("esx01", dev(LUN1, states={1: ANO, 2: ANO}),
                     dev(LUN2, 1))))],
     {"esx01": dict(old_ao=(1,), new_ao=(1,), ao_left_after=1.0, new_ao_after=None,
                    no_ao_at_end=(LUN1,))},
     [(1.0, TPG_STATE)], "DANGER"),
    ("host unreadable in the middle: events, then readable again",
     [(0.0, inv(host("esx04", *both(1)))),
      (1.0, inv(host("esx04", error="esxcli: SystemError"))),
      (2.0, inv(host("esx04", *both(2))))],
     {"esx04": dict(new_ao_after=2.0, unreadable_samples=1, readable_samples=2,
                    error="esxcli: SystemError")},
     [(1.0, HOST_UNREADABLE), (2.0, HOST_READABLE)] + [(2.0, TPG_STATE)] * 4, "OK"),
    ("host never readable: UNKNOWN",
     [(0.0, inv(host("esx05", connection="disconnected"), host("esx01", *both(1)))),
      (1.0, inv(host("esx05", connection="disconnected"), host("esx01", *both(1))))],
     {"esx05": dict(old_ao=(), new_ao_after=None, unreadable_samples=2,
                    error="connection state disconnected"),
      "esx01": dict(old_ao=(1,), new_ao=(1,))},
     [(0.0, HOST_UNREADABLE)], "UNKNOWN"),
    ("foreign LUN and dead paths outside the selector are ignored",
     [(0.0, inv(host("esx01", NETAPP, *both(1)))), (1.0, inv(host("esx01", *both(1))))],
     {"esx01": dict(old_ao=(1,), new_ao=(1,), dead_paths=())},
     [], "OK"),
    ("device removed while watching",
     [(0.0, inv(host("esx01", *both(1)))),
      (1.0, inv(host("esx01", dev(LUN2, 1))))],
     {"esx01": dict(old_ao=(1,), new_ao=(1,), ao_left_after=1.0)},
     [(1.0, DEVICE_GONE)], "OK"),
]


@pytest.mark.parametrize("name,samples,want,events,status", CASES, ids=[c[0] for c in CASES])
def test_build_timeline(name, samples, want, events, status):
    tl = build_timeline(samples, Selector())
    got = {h.host: h for h in tl.hosts}
    assert set(got) == set(want)
    for hname, fields in want.items():
        for field, value in fields.items():
            assert getattr(got[hname], field) == value, (hname, field)
    assert [(e.t, e.kind) for e in tl.events] == events
    assert tl.status.name == status
    assert tl.samples == len(samples)
    assert tl.duration == samples[-1][0] - samples[0][0]


def test_half_switched_host_arrives_when_the_last_device_follows():
    samples = [(0.0, inv(host("esx03", *both(1)))),
               (5.0, inv(host("esx03", dev(LUN1, 2), dev(LUN2, 1)))),
               (6.0, inv(host("esx03", dev(LUN1, 2), dev(LUN2, 2))))]
    h = build_timeline(samples).hosts[0]
    assert (h.old_ao, h.new_ao, h.ao_left_after, h.new_ao_after) == ((1,), (2,), 5.0, 6.0)


def test_all_switched_needs_every_host():
    one = [(0.0, inv(host("esx01", *both(1)), host("esx02", *both(1)))),
           (1.0, inv(host("esx01", *both(2)), host("esx02", *both(1))))]
    assert not build_timeline(one).all_switched
    two = one + [(2.0, inv(host("esx01", *both(2)), host("esx02", *both(2))))]
    assert build_timeline(two).all_switched
    unread = two + [(3.0, inv(host("esx01", *both(2)), host("esx02", *both(2)),
                              host("esx05", connection="disconnected")))]
    assert not build_timeline(unread).all_switched
    assert not build_timeline([]).all_switched


def test_tpg_event_details():
    samples = [(10.0, inv(host("esx01", dev(LUN1, 1)))), (12.5, inv(host("esx01", dev(LUN1, 2))))]
    tl = build_timeline(samples)
    assert [(e.device, e.tpg_id, e.before, e.after) for e in tl.events] == [
        (LUN1, 1, "AO", "ANO"), (LUN1, 2, "ANO", "AO")]
    assert tl.started == 10.0


def test_path_dead_event_details():
    samples = [(0.0, inv(host("esx02", dev(LUN1, 1)))),
               (1.0, inv(host("esx02", dev(LUN1, 1, dead=("vmhba3:C0:T1:L1",)))))]
    (e,) = build_timeline(samples).events
    assert (e.kind, e.path, e.tpg_id, e.before, e.after) == (PATH_DEAD, "vmhba3:C0:T1:L1", 2,
                                                             "active", "dead")


def test_empty():
    # nothing watched is not "OK": watch over an empty scope exits UNKNOWN (3)
    tl = build_timeline([])
    assert (tl.samples, tl.hosts, tl.events, tl.status) == (0, (), (), Severity.UNKNOWN)


def test_hosts_without_in_scope_devices_are_unknown_not_ok():
    samples = [(0.0, inv(host("esx01"))), (1.0, inv(host("esx01")))]
    tl = build_timeline(samples)
    assert (tl.devices, tl.status) == (0, Severity.UNKNOWN)
    assert "nothing in scope" in render_timeline(tl)


def test_render_table_and_json_agree():
    samples = [(0.0, inv(host("esx01", *both(1)), host("esx02", *both(1)))),
               (2.0, inv(host("esx01", *both(2)), host("esx02", *both(1)))),
               (4.0, inv(host("esx01", *both(2)), host("esx02", *both(2))))]
    tl = build_timeline(samples)
    table = render_timeline(tl, "table")
    assert "esx01: AO TPG 1 -> TPG 2; old AO left +2.0s, new AO on all devices +2.0s" in table
    assert "esx02: AO TPG 1 -> TPG 2; old AO left +4.0s, new AO on all devices +4.0s" in table
    assert "    +2.0s  eui.3163393161633461: TPG 1 AO -> ANO" in table
    doc = json.loads(render_timeline(tl, "json", samples[-1][1]))
    assert doc["schema"] == "esxpath/timeline/1" and doc["command"] == "watch"
    assert doc["status"] == "OK"
    assert doc["timings"] == {"esx01": 2.0, "esx02": 4.0}
    h1 = doc["hosts"][0]
    assert (h1["name"], h1["old_ao"], h1["new_ao"], h1["connection_state"]) == (
        "esx01", [1], [2], "connected")
    assert len(h1["events"]) == 4 and h1["events"][0]["kind"] == TPG_STATE
    assert timeline_dict(tl)["hosts"][0]["cluster"] is None


def test_render_never_read_and_no_switch():
    samples = [(0.0, inv(host("esx05", connection="notResponding"), host("esx01", *both(1))))]
    table = render_timeline(build_timeline(samples))
    assert "esx05: never readable (connection state notResponding)" in table
    assert "esx01: AO TPG 1, no switch seen; no dead path" in table


# ---------------------------------------------------------------- what watch calls switched

def all_dead(name, ao_group=2):
    lun = {LUN1: 1, LUN2: 2}[name]
    return dev(name, ao_group, dead=tuple(f"{hba}:C0:{t}:L{lun}" for hba in ("vmhba2", "vmhba3")
                                          for t in ("T0", "T1")))


def slow(ao_group=2):
    """After the move, every path dead (a slow host): TPG 2 AO by the groups' states only."""
    return (all_dead(LUN1, ao_group), all_dead(LUN2, ao_group))


def one_host(*steps):
    return [(float(t), inv(host("esx02", *devices))) for t, devices in steps]


def test_all_paths_dead_is_not_switched_whatever_the_groups_say():
    tl = build_timeline(one_host((0, both(1)), (1, slow()), (2, slow())))
    (h,) = tl.hosts
    assert h.moved and not h.switched and h.failed and h.new_ao_after is None
    assert h.not_switched == (f"{LUN2}: all paths dead", f"{LUN1}: all paths dead")  # by name
    assert (tl.all_switched, tl.status) == (False, Severity.DANGER)
    assert h.no_live_ao_seconds == h.io_pause == 1.0  # from the first sample without, to the end


def test_switched_once_the_paths_are_back_and_the_pause_is_the_gap():
    tl = build_timeline(one_host((0, both(1)), (1, slow()), (3.5, slow()), (21, both(2))))
    (h,) = tl.hosts
    assert h.switched and tl.all_switched and tl.status == Severity.OK
    assert (h.ao_left_after, h.new_ao_after, h.no_live_ao_seconds) == (1.0, 21.0, 20.0)


def test_switched_then_paths_lost_again_is_not_switched():
    tl = build_timeline(one_host((0, both(1)), (1, both(2)), (2, slow())))
    (h,) = tl.hosts
    assert not h.switched and h.new_ao_after is None and tl.status == Severity.DANGER


@pytest.mark.parametrize("devices,why", [
    # TPG 2 AO by its state, its paths dead; TPG 1 ANO still carries I/O
    ((dev(LUN1, 2, dead=("vmhba2:C0:T1:L1", "vmhba3:C0:T1:L1")), dev(LUN2, 2)),
     f"{LUN1}: TPG 2 AO without a live path"),
    # the host still sees the old group AO beside the new one (a stale view)
    ((dev(LUN1, states={1: AO, 2: AO}), dev(LUN2, 2)),
     f"{LUN1}: TPG 2 AO, but TPG 1 still AO too"),
    # one of the two new AO paths dead: fewer than the host had before
    ((dev(LUN1, 2, dead=("vmhba3:C0:T1:L1",)), dev(LUN2, 2)),
     f"{LUN1}: TPG 2 AO with 1 live AO path(s), 2 before"),
    ((dev(LUN1, states={1: ANO, 2: ANO}), dev(LUN2, 2)), f"{LUN1}: no AO group"),
    ((dev(LUN1, 1), dev(LUN2, 2)), f"{LUN1}: no switch: TPG 1 still AO"),
])
def test_a_move_not_done_on_one_device_is_not_switched(devices, why):
    tl = build_timeline(one_host((0, both(1)), (1, devices)))
    (h,) = tl.hosts
    assert h.not_switched == (why,) and h.failed and not h.switched
    assert tl.status == Severity.DANGER


def test_until_switched_makes_a_host_without_a_switch_danger():
    steps = one_host((0, both(1)), (1, both(1)))
    assert build_timeline(steps).status == Severity.OK  # watching without a move: nothing wrong
    tl = build_timeline(steps, until_switched=True)
    (h,) = tl.hosts
    assert h.unmoved and not h.failed and tl.status == Severity.DANGER
    assert f"  NOT switched: {LUN2}: no switch: TPG 1 still AO;" in render_timeline(tl)


def window(*events, end_s=30):
    from datetime import datetime, timedelta, timezone

    from esxpath.core.storage_events import StorageEvent, build_window
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    evs = [StorageEvent("esx02", t0 + timedelta(seconds=s), typ, device=d) for s, typ, d in events]
    return build_window(evs, t0, t0 + timedelta(seconds=end_s), hosts=["esx02"])


APD_START, APD_EXIT = "esx.problem.storage.apd.start", "esx.clear.storage.apd.exit"


def test_an_open_apd_is_not_switched_and_vcenters_longer_pause_wins():
    from esxpath.core.timeline import with_storage
    tl = build_timeline(one_host((0, both(1)), (1, slow()), (1.4, both(2))))
    assert tl.all_switched and tl.hosts[0].io_pause == 0.4  # by the samples alone
    still = with_storage(tl, window((1, APD_START, LUN1), (1, APD_START, LUN2),
                                    (21, APD_EXIT, LUN2)))
    (h,) = still.hosts
    assert h.open_apd == (LUN1,) and not h.switched and h.failed
    assert h.not_switched == (f"{LUN1}: APD open (vCenter)",) and still.status == Severity.DANGER
    assert h.io_pause == h.vcenter_pause == 29.0  # APD from +1 s to the window's end
    over = with_storage(tl, window((1, APD_START, LUN1), (21, APD_EXIT, LUN1)))
    (h,) = over.hosts
    assert h.switched and over.all_switched and (h.no_live_ao_seconds, h.io_pause) == (0.4, 20.0)
    doc = timeline_dict(tl, storage=window((1, APD_START, LUN1), (21, APD_EXIT, LUN1)))
    got = doc["hosts"][0]
    assert (got["switched"], got["io_pause_seconds"], got["no_live_ao_seconds"],
            got["vcenter_pause_seconds"]) == (True, 20.0, 0.4, 20.0)


def test_unread_events_leave_the_samples_to_judge():
    from esxpath.core.storage_events import StorageWindow
    from esxpath.core.timeline import with_storage
    tl = build_timeline(one_host((0, both(1)), (1, both(2))))
    judged = with_storage(tl, StorageWindow(None, None, error="vCenter's clock: SystemError"))
    assert judged.all_switched and judged.hosts[0].vcenter_pause is None


def test_table_says_why_a_host_is_not_switched_and_its_pause():
    table = render_timeline(build_timeline(one_host((0, both(1)), (1, slow()), (3, slow()))))
    assert "esx02: AO TPG 1 -> TPG 2; old AO left +1.0s, new AO on all devices -;" in table
    assert "; I/O pause 2.0s\n" in table
    assert f"  NOT switched: {LUN2}: all paths dead; {LUN1}: all paths dead\n" in table


def test_a_host_left_on_the_old_group_while_another_moved_is_not_done():
    samples = [(0.0, inv(host("esx01", *both(1)), host("esx03", *both(1)))),
               (1.0, inv(host("esx01", *both(2)), host("esx03", *both(1))))]
    tl = build_timeline(samples)
    esx01, esx03 = tl.hosts
    assert esx01.switched and esx03.unmoved and not esx03.failed
    assert tl.expects_switch and tl.status == Severity.DANGER
    assert f"  NOT switched: {LUN2}: no switch: TPG 1 still AO;" in render_timeline(tl)


def test_names_from_node_tpg_label_the_groups_in_table_and_json():
    tl = build_timeline(one_host((0, both(1)), (1, slow())))
    names = {1: "storage1", 2: "storage2"}
    table = render_timeline(tl, names=names)
    assert "esx02: AO TPG 1 (storage1) -> TPG 2 (storage2); old AO left +1.0s" in table
    assert "(TPG 1) dead" in table  # a name is never put inside "(TPG 1)" (tpg_names.relabel)
    doc = json.loads(render_timeline(tl, "json", names=names))
    assert doc["tpg_names"] == {"1": "storage1", "2": "storage2"}
    tl = build_timeline(one_host((0, both(1)), (1, (dev(LUN1, states={1: AO, 2: AO}),
                                                    dev(LUN2, 2)))))
    doc = timeline_dict(tl, names=names)
    assert doc["hosts"][0]["not_switched"] == [
        f"{LUN1}: TPG 2 (storage2) AO, but TPG 1 (storage1) still AO too"]
