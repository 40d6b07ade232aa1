"""show and audit: read-only reports of the estate (audit for cron and monitoring)."""
from __future__ import annotations

import click

from ..errors import UsageError
from ..core.model import Expectation, Report, Severity
from ..app.profiles import Connection, Where
from ..app.san_inputs import SanInputs
from ..app.session import Runtime, require_devices
from .exit import emit, esxpath_command, fail, profile_labels
from .groups import policy_options, san_options, scope_options, vcenter_options
from .options import Duration, OutputFile, output_options
from .fanout import all_profiles_option, each_profile, refuse_san


@esxpath_command()
@vcenter_options
@scope_options
@all_profiles_option
@output_options()
@click.pass_obj
def show(rt: Runtime, conn: Connection, where: Where, all_profiles: bool, fmt: str):
    """Show policy and path counts per host and device (read-only)."""
    from ..render.output import render
    report = each_profile(rt, "show", _show) if all_profiles else _show(rt, conn, where)
    emit(render(report, fmt))
    return report.status  # UNKNOWN when a host could not be read


def _show(rt: Runtime, conn: Connection, where: Where) -> Report:
    inv = rt.read(conn, where)
    require_devices(inv, where.selector)
    return Report(command="show", inventory=inv, selector=where.selector)


def parse_expect(text: str | None) -> dict:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key not in ("ao", "ano") or not value.strip().isdigit():
            raise UsageError(f"--expect takes ao=N,ano=N, not {text!r}")
        out[key] = int(value)
    return out


def expectation(profile: Expectation, wanted: dict) -> Expectation:
    """--expect wins key by key: `--expect ao=2` keeps the profile's ano."""
    return Expectation(ao=wanted.get("ao", profile.ao), ano=wanted.get("ano", profile.ano))


@esxpath_command(monitoring=True)
@vcenter_options
@scope_options
@all_profiles_option
@policy_options
@output_options("table", "json", "nagios", "prometheus", aliases=("--format",))
@click.option("--prom-file", metavar="PATH", type=OutputFile(),
              help="Also write Prometheus metrics to PATH atomically (node_exporter textfile); "
                   "anything there but a regular file is refused (exit 78).")
@click.option("--expect", metavar="ao=N,ano=N", help="Exact path counts per device.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when all is well (for cron).")
@san_options
@click.option("--since", type=Duration(), default=None, metavar="DURATION",
              help="Also report the hosts' storage events (APD, connectivity, redundancy, VMFS "
                   "heartbeat, permanent device loss) of the last DURATION (e.g. 15m, 2h): one "
                   "finding per host, a note unless a loss is not over. Default: not read; "
                   "not with --all-profiles.")
@click.pass_obj
def audit(rt: Runtime, conn: Connection, where: Where, all_profiles: bool, policy, fmt: str,
          prom_file: str | None, expect: str | None, quiet: bool, san: SanInputs,
          since: float | None):
    """Read-only compliance check for cron and monitoring.

    \b
    Exit codes (Nagios): 0 compliant; 1 drift (policy or IOPS limit not as wanted, path counts
    asymmetric between hosts); 2 danger (no AO or no ANO path, a dead path, a LUN missing on a
    host, a host whose AO group is not the one most hosts see); 3 could not verify (host
    unreachable, esxcli failure, authentication).
    With --san/--san-cmd the SAN findings join (docs/san.md), also the peer not ready to take
    over (danger); a bad dump or a failed --san-cmd is 3 too.
    """
    from ..render.output import render
    from ..core.verify import audit as run_audit
    wanted = parse_expect(expect)
    refuse_san(san.given, all_profiles)
    if since is not None and all_profiles:
        raise UsageError("--since reads one vCenter's events: not with --all-profiles")

    def one(rt: Runtime, conn: Connection, where: Where) -> Report:
        exp = expectation(where.expect, wanted)
        dumps = san.read() if san.given else None
        inv = rt.read(conn, where)
        findings = run_audit(inv, where.selector, policy, exp)
        if dumps is not None:
            from ..san.check import findings as san_findings
            from ..core.verify import finish
            findings = finish([*findings, *san_findings(dumps.nodes, inv, where.selector,
                                                        dumps.now, dumps.max_age)])
        storage = None
        if since is not None:
            from ..core.storage_events import storage_findings
            storage = rt.storage_events(conn, inv, back=since)
            findings = (*findings, *storage_findings(storage, _since_text(since)))
        return Report(command="audit", inventory=inv, selector=where.selector,
                      findings=tuple(findings), storage=storage)
    report = each_profile(rt, "audit", one) if all_profiles else one(rt, conn, where)
    if prom_file:  # a failed write is reported, and the exit code still says what the estate is
        from ..app.promfile import publish
        problem = publish(prom_file, render(report, "prometheus"), labels=profile_labels())
        if problem:
            fail(problem)
    if not (quiet and report.severity == Severity.OK):
        emit(render(report, fmt))
    return report.severity


def _since_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


COMMANDS = (show, audit)
