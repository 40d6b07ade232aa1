"""The summary line of `check`, before and after the move (render.summary calls it). Pure."""
from __future__ import annotations

from ..core.model import Report, Severity
from ..core.tpg_names import label

# Report.not_judged entries and how the summary line names them
NOT_JUDGED = {"redundancy": "redundancy (no --baseline)",
              "storage-events": "All-Paths-Down/PDL (--no-events)"}


def _caveats(report: Report) -> str:
    out = ""
    if report.waivers:
        out += f"; rule lowered by {', '.join(report.waivers)}"
    if report.not_judged:
        out += "; not judged: " + ", ".join(NOT_JUDGED.get(k, k) for k in report.not_judged)
    return out


def check_summary(report: Report, scope: str, trouble: str) -> str:
    ok = report.status == Severity.OK
    names = dict(report.tpg_names)
    to = sorted({t for _, t in report.targets if t is not None})
    if report.timings:  # check --after-failover
        if ok:
            group = ", ".join(label(t, names) for t in to) or "the new group"
            return (f"FAILOVER COMPLETE: {group} is the only AO group, with live paths"
                    f" ({scope}){_caveats(report)}")
        return f"FAILOVER NOT COMPLETE: {trouble}{_caveats(report)}"
    if ok:
        group = f" to {', '.join(label(t, names) for t in to)}" if to else ""
        return f"SAFE to fail over{group}: {scope} verified{_caveats(report)}"
    return f"NOT SAFE to fail over: {trouble}"
