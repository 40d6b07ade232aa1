"""The summary line of a report: one per command kind, what a human or a monitoring system
needs first. Pure."""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from ..core.model import BUCKETS, Device, Host, Report, Severity
from .gate_text import check_summary
from .output_apply import changes_text, not_done


class Kind(Enum):
    """The command kinds whose reports read differently; any other command (audit, watch,
    san check, an error document) reads like an audit."""

    AUDIT = "audit"
    SHOW = "show"
    CHECK = "check"
    APPLY = "apply"

    @classmethod
    def of(cls, report: Report) -> Kind:
        try:
            return cls(report.command)
        except ValueError:
            return cls.AUDIT


def devices(report: Report, host: Host) -> list[Device]:
    """The host's devices in the report's scope: the only ones shown anywhere."""
    return [d for d in host.devices if report.selector.matches(d)]


def device_names(report: Report) -> set[str]:
    return {d.canonical_name for h in report.inventory.hosts for d in devices(report, h)}


def totals(report: Report) -> dict[str, int]:
    out = dict.fromkeys(BUCKETS, 0)
    for h in report.inventory.hosts:
        for d in devices(report, h):
            for k, v in d.counts().items():
                out[k] += v
    return out


def severity_counts(report: Report) -> dict[Severity, int]:
    out = dict.fromkeys((Severity.DANGER, Severity.DRIFT, Severity.UNKNOWN), 0)
    for f in report.findings:
        if f.severity in out:
            out[f.severity] += 1
    return out


def scope_text(report: Report) -> str:
    n_hosts, n_dev = len(report.inventory.hosts), len(device_names(report))
    return f"{n_hosts} host{'s' * (n_hosts != 1)}, {n_dev} device{'s' * (n_dev != 1)}"


def findings_text(report: Report) -> str:
    c = severity_counts(report)
    parts = [f"{n} {s.name.lower()}" for s, n in c.items() if n]
    return ", ".join(parts + [changes_text(n, o) for o, n in not_done(report).items() if n])


def summary(report: Report) -> str:
    """One line: what a human or a monitoring system needs first."""
    scope = scope_text(report)
    return _SUMMARIES[Kind.of(report)](report, scope, f"{findings_text(report)} ({scope})")


def _audit(report: Report, scope: str, trouble: str) -> str:
    if report.status == Severity.OK:
        return f"OK: {scope}, all compliant"
    return f"{report.status.name}: {trouble}"


def _show(report: Report, scope: str, trouble: str) -> str:
    if report.status == Severity.OK:
        return f"{scope} in scope"
    return _audit(report, scope, trouble)


def _apply(report: Report, scope: str, trouble: str) -> str:
    if report.plan is None:
        return _audit(report, scope, trouble)
    n = len(report.plan.changes)
    skipped = len(report.plan.skipped_hosts)
    if skipped and {f.code for f in report.findings} <= {"host-skipped"} and \
            all(r.ok for r in report.results):
        done = "planned" if report.dry_run or not report.results else "applied"
        return (f"UNKNOWN: {skipped} host{'s' * (skipped != 1)} could not be read and "
                f"{'were' if skipped != 1 else 'was'} left alone; {n} change"
                f"{'s' * (n != 1)} {done} elsewhere ({scope})")
    if report.status != Severity.OK:
        return f"{report.status.name}: {trouble}"
    if report.plan.empty:
        return f"OK: nothing to change ({scope})"
    if report.dry_run:
        return f"DRY RUN: {n} change{'s' * (n != 1)} planned, nothing written ({scope})"
    return f"OK: {n} change{'s' * (n != 1)} applied and verified ({scope})"


_SUMMARIES: dict[Kind, Callable[[Report, str, str], str]] = {
    Kind.AUDIT: _audit, Kind.SHOW: _show, Kind.CHECK: check_summary, Kind.APPLY: _apply}
