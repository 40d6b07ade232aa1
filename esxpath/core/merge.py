"""One report from the reports of several vCenters (--all-profiles). Pure.

Every host and finding is tagged with its profile (two vCenters may well have an esx-01 each;
a finding also names it in its message), a vCenter that could not be read becomes an UNKNOWN
finding naming the profile (it hides no other), and the status is the worst of all.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .model import Finding, Host, Inventory, Report, Selector, Severity

UNREACHABLE = "vcenter-unreachable"  # vCenter did not answer, or did not let us in
NOT_READ = "vcenter-not-read"  # any other reason: a scope matching nothing, a config, a bug


@dataclass(frozen=True)
class NotRead:
    """Why a profile's vCenter was not read, and the finding code that says it."""

    message: str
    code: str = NOT_READ


def tag(report: Report, vcenter: str) -> Report:
    """The report with every host and finding naming `vcenter`, and only the devices its own
    selector keeps (the merged report's selector is the union of all)."""
    hosts = tuple(replace(h, vcenter=vcenter,
                          devices=tuple(d for d in h.devices if report.selector.matches(d)))
                  for h in report.inventory.hosts)
    # the name in the message too: Nagios and the table show only the message
    findings = tuple(replace(f, vcenter=vcenter, message=f"{vcenter}: {f.message}")
                     for f in report.findings)
    return replace(report, inventory=Inventory(hosts), findings=findings)


def not_read(vcenter: str, why: NotRead) -> Finding:
    return Finding(Severity.UNKNOWN, why.code, None, None,
                   f"{vcenter}: vCenter not read: {why.message}", vcenter=vcenter)


def merge(command: str, runs: Sequence[tuple[str, Report | NotRead]]) -> Report:
    """runs: (profile, its report, or why it could not be read), in profile order."""
    hosts: list[Host] = []
    findings: list[Finding] = []
    timings: list[tuple[str, float | None]] = []
    targets: list[tuple[str, int | None]] = []
    waivers: list[str] = []
    globs: list[str] = []
    vendors: list[str] = []
    vcenters: list[tuple[str, str | None]] = []
    for name, run in runs:
        if isinstance(run, NotRead):
            findings.append(not_read(name, run))
            vcenters.append((name, run.message))
            continue
        vcenters.append((name, None))
        tagged = tag(run, name)
        hosts += tagged.inventory.hosts
        findings += tagged.findings
        timings += [(f"{name}/{h}", t) for h, t in run.timings]
        targets += [(f"{name}/{d}", t) for d, t in run.targets]
        waivers += [w for w in run.waivers if w not in waivers]
        globs += [g for g in run.selector.device_globs if g not in globs]
        vendors += [v for v in run.selector.vendors if v not in vendors]
    selector = Selector(tuple(globs), tuple(vendors)) if globs else Selector()
    return Report(command=command, inventory=Inventory(tuple(hosts)), selector=selector,
                  findings=tuple(findings), timings=tuple(timings), targets=tuple(targets),
                  waivers=tuple(waivers), vcenters=tuple(vcenters))
