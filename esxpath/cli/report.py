"""show and audit: read-only reports of the estate (audit for cron and monitoring)."""
from __future__ import annotations

import click

from ..app.profiles import Connection, Where
from ..app.san_inputs import SanInputs
from ..app.session import Runtime
from ..core.model import Report, Severity
from ..errors import UsageError
from .exit import emit, esxpath_command, fail, profile_labels
from .fanout import all_profiles_option, each_profile, refuse_san
from .groups import policy_options, san_options, scope_options, vcenter_options
from .options import Duration, OutputFile, output_options


@esxpath_command()
@vcenter_options
@scope_options
@all_profiles_option
@output_options()
@click.pass_obj
def show(rt: Runtime, conn: Connection, where: Where, all_profiles: bool, fmt: str):
    """Show policy and path counts per host and device (read-only)."""
    from ..app.audit import show as run_show
    from ..render.output import render
    report = each_profile(rt, "show", run_show) if all_profiles else run_show(rt, conn, where)
    emit(render(report, fmt))
    return report.status  # UNKNOWN when a host could not be read


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
    from ..app.audit import AuditOptions
    from ..app.audit import audit as run_audit
    from ..render.output import render
    wanted = parse_expect(expect)
    refuse_san(san.given, all_profiles)
    if since is not None and all_profiles:
        raise UsageError("--since reads one vCenter's events: not with --all-profiles")
    options = AuditOptions(policy, wanted, san.read if san.given else None, since)

    def one(rt: Runtime, conn: Connection, where: Where) -> Report:
        return run_audit(rt, conn, where, options)
    report = each_profile(rt, "audit", one) if all_profiles else one(rt, conn, where)
    if prom_file:  # a failed write is reported, and the exit code still says what the estate is
        from ..app.promfile import publish
        problem = publish(prom_file, render(report, "prometheus"), labels=profile_labels())
        if problem:
            fail(problem)
    if not (quiet and report.severity == Severity.OK):
        emit(render(report, fmt))
    return report.severity


COMMANDS = (show, audit)
