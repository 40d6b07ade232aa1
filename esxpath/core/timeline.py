"""What happened during a failover, from a series of inventory samples. Pure: no I/O.

`esxpath watch` polls the inventory every --interval seconds and hands the samples here. Events
say what changed between two samples (a target port group changed state, a path went dead or came
back, a host became unreadable); the per-host summary answers the questions an admin asks after
a controller failover: which group was AO before and after, when AO left the old group, how long
until the new group was AO on every device (the VM freeze in the seed article), which paths died.
Times are seconds since the first sample; they are only as exact as the polling interval.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .model import Device, Host, Inventory, Selector, Severity
from .storage_events import StorageWindow
from .switched import (
    SWITCHED,
    UNMOVED,
    DeviceSample,
    device_sample,
    longest_without_live_ao,
    storage_verdict,
    verdict,
)

# Event kinds
TPG_STATE = "tpg-state"
PATH_DEAD = "path-dead"
PATH_ALIVE = "path-alive"
PATH_GONE = "path-gone"
PATH_NEW = "path-new"
DEVICE_GONE = "device-gone"
DEVICE_NEW = "device-new"
HOST_UNREADABLE = "host-unreadable"
HOST_READABLE = "host-readable"


@dataclass(frozen=True)
class Event:
    t: float  # seconds since the first sample
    host: str
    kind: str
    device: str | None = None
    tpg_id: int | None = None
    path: str | None = None  # runtime name (vmhba2:C0:T0:L1), else the path name
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class HostSummary:
    host: str
    old_ao: tuple[int, ...] = ()  # AO group(s) in the first readable sample
    new_ao: tuple[int, ...] = ()  # AO group(s) in the last readable sample
    ao_left_after: float | None = None  # first time an old AO group was no longer AO
    # since when every device has been switched (switched.py); None: not switched at the end
    new_ao_after: float | None = None
    dead_paths: tuple[str, ...] = ()  # "<device> <path>" seen dead in any sample
    no_ao_at_end: tuple[str, ...] = ()  # devices without an AO group in the last sample
    unreadable_samples: int = 0
    readable_samples: int = 0
    error: str | None = None  # the last error while unreadable
    # per device of the last readable sample: (device, SWITCHED|UNMOVED|FAILED, why)
    verdicts: tuple[tuple[str, str, str], ...] = ()
    no_live_ao_seconds: float = 0.0  # longest time a device had no live AO path (samples)
    open_apd: tuple[str, ...] = ()  # devices with an APD/lost connectivity open (vCenter)
    vcenter_pause: float | None = None  # vCenter's I/O pause; None: events not read

    @property
    def never_read(self) -> bool:
        return self.readable_samples == 0

    @property
    def moved(self) -> bool:  # the AO group changed, by the groups' states alone
        return bool(self.new_ao) and self.new_ao != self.old_ao

    @property
    def switched(self) -> bool:
        return (bool(self.verdicts) and all(v == SWITCHED for _, v, _ in self.verdicts)
                and not self.open_apd)

    @property
    def unmoved(self) -> bool:
        """No switch seen, and nothing wrong: the first AO group still AO with live paths."""
        return (bool(self.verdicts) and all(v == UNMOVED for _, v, _ in self.verdicts)
                and not self.open_apd)

    @property
    def failed(self) -> bool:
        """Read, but neither switched nor untouched: a move not done, or no path to use."""
        return not self.never_read and bool(self.verdicts) and not (self.switched or self.unmoved)

    @property
    def not_switched(self) -> tuple[str, ...]:
        """Why the host has not switched, one reason a device; () when it has."""
        out = []
        for d, v, why in self.verdicts:
            said = [why] if v != SWITCHED else []
            said += ["APD open (vCenter)"] if d in self.open_apd else []
            out += [f"{d}: {', '.join(said)}"] if said else []
        return tuple(out)

    @property
    def io_pause(self) -> float:
        """The longer of the samples' longest stretch without a live AO path and vCenter's
        APD/connectivity time: either alone can miss it (a poll between two samples, a host
        whose events are late or not read)."""
        return max(self.no_live_ao_seconds, self.vcenter_pause or 0.0)


@dataclass(frozen=True)
class Timeline:
    started: float  # timestamp of the first sample (as given, e.g. time.time())
    duration: float  # last sample - first sample
    samples: int
    events: tuple[Event, ...] = ()
    hosts: tuple[HostSummary, ...] = ()
    devices: int = 0  # in-scope devices seen on any host in any sample
    until_switched: bool = False  # the watch waited for the switch: a host without it failed

    def host_events(self, host: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.host == host)

    @property
    def all_switched(self) -> bool:
        """Every host was read and has switched on all its devices (watch can stop)."""
        return bool(self.hosts) and all(h.switched for h in self.hosts)

    @property
    def expects_switch(self) -> bool:
        """A host without a switch is not done: the watch waited for one, or another moved."""
        return self.until_switched or any(h.moved for h in self.hosts)

    @property
    def status(self) -> Severity:
        """UNKNOWN: nothing in scope was seen, or a host was never readable. DANGER: a host
        neither switched nor untouched at the end (switched on some devices only, still on an
        old AO group too, fewer live AO paths, no usable AO path, an open APD), or not switched
        when a switch was expected. Dead paths alone are reported, not judged: a planned
        failover that stops SCST on the old master kills its paths on purpose."""
        if not self.hosts or not self.devices or any(h.never_read for h in self.hosts):
            return Severity.UNKNOWN
        if any(h.failed or self.expects_switch and not h.switched for h in self.hosts):
            return Severity.DANGER
        return Severity.OK


def with_storage(tl: Timeline, storage: StorageWindow | None) -> Timeline:
    """The timeline judged with vCenter's storage events of the window too (switched.py)."""
    if storage is None or storage.error is not None:  # the samples judge alone
        return tl
    return replace(tl, hosts=tuple(replace(h, **storage_verdict(storage, h.host, h.verdicts))
                                   for h in tl.hosts))


# ---------------------------------------------------------------- helpers

def _groups(dev: Device) -> list[int]:
    ids = {g.id for g in dev.tpgs} | {p.tpg_id for p in dev.paths if p.tpg_id is not None}
    return sorted(ids)


def _path_id(p) -> str:
    return p.runtime_name or p.name


def _devices(host: Host, selector: Selector) -> dict[str, Device]:
    return {d.canonical_name: d for d in host.devices if selector.matches(d)}


def _diff_device(t: float, host: str, before: Device, after: Device) -> list[Event]:
    out = []
    name = after.canonical_name
    for g in sorted(set(_groups(before)) | set(_groups(after))):
        s0, s1 = before.tpg_state(g), after.tpg_state(g)
        if s0 != s1:
            out.append(Event(t, host, TPG_STATE, name, tpg_id=g, before=s0.value, after=s1.value))
    old = {_path_id(p): p for p in before.paths}
    new = {_path_id(p): p for p in after.paths}
    for pid in sorted(set(old) | set(new)):
        p0, p1 = old.get(pid), new.get(pid)
        if p1 is None:
            assert p0 is not None  # pid came from one of the two
            out.append(Event(t, host, PATH_GONE, name, tpg_id=p0.tpg_id, path=pid, before=p0.state))
        elif p0 is None:
            out.append(Event(t, host, PATH_NEW, name, tpg_id=p1.tpg_id, path=pid, after=p1.state))
        elif p0.live != p1.live:
            kind = PATH_ALIVE if p1.live else PATH_DEAD
            out.append(Event(t, host, kind, name, tpg_id=p1.tpg_id, path=pid,
                             before=p0.state, after=p1.state))
    return out


def _dead(devices: dict[str, Device]) -> set[str]:
    return {f"{n} {_path_id(p)}" for n, d in devices.items() for p in d.paths if not p.live}


# ---------------------------------------------------------------- the one entry point

def build_timeline(samples: Sequence[tuple[float, Inventory]],
                   selector: Selector | None = None, until_switched: bool = False) -> Timeline:
    """Events and per-host summaries from (timestamp, Inventory) samples in time order.
    until_switched: the watch waited for every host to switch (a host without it is DANGER)."""
    selector = selector or Selector()
    if not samples:
        return Timeline(started=0.0, duration=0.0, samples=0, until_switched=until_switched)
    t0 = samples[0][0]
    events: list[Event] = []
    order: list[str] = []  # hosts in order of first appearance
    last: dict[str, dict[str, Device]] = {}  # last readable devices per host
    readable_before: dict[str, bool] = {}
    series: dict[str, list[tuple[float, dict[str, DeviceSample]]]] = {}  # per readable sample
    dead: dict[str, set[str]] = {}
    seen_devices: set[str] = set()
    unreadable: dict[str, int] = {}
    errors: dict[str, str | None] = {}

    for ts, inv in samples:
        t = round(ts - t0, 3)
        for host in inv.hosts:
            name = host.name
            if name not in readable_before:
                order.append(name)
                dead[name], unreadable[name], series[name] = set(), 0, []
            was = readable_before.get(name)
            if not host.verifiable:
                unreadable[name] += 1
                why = errors[name] = host.error or f"connection state {host.connection_state}"
                if was is not False:
                    events.append(Event(t, name, HOST_UNREADABLE, after=why))
                readable_before[name] = False
                continue
            if was is False:
                events.append(Event(t, name, HOST_READABLE))
            readable_before[name] = True
            devs = _devices(host, selector)
            prev = last.get(name)
            if prev is not None:
                for dname in sorted(set(prev) | set(devs)):
                    if dname not in devs:
                        events.append(Event(t, name, DEVICE_GONE, dname))
                    elif dname not in prev:
                        events.append(Event(t, name, DEVICE_NEW, dname))
                    else:
                        events += _diff_device(t, name, prev[dname], devs[dname])
            last[name] = devs
            seen_devices |= set(devs)
            dead[name] |= _dead(devs)
            series[name].append((t, {d: device_sample(dev) for d, dev in devs.items()}))

    hosts = tuple(_summary(h, series[h], dead[h], unreadable[h], errors.get(h)) for h in order)
    return Timeline(started=t0, duration=round(samples[-1][0] - t0, 3), samples=len(samples),
                    events=tuple(events), hosts=hosts, devices=len(seen_devices),
                    until_switched=until_switched)


Series = list[tuple[float, dict[str, DeviceSample]]]


def _summary(host: str, series: Series, dead: set[str], unreadable: int,
             error: str | None) -> HostSummary:
    if not series:
        return HostSummary(host, unreadable_samples=unreadable, error=error)
    firsts: dict[str, DeviceSample] = {}  # each device's first sample: what "before" was
    for _, devs in series:
        for d, s in devs.items():
            firsts.setdefault(d, s)
    first, final = series[0][1], series[-1][1]
    old = frozenset().union(*(s.ao for s in first.values()))
    new = frozenset().union(*(s.ao for s in final.values()))
    left = next((t for t, devs in series
                 if any(g not in devs[d].ao if d in devs else True
                        for d in first for g in first[d].ao)), None)
    verdicts = tuple((d, *verdict(firsts[d], s)) for d, s in sorted(final.items()))
    pause = max((longest_without_live_ao([(t, devs[d]) for t, devs in series if d in devs])
                 for d in firsts), default=0.0)
    return HostSummary(host, old_ao=tuple(sorted(old)), new_ao=tuple(sorted(new)),
                       no_ao_at_end=tuple(sorted(d for d, s in final.items() if not s.ao)),
                       ao_left_after=left, new_ao_after=_switched_since(series, firsts),
                       dead_paths=tuple(sorted(dead)), unreadable_samples=unreadable,
                       readable_samples=len(series), error=error if unreadable else None,
                       verdicts=verdicts, no_live_ao_seconds=pause)


def _switched_since(series: Series, firsts: dict[str, DeviceSample]) -> float | None:
    """The first sample of the last run in which every device had switched; None when the
    last sample is not one (a host that switched and lost its paths again has not)."""
    since = None
    for t, devs in reversed(series):
        if not devs or any(verdict(firsts[d], s)[0] != SWITCHED for d, s in devs.items()):
            break
        since = t
    return since
