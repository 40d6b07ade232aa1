"""What `watch` calls switched, and how long a device had no path to use. Pure: no I/O.

A device has switched when, in a sample, a group that was not AO in its first sample is AO with
live AO paths, at least as many live AO paths as the device had in its first sample, and no
group of the first sample is still AO. All paths dead, an AO group without a live path, no AO
group at all are never "switched": the group states alone (what the array reports) say nothing
about whether the host can reach the group. A host has switched when every in-scope device has
and vCenter has no All-Paths-Down (or lost connectivity) open on any of them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Device, TpgState
from .storage_events import PAUSE_KINDS, StorageWindow

# a device's verdict against its first sample
SWITCHED = "switched"
UNMOVED = "unmoved"  # the first sample's AO group is still AO, nothing else is: no move seen
FAILED = "failed"  # a move that is not done, or a device without a usable AO path


@dataclass(frozen=True)
class DeviceSample:
    ao: frozenset[int]  # groups AO by the host's view of the group
    live_ao: tuple[tuple[int, int], ...]  # (AO group, its live AO paths)
    live: int  # live paths of any group

    def live_ao_paths(self, groups: Iterable[int] | None = None) -> int:
        wanted = None if groups is None else set(groups)
        return sum(n for g, n in self.live_ao if wanted is None or g in wanted)


def device_sample(dev: Device) -> DeviceSample:
    groups = {g.id for g in dev.tpgs} | {p.tpg_id for p in dev.paths if p.tpg_id is not None}
    ao = frozenset(g for g in groups if dev.tpg_state(g) == TpgState.AO)
    live_ao = tuple((g, sum(1 for p in dev.paths if p.tpg_id == g and p.live_in(TpgState.AO)))
                    for g in sorted(ao))
    return DeviceSample(ao, live_ao, sum(1 for p in dev.paths if p.live))


def _groups(ids: Iterable[int]) -> str:
    ids = sorted(ids)
    return ",".join(f"TPG {i}" for i in ids) if ids else "none"


def verdict(first: DeviceSample, now: DeviceSample) -> tuple[str, str]:
    """(SWITCHED | UNMOVED | FAILED, why in a few words)."""
    if now.live == 0:
        return FAILED, "all paths dead"
    if not now.ao:
        return FAILED, "no AO group"
    gained = {g for g, n in now.live_ao if g not in first.ao and n}
    dead_ao = sorted(g for g, n in now.live_ao if not n)
    if not gained:
        if dead_ao:
            return FAILED, f"{_groups(dead_ao)} AO without a live path"
        return UNMOVED, f"no switch: {_groups(now.ao)} still AO"
    still = now.ao & first.ao
    if still:
        return FAILED, f"{_groups(gained)} AO, but {_groups(still)} still AO too"
    before, after = first.live_ao_paths(), now.live_ao_paths(gained)
    if after < before:
        return FAILED, f"{_groups(gained)} AO with {after} live AO path(s), {before} before"
    return SWITCHED, f"{_groups(gained)} AO with {after} live AO path(s)"


def longest_without_live_ao(series: Sequence[tuple[float, DeviceSample]]) -> float:
    """Seconds of the longest stretch with no live AO path, from the first sample without one
    to the next sample with one (or the last sample): only as exact as the polling interval."""
    longest, since = 0.0, None
    for t, s in series:
        if s.live_ao_paths() == 0:
            since = t if since is None else since
        elif since is not None:
            longest, since = max(longest, t - since), None
    if since is not None and series:
        longest = max(longest, series[-1][0] - since)
    return round(longest, 3)


def storage_verdict(storage: StorageWindow, host: str,
                    verdicts: Iterable[tuple[str, str, str]]) -> dict:
    """What vCenter's events add to a host's summary: the in-scope devices with an APD or lost
    connectivity still open at the window's end (not switched), and vCenter's I/O pause."""
    hs = storage.host(host)
    devices = {d for d, _, _ in verdicts}
    still = sorted({i.subject for i in (hs.intervals if hs else ())
                    if i.open and i.kind in PAUSE_KINDS and i.subject in devices})
    return {"open_apd": tuple(still), "vcenter_pause": hs.pause_seconds if hs else 0.0}
