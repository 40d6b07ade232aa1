"""render(report, fmt): the one output abstraction. Pure: returns text, prints nothing.

Table and JSON are views of the same Report (so they never drift); nagios and prometheus are
monitoring views of it. Only in-scope devices (report.selector) are shown anywhere.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.gate import ao_paths
from ..core.gate_after import ao_tpg
from ..core.model import BUCKETS, PSP_RR, Device, Finding, Host, Report, Severity
from ..core.plan import limit_text
from ..core.verify import group_ids
from .columns import align
from .document import envelope, json_text
from .output_apply import plan_lines, result_lines
from .summary import Kind, device_names, devices, findings_text, scope_text, severity_counts, summary, totals

FORMATS = ("table", "json", "nagios", "prometheus")


def render(report: Report, fmt: str = "table") -> str:
    try:
        fn = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}, choose one of {', '.join(FORMATS)}") from None
    return fn(report)


def render_error(message: str, fmt: str = "table", command: str = "audit") -> str:
    """A run that could not read anything (vCenter down, bad credentials) in the same formats:
    monitoring still gets a status line / status metric, JSON still a report document."""
    finding = Finding(Severity.UNKNOWN, "error", None, None, message)
    return render(Report(command=command, findings=(finding,)), fmt)


# ---------------------------------------------------------------- shared facts

def _tpg_rows(dev: Device) -> list[dict[str, Any]]:
    """Per group: its state, paths that can carry I/O now (live AO/ANO), dead paths, and the
    rest (alive but standby, unavailable or transitioning)."""
    counts = dev.tpg_counts()
    return [{"id": g, "state": dev.tpg_state(g).value,
             **{k: counts.get(g, {}).get(k, 0) for k in ("live", "dead", "other")}}
            for g in group_ids(dev)]


# ---------------------------------------------------------------- json

def _path_json(p) -> dict[str, Any]:
    return {"name": p.name, "runtime_name": p.runtime_name, "adapter": p.adapter,
            "state": p.state, "working": p.working, "tpg_id": p.tpg_id,
            "tpg_state": p.tpg_state.value}


def _device_json(d: Device) -> dict[str, Any]:
    pol = d.policy
    return {"name": d.canonical_name, "vendor": d.vendor, "model": d.model, "mpp": d.mpp,
            "operational_state": list(d.operational_state), "satp": pol.satp,
            "psp": pol.psp, "limit_type": pol.limit_type, "iops": pol.iops, "bytes": pol.bytes,
            "use_ano": pol.use_ano, "counts": d.counts(), "tpgs": _tpg_rows(d),
            "ao_tpg": ao_tpg(d), "ao_paths": ao_paths(d),
            "paths": [_path_json(p) for p in d.paths]}


def to_dict(report: Report) -> dict[str, Any]:
    """The documented JSON document (schema esxpath/report/1) as plain data."""
    return envelope(
        "report", report.command, report.status,
        dry_run=report.dry_run,
        hosts=[{"name": h.name, "datacenter": h.datacenter, "cluster": h.cluster,
                "connection_state": h.connection_state, "maintenance": h.maintenance,
                "error": h.error, **_vcenter_key(h),
                "devices": [_device_json(d) for d in devices(report, h)]}
               for h in report.inventory.hosts],
        findings=[{"severity": json_severity(f.severity), "code": f.code, "host": f.host,
                   "device": f.device, "message": f.message, **_vcenter_key(f)}
                  for f in report.findings],
        plan=None if report.plan is None else [
            {"host": c.host, "device": c.device, "kind": c.kind, "before": c.before,
             "after": c.after} for c in report.plan.changes],
        results=[{"host": r.change.host, "device": r.change.device, "kind": r.change.kind,
                  "ok": r.ok, "error": r.error, "confirmed": r.confirmed, "outcome": r.outcome}
                 for r in report.results],
        timings={h: t for h, t in report.timings},
        targets={d: t for d, t in report.targets},
        waivers=list(report.waivers),
        tpg_names={str(g): n for g, n in report.tpg_names},
        not_judged=list(report.not_judged),
        **({"vcenters": _vcenters_json(report)} if report.vcenters else {}),
        **_storage_json(report),
    )


def json_severity(severity: Severity) -> str:
    """A finding's severity in JSON: a note is "OK" there (docs/json.md: it changes neither
    status nor exit code), the table names it NOTE."""
    return Severity.OK.name if severity == Severity.NOTE else severity.name


def _vcenter_key(item: Host | Finding) -> dict[str, str]:
    """--all-profiles: hosts and findings name their vCenter's profile (absent otherwise)."""
    return {"vcenter": item.vcenter} if item.vcenter else {}


def _vcenters_json(report: Report) -> list[dict[str, Any]]:
    """--all-profiles: per profile, whether it was read, its status and host count."""
    out = []
    for name, error in report.vcenters:
        hosts = [h for h in report.inventory.hosts if h.vcenter == name]
        worst = max([Severity.OK, *(f.severity for f in report.findings if f.vcenter == name),
                     *(Severity.UNKNOWN for h in hosts if not h.verifiable)])
        out.append({"name": name, "status": worst.name, "error": error, "hosts": len(hosts)})
    return out


def _storage_json(report: Report) -> dict[str, Any]:
    """check --after-failover / audit --since: "storage" (the window) and per host its events,
    intervals and I/O pause (docs/json.md); nothing when the events were not read."""
    w = report.storage
    if w is None:
        return {}
    from ..core.storage_events import host_json, window_json
    return {"storage": {**window_json(w),
                        "hosts": {h.name: host_json(w.host(h.name)) for h in report.inventory.hosts}}}


def _json(report: Report) -> str:
    return json_text(to_dict(report))


# ---------------------------------------------------------------- table

def _tpg_text(dev: Device) -> str:
    parts = []
    for g in _tpg_rows(dev):
        other = f"+{g['other']}" if g["other"] else ""
        dead = f"+{g['dead']} dead" if g["dead"] else ""
        parts.append(f"{g['id']}={g['state']}:{g['live']}{other}{dead}")
    return " ".join(parts) or "-"


def _host_line(h: Host) -> str:
    where = "/".join(x for x in (h.datacenter, h.cluster or "standalone") if x)
    line = f"{h.name} ({where}) {h.connection_state}"
    if h.vcenter:
        line = f"{h.vcenter}: {line}"
    if h.maintenance:
        line += " (maintenance mode)"
    return f"{line}: ERROR {h.error}" if h.error else line


def _show_lines(report: Report) -> list[str]:
    out: list[str] = []
    head = ("DEVICE", "VENDOR/MODEL", "SATP", "PSP", "RR LIMIT", "AO", "ANO", "STBY", "UNAV",
            "DEAD", "TPGS")
    for h in report.inventory.hosts:
        out.append(_host_line(h))
        devs = devices(report, h)
        if not devs:
            out.append("  (no device in scope)")
            continue
        rows: list[tuple[str, ...]] = [head]
        for d in devs:
            c = d.counts()
            rr = limit_text(d.policy) if d.policy.psp == PSP_RR else "-"
            psp = d.policy.psp or "?" if d.managed else f"{d.mpp}, not managed"
            if not d.lun_ok:
                rr += f" LUN {','.join(d.operational_state)}"
            rows.append((d.canonical_name, f"{d.vendor}/{d.model}", d.policy.satp or "-",
                         psp, rr, *(str(c[b]) for b in BUCKETS), _tpg_text(d)))
        out.extend(align(rows, indent="  "))
    return out


def _finding_lines(report: Report) -> list[str]:
    return [f"{f.severity.name:<7} {f.message}"
            for f in report.findings]


def _timing_lines(report: Report) -> list[str]:
    return [f"  {h}: {'never' if t is None else f'{t:.1f}s'}" for h, t in report.timings]


def _table(report: Report) -> str:
    blocks: list[list[str]] = []
    if Kind.of(report) == Kind.SHOW:
        blocks.append(_show_lines(report))
    blocks += [plan_lines(report), result_lines(report), _finding_lines(report)]
    if report.timings:
        blocks.append(["Time until the new group was AO:", *_timing_lines(report)])
    if report.storage is not None:
        from ..core.storage_events import window_lines
        blocks.append(window_lines(report.storage))
    blocks.append([summary(report)])
    return "\n".join(line for b in blocks for line in b) + "\n"


# ---------------------------------------------------------------- nagios

_NAGIOS = {Severity.OK: "OK", Severity.DRIFT: "WARNING", Severity.DANGER: "CRITICAL",
           Severity.UNKNOWN: "UNKNOWN"}


def _one_line(text: str) -> str:
    # '|' starts perfdata for Nagios; a newline starts the long output
    return " ".join(text.replace("|", "/").split())


def _nagios(report: Report) -> str:
    status = report.status
    if status == Severity.OK:
        text = f"{scope_text(report)} compliant"
    else:
        worst = sorted(report.findings, key=lambda f: -int(f.severity))
        if len(worst) == 1 and not report.results:
            text = worst[0].message
        else:
            first = worst[0].message if worst else "a change failed"
            more = len(report.findings) - 1 if worst else 0
            text = f"{findings_text(report)}: {first}" + (f" (+{more} more)" if more > 0 else "")
    t = totals(report)
    perf: dict[str, int | str] = dict(t)
    perf["hosts"] = len(report.inventory.hosts)
    perf["unverifiable"] = sum(1 for h in report.inventory.hosts if not h.verifiable)
    perf["devices"] = len(device_names(report))
    if report.storage is not None and report.storage.error is None:
        perf["storage_events"] = len(report.storage.events)
        perf["io_pause_max"] = f"{max((h.pause_seconds for h in report.storage.hosts), default=0):g}s"
    perf_text = " ".join(f"{k}={v}" for k, v in perf.items())
    if not report.inventory.hosts:  # nothing read: zeros would be false data points in graphs
        return f"ESXPATH {_NAGIOS[status]} - {_one_line(text)}\n"
    return f"ESXPATH {_NAGIOS[status]} - {_one_line(text)} | {perf_text}\n"


# ---------------------------------------------------------------- prometheus

def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: Any) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{escape_label("" if v is None else str(v))}"' for k, v in labels.items())
    return "{" + inner + "}"


class _Metrics:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, help_text: str, samples: Iterable[tuple[dict, float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {'counter' if name.endswith('_total') else 'gauge'}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(**labels)} {value:g}")


def _path_samples(report: Report):
    for h in report.inventory.hosts:
        for d in devices(report, h):
            tpgs: dict[str, dict[str, int]] = {}
            for g in group_ids(d):
                tpgs[str(g)] = dict.fromkeys(BUCKETS, 0)
            for p in d.paths:
                key = "" if p.tpg_id is None else str(p.tpg_id)
                tpgs.setdefault(key, dict.fromkeys(BUCKETS, 0))[p.bucket] += 1
            for tpg, counts in tpgs.items():
                for state, n in counts.items():
                    yield {**_host_labels(h), "device": d.canonical_name, "tpg": tpg,
                           "state": state}, n


def _host_labels(h: Host) -> dict[str, str]:
    # --all-profiles: two vCenters may both have an esx-01
    return {"host": h.name, "vcenter": h.vcenter} if h.vcenter else {"host": h.name}


def _prometheus(report: Report) -> str:
    m = _Metrics()
    flagged = {(f.vcenter, f.host, f.device) for f in report.findings if f.severity > Severity.OK}
    hosts = report.inventory.hosts
    m.family("esxpath_audit_status",
             "Overall status: 0 ok, 1 drift, 2 danger, 3 unknown (Nagios order).",
             [({}, int(report.status))])
    m.family("esxpath_host_up", "1 if the host was connected and read completely.",
             [(_host_labels(h), int(h.verifiable)) for h in hosts])
    m.family("esxpath_findings", "Findings per severity.",
             [({"severity": s.name.lower()}, n) for s, n in severity_counts(report).items()])
    m.family("esxpath_paths",
             "Paths per host, device, ALUA target port group and state (dead: not live).",
             _path_samples(report))
    m.family("esxpath_device_compliant",
             "1 if the device on this host has no finding (policy, paths).",
             [({**_host_labels(h), "device": d.canonical_name},
               int((h.vcenter, h.name, d.canonical_name) not in flagged and h.verifiable))
              for h in hosts for d in devices(report, h)])
    m.family("esxpath_device_info", "Device identity and multipath policy, value always 1.",
             [({**_host_labels(h), "device": d.canonical_name, "vendor": d.vendor, "model": d.model,
                "satp": d.policy.satp or "", "psp": d.policy.psp or "",
                "rr_limit": limit_text(d.policy) if d.policy.psp == PSP_RR else ""}, 1)
              for h in hosts for d in devices(report, h)])
    if report.storage is not None and report.storage.error is None:
        hosts_w = report.storage.hosts
        m.family("esxpath_storage_events_total",
                 "ESXi storage events (esx.problem/clear.storage, vmfs heartbeat) per host and "
                 "event type in the window read (audit --since, check --after-failover).",
                 [({"host": h.host, "type": t}, n) for h in hosts_w for t, n in h.counts().items()])
        m.family("esxpath_storage_io_pause_seconds",
                 "Seconds in the window during which a device of the host had no path, by the "
                 "host's own APD and connectivity-lost events.",
                 [({"host": h.host}, h.pause_seconds) for h in hosts_w])
    return "\n".join(m.lines) + "\n"


_RENDERERS = {"table": _table, "json": _json, "nagios": _nagios, "prometheus": _prometheus}
