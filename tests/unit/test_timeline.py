"""esxpath.timeline: events and per-host summaries from inventory samples, table-driven."""
import json

import pytest

from esxpath.model import (Device, Host, Inventory, Path, Selector, Severity, TargetPortGroup,
                           TpgState)
from esxpath.timeline import (DEVICE_GONE, HOST_READABLE, HOST_UNREADABLE, PATH_ALIVE, PATH_DEAD,
                              TPG_STATE, build_timeline, render_timeline, timeline_dict)

LUN1, LUN2 = "eui.3163393161633461", "eui.3163393135336264"
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
