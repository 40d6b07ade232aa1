"""The pure storage event model: arguments, intervals, the I/O pause, durations, findings."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from esxpath.core import storage_events as se
from esxpath.core.model import Severity
from seedlab import EUI1 as DEV, EUI2 as DEV2

T0 = datetime(2026, 11, 29, 3, 0, 0, tzinfo=timezone.utc)
END = T0 + timedelta(seconds=300)


def ev(sec, type_id, device=DEV, host="esx01", **kw):
    return se.StorageEvent(host=host, time=T0 + timedelta(seconds=sec), type=type_id,
                           device=device, **kw)


def test_arguments_follow_the_event_type():
    e = se.event_from_arguments("esx01", T0, se.REDUNDANCY_LOST,
                                {"1": DEV, "2": "vmhba2:C0:T0:L1", "3": "ds1"})
    assert (e.device, e.path, e.datastore) == (DEV, "vmhba2:C0:T0:L1", "ds1")
    r = se.event_from_arguments("esx01", T0, se.REDUNDANCY_RESTORED,
                                {"1": DEV, "2": "ds1", "3": "vmhba3:C0:T1:L1"})
    assert (r.device, r.datastore, r.path) == (DEV, "ds1", "vmhba3:C0:T1:L1")
    hb = se.event_from_arguments("esx01", T0, se.HEARTBEAT_TIMEDOUT, {"1": "5f1e-uuid", "2": "ds1"})
    assert (hb.device, hb.volume, hb.datastore, hb.subject) == (None, "5f1e-uuid", "ds1", "ds1")
    empty = se.event_from_arguments("esx01", T0, se.CONNECTIVITY_LOST, {"1": DEV, "3": ""})
    assert (empty.path, empty.datastore) == (None, None)


@pytest.mark.parametrize("events, want", [
    # start and end in the window: closed, exact length
    ([ev(10, se.APD_START), ev(30, se.APD_EXIT)], [("apd", DEV, 10, 30, False, False)]),
    # no end: ends at the window's end, open
    ([ev(10, se.APD_START)], [("apd", DEV, 10, 300, True, False)]),
    # no start: starts at the window's start
    ([ev(40, se.APD_EXIT)], [("apd", DEV, 0, 40, False, True)]),
    # lost then degraded is one redundancy interval until restored
    ([ev(5, se.REDUNDANCY_DEGRADED), ev(6, se.REDUNDANCY_LOST), ev(9, se.REDUNDANCY_RESTORED)],
     [("redundancy", DEV, 5, 9, False, False)]),
    # two devices are two intervals; events come in any order
    ([ev(20, se.CONNECTIVITY_RESTORED, DEV2), ev(10, se.CONNECTIVITY_LOST, DEV2),
      ev(12, se.CONNECTIVITY_LOST), ev(15, se.CONNECTIVITY_RESTORED)],
     [("connectivity", DEV2, 10, 20, False, False), ("connectivity", DEV, 12, 15, False, False)]),
    # a VMFS heartbeat interval is about the datastore
    ([ev(1, se.HEARTBEAT_TIMEDOUT, None, datastore="ds1", volume="u"),
      ev(4, se.HEARTBEAT_RECOVERED, None, datastore="ds1", volume="u")],
     [("heartbeat", "ds1", 1, 4, False, False)]),
    # a permanent device loss is a point event, no interval
    ([ev(3, se.PERMANENT_LOSS)], []),
])
def test_intervals(events, want):
    got = se.intervals_of(events, T0, END)
    assert [(i.kind, i.subject, (i.start - T0).total_seconds(), (i.end - T0).total_seconds(),
             i.open, i.started_before) for i in got] == want


def test_apd_timeout_marks_the_apd_interval():
    (i,) = se.intervals_of([ev(0, se.APD_START), ev(140, se.APD_TIMEOUT), ev(150, se.APD_EXIT)],
                           T0, END)
    assert (i.kind, i.length, i.timed_out, i.open) == ("apd", 150.0, True, False)
    (j,) = se.intervals_of([ev(200, se.APD_TIMEOUT)], T0, END)  # the start was before the window
    assert (j.started_before, j.open, j.timed_out, j.length) == (True, True, True, 300.0)


def test_union_length_counts_overlaps_once():
    at = [(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)) for a, b in
          [(0, 10), (5, 20), (30, 35), (34, 36), (50, 50)]]
    assert se.union_length(at) == 26.0
    assert se.union_length([]) == 0.0


def test_pause_is_the_union_of_apd_and_connectivity_per_host():
    events = [ev(10, se.APD_START), ev(10, se.CONNECTIVITY_LOST), ev(30, se.APD_EXIT),
              ev(31, se.CONNECTIVITY_RESTORED),
              ev(20, se.APD_START, DEV2), ev(40, se.APD_EXIT, DEV2),  # overlaps: 10..40
              ev(0, se.REDUNDANCY_LOST), ev(100, se.REDUNDANCY_RESTORED),  # not a pause
              ev(50, se.APD_START, host="esx02")]  # open until the end: 250 s
    w = se.build_window(events, T0, END, hosts=["esx01", "esx02", "esx03"])
    assert [h.host for h in w.hosts] == ["esx01", "esx02", "esx03"]
    assert w.host("esx01").pause_seconds == 30.0
    assert w.host("esx02").pause_seconds == 250.0
    assert w.host("esx03").pause_seconds == 0.0 and w.host("esx03").events == ()
    assert w.host("esx01").counts()[se.APD_START] == 2
    assert len(w.events) == 9


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200),
                                           ("1d", 86400), (" 1.5h ", 5400)])
def test_parse_duration(text, seconds):
    assert se.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "-5m", "0", "5 weeks", "1w"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        se.parse_duration(text)


def test_findings_note_cleared_events_and_flag_losses_not_over():
    events = [ev(10, se.REDUNDANCY_DEGRADED), ev(20, se.REDUNDANCY_RESTORED),
              ev(10, se.APD_START, host="esx02"), ev(12, se.PERMANENT_LOSS, DEV2, host="esx03")]
    w = se.build_window(events, T0, END, hosts=["esx01", "esx02", "esx03", "esx04"])
    found = {f.host: f for f in se.storage_findings(w, "1h")}
    assert sorted(found) == ["esx01", "esx02", "esx03"]
    assert found["esx01"].severity == Severity.NOTE
    assert "2 storage event(s) in the last 1h" in found["esx01"].message
    assert found["esx02"].severity == Severity.DANGER and "apd on " + DEV in found["esx02"].message
    assert found["esx03"].severity == Severity.DANGER and "permanent device loss" in found["esx03"].message
    unread = se.storage_findings(se.StorageWindow(T0, END, error="NoPermission"))
    assert [(f.severity, f.code) for f in unread] == [(Severity.UNKNOWN, "storage-events-unread")]


def test_json_and_table_views():
    w = se.build_window([ev(10, se.APD_START), ev(30, se.APD_EXIT)], T0, END, hosts=["esx01"])
    h = se.host_json(w.host("esx01"))
    assert h["io_pause_seconds"] == 20.0
    assert h["storage_intervals"] == [{"kind": "apd", "subject": DEV,
                                       "start": "2026-11-29T03:00:10+00:00",
                                       "end": "2026-11-29T03:00:30+00:00", "length": 20.0,
                                       "open": False, "started_before": False, "timed_out": False}]
    assert [e["type"] for e in h["storage_events"]] == [se.APD_START, se.APD_EXIT]
    assert se.host_json(None) == {"storage_events": [], "storage_intervals": [], "io_pause_seconds": 0.0}
    lines = se.window_lines(w)
    assert lines[0].endswith(": 2 event(s)")
    assert any(f"interval apd {DEV}: 03:00:10 -> 03:00:30, 20.0s" in x for x in lines)


def test_report_renders_the_window_in_every_format():
    import json

    from esxpath.core.model import Report
    from esxpath.render.output import render
    from factory import compliant

    inv = compliant()
    names = [h.name for h in inv.hosts]
    w = se.build_window([ev(10, se.APD_START, host=names[1]), ev(25, se.APD_EXIT, host=names[1]),
                         ev(12, se.REDUNDANCY_LOST, host=names[1])], T0, END, hosts=names)
    rep = Report(command="audit", inventory=inv, storage=w,
                 findings=tuple(se.storage_findings(w, "5m")))
    doc = json.loads(render(rep, "json"))
    assert doc["storage"]["events"] == 3
    assert doc["storage"]["hosts"][names[1]]["io_pause_seconds"] == 15.0
    assert doc["storage"]["hosts"][names[0]]["storage_events"] == []
    prom = render(rep, "prometheus").splitlines()
    assert f'esxpath_storage_events_total{{host="{names[1]}",type="{se.APD_START}"}} 1' in prom
    assert f'esxpath_storage_io_pause_seconds{{host="{names[1]}"}} 15' in prom
    nagios = render(rep, "nagios")
    assert " storage_events=3 io_pause_max=15s" in nagios
    assert "I/O pause 15.0s" in render(rep, "table")
    # not read: no key, no metric, no perfdata (the cron audit's output stays as it was)
    plain = Report(command="audit", inventory=inv)
    assert "storage" not in json.loads(render(plain, "json"))
    assert "storage" not in render(plain, "prometheus") + render(plain, "nagios")


def clock(outcome):
    def server_time(session):
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
    return server_time


def test_a_failed_clock_read_is_a_window_with_the_error_and_an_interrupt_still_stops(monkeypatch):
    """Runtime's guard: the events are an addition, a failure of theirs never costs the report;
    an interrupt is not a failure of theirs. (The simulator tests drive it through the CLI.)"""
    from esxpath.app.session import Runtime
    from esxpath.errors import ConnectionFailed, Interrupted
    from esxpath.core.model import Inventory
    from esxpath.vsphere import events

    rt = Runtime(verbose=0)
    monkeypatch.setattr(rt, "session", lambda conn: object())
    monkeypatch.setattr(events, "server_time", clock(ConnectionFailed("vc: SystemError")))
    start = rt.events_start(None, back=60)
    assert isinstance(start, ConnectionFailed)
    w = rt.storage_events(None, Inventory(), start)
    assert (w.start, w.end, w.error) == (None, None, "vCenter's clock: vc: SystemError")
    assert se.window_json(w) == {"start": None, "end": None, "error": w.error, "events": 0}
    assert se.window_lines(w) == [f"vCenter storage events ? .. ? UTC: could not be read ({w.error})"]
    w = rt.storage_events(None, Inventory(), T0)  # the start was read, the end is not
    assert (w.start, w.end) == (T0, None) and w.error.startswith("vCenter's clock")
    w = rt.storage_events(None, Inventory(), back=60)
    assert (w.start, w.end) == (None, None) and w.error.startswith("vCenter's clock")
    monkeypatch.setattr(events, "server_time", clock(Interrupted("stopped", 15)))
    with pytest.raises(Interrupted):
        rt.events_start(None)
    with pytest.raises(Interrupted):
        rt.storage_events(None, Inventory(), T0)
    monkeypatch.setattr(events, "server_time", clock(END))
    assert rt.events_start(None, back=300) == T0
