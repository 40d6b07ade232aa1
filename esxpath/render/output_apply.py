"""The table blocks of apply's report: the plan, and what became of each change. Pure."""
from __future__ import annotations

from ..core.model import Report

_LEFT = {"failed": "failed change{s}", "unknown": "change{s} unconfirmed (answer lost)",
         "not-written": "change{s} not written"}  # outcomes of changes not known done
_LABEL = {"failed": "FAILED", "unknown": "UNKNOWN", "not-written": "NOT WRITTEN", "applied": "applied",
          "confirmed": "applied (confirmed by reading back after the answer was lost)"}


def changes_text(n: int, outcome: str) -> str:
    return f"{n} {_LEFT[outcome].format(s='s' * (n != 1))}"


def not_done(report: Report) -> dict[str, int]:
    return {o: sum(1 for r in report.results if r.outcome == o) for o in _LEFT}


def plan_lines(report: Report) -> list[str]:
    plan = report.plan
    if plan is None:
        return []
    out: list[str] = []
    if plan.empty:
        out.append("Nothing to change on the hosts that could be read." if plan.skipped_hosts
                   else "Nothing to change: every in-scope device is compliant.")
    else:
        title = "Plan (dry run, nothing written)" if report.dry_run else "Plan"
        out.append(f"{title}: {len(plan.changes)} change{'s' * (len(plan.changes) != 1)}")
        for c in plan.changes:
            what = c.device if c.device else f"satp rule {dict(c.params).get('vendor', '')}".rstrip()
            out.append(f"  {c.host} {what}: {c.before} -> {c.after}")
    for name in plan.skipped_hosts:
        h = report.inventory.host(name)  # apply's re-read may read it: its finding says why
        why = ("not read" if h is None else "before the writes" if h.verifiable
               else h.error or h.connection_state)
        out.append(f"  {name}: skipped, cannot be read ({why})")
    return out


def result_lines(report: Report) -> list[str]:
    if not report.results:
        return []
    ok = sum(1 for r in report.results if r.ok)
    left = not_done(report)
    hosts = len({r.change.host for r in report.results})
    more = "".join(f", {changes_text(n, o)}" for o, n in left.items() if n and o != "failed")
    out = [f"Applied {ok} of {len(report.results)} changes on {hosts} host{'s' * (hosts != 1)},"
           f" {left['failed']} failed{more}"]
    cut_short = any(not r.ok for r in report.results)  # then name what landed too
    for r in sorted(report.results, key=lambda r: (not r.ok, not r.confirmed)):
        c = r.change
        if r.ok and (r.confirmed or cut_short):
            out.append(f"  {_LABEL[r.outcome]} {c.host} {c.device or 'satp rule'} {c.kind}")
        elif not r.ok:
            why = (r.error or "").removeprefix("unknown: ").removeprefix("not written: ")
            out.append(f"  {_LABEL[r.outcome]} {c.host} {c.device or 'satp rule'} {c.kind}: {why}")
    return out
