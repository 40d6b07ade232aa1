"""esxpath watch's output: the timeline as the esxpath/timeline/1 JSON document or as the
table (timeline_text). Pure."""
from __future__ import annotations

from collections.abc import Mapping

from ..core.model import Inventory
from ..core.storage_events import StorageWindow, host_json, window_json
from ..core.timeline import Timeline, with_storage
from ..core.tpg_names import relabel
from .document import envelope, json_text
from .timeline_text import table


def timeline_dict(tl: Timeline, inventory: Inventory | None = None,
                  storage: StorageWindow | None = None, names: Mapping[int, str] | None = None,
                  ) -> dict:
    """The esxpath/timeline/1 JSON document (docs/json.md): the timeline per host. findings,
    plan and results are always empty: kept from when it shared the report's schema. With the
    storage events read: "storage" (the window) and per host storage_events,
    storage_intervals; io_pause_seconds is the longer of the samples' and vCenter's pause.
    names: {tpg: controller} (--node-tpg), as tpg_names and in the not_switched reasons."""
    tl = with_storage(tl, storage)
    names = names or {}
    last = {h.name: h for h in (inventory.hosts if inventory else ())}
    hosts = []
    for s in tl.hosts:
        h = last.get(s.host)
        hosts.append({
            "name": s.host,
            "datacenter": h.datacenter if h else None,
            "cluster": h.cluster if h else None,
            "connection_state": h.connection_state if h else None,
            "error": (h.error if h else None) or s.error,
            "old_ao": list(s.old_ao),
            "new_ao": list(s.new_ao),
            "ao_left_after": s.ao_left_after,
            "new_ao_after": s.new_ao_after,
            "dead_paths": list(s.dead_paths),
            "no_ao_at_end": list(s.no_ao_at_end),
            "unreadable_samples": s.unreadable_samples,
            "switched": s.switched,
            "not_switched": [relabel(why, names) for why in s.not_switched],
            "no_live_ao_seconds": s.no_live_ao_seconds,
            "vcenter_pause_seconds": s.vcenter_pause,
            "events": [{"t": e.t, "kind": e.kind, "device": e.device, "tpg_id": e.tpg_id,
                        "path": e.path, "before": e.before, "after": e.after}
                       for e in tl.host_events(s.host)],
        })
        if storage is not None:
            hosts[-1].update(host_json(storage.host(s.host)))
        hosts[-1]["io_pause_seconds"] = s.io_pause
    extra = {} if storage is None else {"storage": window_json(storage)}
    return envelope("timeline", "watch", tl.status, dry_run=False,
                    started=tl.started, duration=tl.duration, samples=tl.samples,
                    hosts=hosts, findings=[], plan=None, results=[],
                    tpg_names={str(g): n for g, n in sorted(names.items())},
                    timings={s.host: s.new_ao_after for s in tl.hosts}, **extra)


def render_timeline(tl: Timeline, fmt: str = "table", inventory: Inventory | None = None,
                    storage: StorageWindow | None = None,
                    names: Mapping[int, str] | None = None) -> str:
    if fmt == "json":
        return json_text(timeline_dict(tl, inventory, storage, names))
    return relabel(table(with_storage(tl, storage), storage), names or {})
