"""The timeline as a table (esxpath watch). Pure: no I/O."""
from __future__ import annotations

from collections.abc import Iterable

from ..core.storage_events import StorageWindow, host_lines
from ..core.timeline import (
    DEVICE_GONE,
    DEVICE_NEW,
    HOST_READABLE,
    HOST_UNREADABLE,
    PATH_ALIVE,
    PATH_DEAD,
    PATH_GONE,
    PATH_NEW,
    TPG_STATE,
    Event,
    Timeline,
)


def _groups_text(ids: Iterable[int]) -> str:
    ids = list(ids)
    return ",".join(f"TPG {i}" for i in ids) if ids else "none"


def _secs(v: float | None) -> str:
    return "-" if v is None else f"+{v:.1f}s"


def _event_text(e: Event) -> str:
    if e.kind == TPG_STATE:
        return f"{e.device}: TPG {e.tpg_id} {e.before} -> {e.after}"
    if e.kind in (PATH_DEAD, PATH_ALIVE):
        word = "dead" if e.kind == PATH_DEAD else "alive"
        return f"{e.device}: path {e.path} (TPG {e.tpg_id}) {word} ({e.before} -> {e.after})"
    if e.kind == PATH_GONE:
        return f"{e.device}: path {e.path} gone"
    if e.kind == PATH_NEW:
        return f"{e.device}: path {e.path} new ({e.after})"
    if e.kind == DEVICE_GONE:
        return f"{e.device}: device gone"
    if e.kind == DEVICE_NEW:
        return f"{e.device}: device new"
    if e.kind == HOST_UNREADABLE:
        return f"host unreadable: {e.after}"
    if e.kind == HOST_READABLE:
        return "host readable again"
    return f"{e.kind} {e.device or ''}".strip()


def table(tl: Timeline, storage: StorageWindow | None = None) -> str:
    """The table of `watch`: per host its summary line, why it has not switched, its changes
    and vCenter's storage events (tl judged with them already: timeline.with_storage)."""
    lines = [f"watched {tl.duration:.1f}s, {tl.samples} samples"]
    if not tl.hosts or not tl.devices:
        lines.append("nothing in scope: no host or no in-scope device was seen (UNKNOWN)")
    for h in tl.hosts:
        if h.never_read:
            lines.append(f"{h.host}: never readable ({h.error or 'no data'})")
            continue
        if h.moved:
            head = (f"{h.host}: AO {_groups_text(h.old_ao)} -> {_groups_text(h.new_ao)};"
                    f" old AO left {_secs(h.ao_left_after)},"
                    f" new AO on all devices {_secs(h.new_ao_after)}")
        else:
            head = f"{h.host}: AO {_groups_text(h.old_ao)}, no switch seen"
        dead = f"{len(h.dead_paths)} dead path(s) seen" if h.dead_paths else "no dead path"
        if h.no_ao_at_end:
            dead += f"; NO AO group at the end on {', '.join(h.no_ao_at_end)}"
        extra = f", unreadable in {h.unreadable_samples} sample(s)" if h.unreadable_samples else ""
        lines.append(f"{head}; {dead}{extra}; I/O pause {h.io_pause:.1f}s")
        if not h.switched and (h.failed or tl.expects_switch):
            lines.append(f"  NOT switched: {'; '.join(h.not_switched)}")
        for e in tl.host_events(h.host):
            lines.append(f"  {_secs(e.t):>8}  {_event_text(e)}")
        if storage is not None and storage.error is None:
            hs = storage.host(h.host)
            if hs is not None:
                lines += host_lines(hs)
    if storage is not None and storage.error:
        lines.append(f"vCenter storage events could not be read: {storage.error}")
    return "\n".join(lines) + "\n"
