"""What the hosts felt: ESXi storage events that vCenter recorded in a window, as intervals.
Pure: no I/O (the adapter, vsphere/events.py, reads the events).

ESXi posts these as EventEx with an esx.* eventTypeId and positional arguments ("1", "2", ...);
ARGUMENTS says which argument is the device, the path, the datastore or the VMFS volume.

Intervals per host and subject (device, or datastore for the VMFS heartbeat):
  apd           esx.problem.storage.apd.start -> esx.clear.storage.apd.exit
  connectivity  esx.problem.storage.connectivity.lost -> esx.clear.storage.connectivity.restored
  heartbeat     esx.problem.vmfs.heartbeat.timedout -> esx.problem.vmfs.heartbeat.recovered
  redundancy    esx.problem.storage.redundancy.lost or .degraded -> esx.clear.storage.redundancy.restored
An interval whose end is not in the window ends at the window's end and is marked open; one
whose start is before the window starts at the window's start (started_before).

The "I/O pause seen by vCenter" of a host is the total length of the union of its apd and
connectivity intervals over all devices: the time during which at least one device of the host
had no path at all, by the hosts' own events. Redundancy and heartbeat intervals are reported
but not counted (I/O still flowed, or the heartbeat is a symptom of the same loss).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

APD_START = "esx.problem.storage.apd.start"
APD_TIMEOUT = "esx.problem.storage.apd.timeout"
APD_EXIT = "esx.clear.storage.apd.exit"
HEARTBEAT_TIMEDOUT = "esx.problem.vmfs.heartbeat.timedout"
HEARTBEAT_RECOVERED = "esx.problem.vmfs.heartbeat.recovered"
CONNECTIVITY_LOST = "esx.problem.storage.connectivity.lost"
CONNECTIVITY_RESTORED = "esx.clear.storage.connectivity.restored"
REDUNDANCY_LOST = "esx.problem.storage.redundancy.lost"
REDUNDANCY_DEGRADED = "esx.problem.storage.redundancy.degraded"
REDUNDANCY_RESTORED = "esx.clear.storage.redundancy.restored"
PERMANENT_LOSS = "esx.problem.scsi.device.state.permanentloss"

# The event type ids esxpath reads (the collector's eventTypeId filter).
STORAGE_EVENT_TYPES = (
    APD_START, APD_TIMEOUT, APD_EXIT, HEARTBEAT_TIMEDOUT, HEARTBEAT_RECOVERED,
    CONNECTIVITY_LOST, CONNECTIVITY_RESTORED, REDUNDANCY_LOST, REDUNDANCY_DEGRADED,
    REDUNDANCY_RESTORED, PERMANENT_LOSS,
)

# Which positional argument holds what, per type (vCenter's message formats for these events).
ARGUMENTS: dict[str, dict[str, str]] = {
    APD_START: {"device": "1"},
    APD_TIMEOUT: {"device": "1"},  # "2": seconds in APD
    APD_EXIT: {"device": "1"},
    HEARTBEAT_TIMEDOUT: {"volume": "1", "datastore": "2"},
    HEARTBEAT_RECOVERED: {"volume": "1", "datastore": "2"},
    CONNECTIVITY_LOST: {"device": "1", "path": "2", "datastore": "3"},
    CONNECTIVITY_RESTORED: {"device": "1", "datastore": "2", "path": "3"},
    REDUNDANCY_LOST: {"device": "1", "path": "2", "datastore": "3"},
    REDUNDANCY_DEGRADED: {"device": "1", "path": "2", "datastore": "3"},
    REDUNDANCY_RESTORED: {"device": "1", "datastore": "2", "path": "3"},
    PERMANENT_LOSS: {"device": "1", "datastore": "2"},
}

# kind -> (start types, end types)
_KINDS = {
    "apd": ((APD_START,), (APD_EXIT,)),
    "connectivity": ((CONNECTIVITY_LOST,), (CONNECTIVITY_RESTORED,)),
    "heartbeat": ((HEARTBEAT_TIMEDOUT,), (HEARTBEAT_RECOVERED,)),
    "redundancy": ((REDUNDANCY_LOST, REDUNDANCY_DEGRADED), (REDUNDANCY_RESTORED,)),
}
PAUSE_KINDS = ("apd", "connectivity")


@dataclass(frozen=True)
class StorageEvent:
    host: str
    time: datetime  # createdTime (vCenter's clock)
    type: str  # eventTypeId
    device: str | None = None
    datastore: str | None = None
    path: str | None = None
    volume: str | None = None
    message: str = ""

    @property
    def subject(self) -> str:
        """What an interval is about: the device, or the datastore (volume) of a heartbeat."""
        return self.device or self.datastore or self.volume or ""


def event_from_arguments(host: str, time: datetime, type_id: str, arguments: Mapping[str, Any],
                         message: str = "") -> StorageEvent:
    """A StorageEvent from an EventEx's positional arguments (missing ones stay None)."""
    names = ARGUMENTS.get(type_id, {})
    values = {name: (str(arguments[pos]).strip() or None) if pos in arguments else None
              for name, pos in names.items()}
    return StorageEvent(host=host, time=time, type=type_id, message=message, **values)


@dataclass(frozen=True)
class Interval:
    kind: str  # apd | connectivity | heartbeat | redundancy
    subject: str  # device, or datastore for heartbeat
    start: datetime
    end: datetime
    open: bool = False  # no end event in the window: ends at the window's end
    started_before: bool = False  # no start event in the window: starts at the window's start
    timed_out: bool = False  # apd: the APD timeout passed (I/O was fast-failed)

    @property
    def length(self) -> float:
        return round((self.end - self.start).total_seconds(), 3)


@dataclass(frozen=True)
class HostStorage:
    host: str
    events: tuple[StorageEvent, ...] = ()
    intervals: tuple[Interval, ...] = ()
    pause_seconds: float = 0.0  # union of apd and connectivity intervals

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(e.type for e in self.events).items()))


@dataclass(frozen=True)
class StorageWindow:
    start: datetime | None  # None: vCenter's clock could not be read (then error says so)
    end: datetime | None
    hosts: tuple[HostStorage, ...] = ()
    error: str | None = None  # the events could not be read (the rest of the report stands)
    pages: int = 0  # ReadNextEvents calls it took

    def host(self, name: str) -> HostStorage | None:
        return next((h for h in self.hosts if h.host == name), None)

    @property
    def events(self) -> tuple[StorageEvent, ...]:
        return tuple(e for h in self.hosts for e in h.events)


def union_length(spans: Iterable[tuple[datetime, datetime]]) -> float:
    """Seconds covered by at least one of the spans."""
    total = 0.0
    cur_start: datetime | None = None
    cur_end: datetime | None = None
    for s, e in sorted(spans):
        if cur_end is None or s > cur_end:
            if cur_start is not None and cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = s, e
        elif e > cur_end:
            cur_end = e
    if cur_start is not None and cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return round(total, 3)


def intervals_of(events: Iterable[StorageEvent], start: datetime, end: datetime) -> list[Interval]:
    """The intervals of one host's events (any order), cut to [start, end]."""
    ordered = sorted(events, key=lambda e: e.time)
    out: list[Interval] = []
    opened: dict[tuple[str, str], tuple[datetime, bool]] = {}  # (kind, subject) -> (start, before)
    timed_out: set[str] = set()
    for ev in ordered:
        if ev.type == APD_TIMEOUT:
            timed_out.add(ev.subject)
            if ("apd", ev.subject) not in opened:  # the APD started before the window
                opened[("apd", ev.subject)] = (start, True)
            continue
        for kind, (starts, ends) in _KINDS.items():
            key = (kind, ev.subject)
            if ev.type in starts and key not in opened:
                opened[key] = (max(ev.time, start), ev.time < start)
            elif ev.type in ends:
                s, before = opened.pop(key, (start, True))
                out.append(Interval(kind, ev.subject, s, min(max(ev.time, s), end),
                                    started_before=before,
                                    timed_out=kind == "apd" and ev.subject in timed_out))
                if kind == "apd":
                    timed_out.discard(ev.subject)
    for (kind, subject), (s, before) in opened.items():
        out.append(Interval(kind, subject, s, max(end, s), open=True, started_before=before,
                            timed_out=kind == "apd" and subject in timed_out))
    return sorted(out, key=lambda i: (i.start, i.kind, i.subject))


def build_window(events: Iterable[StorageEvent], start: datetime, end: datetime,
                 hosts: Iterable[str] = (), error: str | None = None,
                 pages: int = 0) -> StorageWindow:
    """Per host (those named first, in order, then any other host with events): its events in
    time order, its intervals and its I/O pause."""
    by_host: dict[str, list[StorageEvent]] = {h: [] for h in hosts}
    for ev in events:
        by_host.setdefault(ev.host, []).append(ev)
    out = []
    for name, evs in by_host.items():
        evs.sort(key=lambda e: (e.time, e.type, e.subject))
        ivs = intervals_of(evs, start, end)
        pause = union_length((i.start, i.end) for i in ivs if i.kind in PAUSE_KINDS)
        out.append(HostStorage(name, tuple(evs), tuple(ivs), pause))
    return StorageWindow(start, end, tuple(out), error=error, pages=pages)


# ---------------------------------------------------------------- durations (audit --since)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> float:
    """Seconds of "90", "90s", "15m", "2h", "1d"; ValueError otherwise."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 2h or 1d")
    seconds = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be more than 0")
    return seconds


# ---------------------------------------------------------------- views (JSON, table)

def _iso(t: datetime) -> str:
    return t.isoformat()


def _iso_or_none(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def event_json(e: StorageEvent) -> dict[str, Any]:
    return {"time": _iso(e.time), "type": e.type, "device": e.device, "datastore": e.datastore,
            "path": e.path, "volume": e.volume, "message": e.message}


def interval_json(i: Interval) -> dict[str, Any]:
    return {"kind": i.kind, "subject": i.subject, "start": _iso(i.start), "end": _iso(i.end),
            "length": i.length, "open": i.open, "started_before": i.started_before,
            "timed_out": i.timed_out}


def host_json(h: HostStorage | None) -> dict[str, Any]:
    """The per-host keys (docs/json.md): storage_events, storage_intervals, io_pause_seconds."""
    if h is None:
        return {"storage_events": [], "storage_intervals": [], "io_pause_seconds": 0.0}
    return {"storage_events": [event_json(e) for e in h.events],
            "storage_intervals": [interval_json(i) for i in h.intervals],
            "io_pause_seconds": h.pause_seconds}


def window_json(w: StorageWindow) -> dict[str, Any]:
    return {"start": _iso_or_none(w.start), "end": _iso_or_none(w.end), "error": w.error,
            "events": len(w.events)}


_SHORT = {APD_START: "APD start", APD_TIMEOUT: "APD timeout", APD_EXIT: "APD exit",
          HEARTBEAT_TIMEDOUT: "VMFS heartbeat timed out",
          HEARTBEAT_RECOVERED: "VMFS heartbeat recovered",
          CONNECTIVITY_LOST: "connectivity lost", CONNECTIVITY_RESTORED: "connectivity restored",
          REDUNDANCY_LOST: "redundancy lost", REDUNDANCY_DEGRADED: "redundancy degraded",
          REDUNDANCY_RESTORED: "redundancy restored", PERMANENT_LOSS: "permanent device loss"}


def interval_text(i: Interval) -> str:
    end = f"{i.end:%H:%M:%S} (open: not over at the window's end)" if i.open else f"{i.end:%H:%M:%S}"
    start = f"{i.start:%H:%M:%S}" + (" (before the window)" if i.started_before else "")
    extra = ", APD timeout passed" if i.timed_out else ""
    return f"{i.kind} {i.subject}: {start} -> {end}, {i.length:.1f}s{extra}"


def host_lines(h: HostStorage, indent: str = "  ") -> list[str]:
    """Table lines for one host: its pause, its intervals, its events."""
    if not h.events:
        return [f"{indent}vCenter storage events: none"]
    lines = [f"{indent}vCenter storage events: {len(h.events)}, I/O pause {h.pause_seconds:.1f}s"]
    lines += [f"{indent}  interval {interval_text(i)}" for i in h.intervals]
    for e in h.events:
        what = _SHORT.get(e.type, e.type)
        lines.append(f"{indent}  {e.time:%H:%M:%S}  {what} {e.subject}".rstrip())
    return lines


def window_lines(w: StorageWindow) -> list[str]:
    start = f"{w.start:%Y-%m-%d %H:%M:%S}" if w.start else "?"
    end = f"{w.end:%H:%M:%S}" if w.end else "?"
    head = f"vCenter storage events {start} .. {end} UTC"
    if w.error:
        return [f"{head}: could not be read ({w.error})"]
    lines = [f"{head}: {len(w.events)} event(s)"]
    for h in w.hosts:
        if h.events:
            lines.append(f"  {h.host}:")
            lines += host_lines(h, indent="    ")
    return lines


# ---------------------------------------------------------------- findings (audit --since)

def storage_findings(w: StorageWindow, since_text: str = "") -> list:
    """audit --since: one finding per host with storage events. A loss still open at the end
    (APD, connectivity, permanent device loss) is DANGER; anything else is a note (Severity.NOTE):
    it happened and cleared, worth knowing, not a reason to alert now."""
    from .model import Finding, Severity
    out = []
    if w.error:
        return [Finding(Severity.UNKNOWN, "storage-events-unread", None, None,
                        f"storage events could not be read: {w.error}")]
    for h in w.hosts:
        if not h.events:
            continue
        still = [i for i in h.intervals if i.open and i.kind in PAUSE_KINDS]
        pdl = sorted({e.subject for e in h.events if e.type == PERMANENT_LOSS})
        kinds = ", ".join(f"{n} {_SHORT.get(t, t)}" for t, n in h.counts().items())
        when = f" in the last {since_text}" if since_text else ""
        text = (f"{h.host}: {len(h.events)} storage event(s){when} ({kinds});"
                f" I/O pause seen by vCenter {h.pause_seconds:.1f}s")
        if still or pdl:
            what = [f"{i.kind} on {i.subject} since {i.start:%H:%M:%S}" for i in still]
            what += [f"permanent device loss of {d}" for d in pdl]
            out.append(Finding(Severity.DANGER, "storage-events", h.host, None,
                               f"{text}; not over: {'; '.join(what)}"))
        else:
            out.append(Finding(Severity.NOTE, "storage-events", h.host, None, text))
    return out
